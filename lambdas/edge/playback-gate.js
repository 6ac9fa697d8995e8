import cf from 'cloudfront';
import crypto from 'crypto';

// VideoCloud's playback gate: a CloudFront Function (cloudfront-js-2.0, viewer request) in front of the
// media bucket, and the same source run by the local runtime's /cdn/ (local/cloudfront-function.ts).
//
// Every media URL carries its access in the path: /t/<kid>.<epoch>.<exp>.<sig>/videos/<id>/<file>.
// Relative URIs in playlists inherit the token, so any HLS client reaches every playlist, segment,
// poster and track of that one video with plain URI resolution. The gate:
//   1. decodes and normalises the path (dot segments, double encoding, stray characters) BEFORE
//      it reads the video id, so no encoded trick names another video or leaves videos/;
//   2. checks the HMAC-SHA256 of "vc1:<kid>:<video id>:<epoch>:<exp>" with key <kid> from the
//      KeyValueStore (key:<kid>), and the expiry (0 = none, for public and unlisted videos);
//   3. refuses tokens older than the video's revocation epoch (rev:<video id>), written when a video
//      is made private or deleted; a revocation it cannot read counts as one (503, fail closed);
//   4. strips the token, so the origin request and the cache key are the plain object path.
// The syntax is the subset runtime 2.0 documents (no for-of, classes, destructuring, spread, ?., ??);
// test/unit/playback-gate.test.ts checks it, and the 10 KB size limit.

const SETTINGS = { embedOrigins: ['*'] };

const TOKEN = /^\/t\/([a-z0-9]{1,16})\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})(\/[^?#]*)$/;
const VIDEO_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MAX_DEPTH = 6;

async function handler(event) {
  const request = event.request;
  if (request.method === 'OPTIONS') return preflight(request);
  const match = TOKEN.exec(request.uri);
  if (!match) return deny(request, 403, 'This media needs a playback URL from the VideoCloud API.');
  const path = normalise(match[5]);
  if (!path) return deny(request, 400, 'Malformed media path.');
  const parts = path.split('/');
  if (parts.length < 4 || parts.length > MAX_DEPTH + 3 || parts[1] !== 'videos' || !VIDEO_ID.test(parts[2])) {
    return deny(request, 403, 'The playback URL does not cover this path.');
  }
  for (let i = 3; i < parts.length; i++) {
    if (!NAME.test(parts[i])) return deny(request, 400, 'Malformed media path.');
  }
  const kid = match[1];
  const epoch = Number(match[2]);
  const expires = Number(match[3]);
  if (expires !== 0 && Date.now() / 1000 >= expires) {
    return deny(request, 403, 'The playback URL has expired: ask the API for a new one.');
  }
  const key = await lookup(`key:${kid}`);
  if (!key) return deny(request, 403, 'The playback URL was signed with an unknown key.');
  const expected = crypto
    .createHmac('sha256', key)
    .update(`vc1:${kid}:${parts[2]}:${match[2]}:${match[3]}`)
    .digest('base64url');
  if (!sameText(expected, match[4])) return deny(request, 403, 'The playback URL does not cover this path.');
  let revoked;
  try {
    revoked = await revocationEpoch(parts[2]);
  } catch (e) {
    // A revocation the gate cannot read counts as one: fail closed, and say it is worth retrying.
    return deny(request, 503, 'The playback URL could not be checked just now; try again.');
  }
  if (epoch < revoked) {
    return deny(request, 403, 'The playback URL was revoked: the video was made private or deleted.');
  }
  request.uri = path;
  request.querystring = {};
  return request;
}

// Percent-decodes once, refuses what is still encoded or not a plain path, resolves "." and "..".
// Returns the canonical path ("/videos/<id>/...") or null.
function normalise(raw) {
  let decoded;
  try {
    decoded = decodeURIComponent(raw);
  } catch (e) {
    return null;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[%\\\u0000-\u001f\u007f]/.test(decoded)) return null;
  const input = decoded.split('/');
  const output = [];
  for (let i = 1; i < input.length; i++) {
    const segment = input[i];
    if (segment === '' || segment === '.') return null;
    if (segment === '..') {
      if (output.length === 0) return null;
      output.pop();
    } else {
      output.push(segment);
    }
  }
  return output.length === 0 ? null : `/${output.join('/')}`;
}

// The video's revocation epoch, 0 when it was never revoked; throws when the store cannot answer.
async function revocationEpoch(videoId) {
  const kvs = cf.kvs();
  if (!(await kvs.exists(`rev:${videoId}`))) return 0;
  return Number(await kvs.get(`rev:${videoId}`));
}

async function lookup(name) {
  try {
    return await cf.kvs().get(name);
  } catch (e) {
    return null;
  }
}

function sameText(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function allowedOrigin(request) {
  if (SETTINGS.embedOrigins.indexOf('*') !== -1) return '*';
  const header = request.headers.origin;
  return header && SETTINGS.embedOrigins.indexOf(header.value) !== -1 ? header.value : null;
}

function corsHeaders(request) {
  const headers = { vary: { value: 'Origin' } };
  const origin = allowedOrigin(request);
  if (origin) headers['access-control-allow-origin'] = { value: origin };
  return headers;
}

function preflight(request) {
  const headers = corsHeaders(request);
  headers['access-control-allow-methods'] = { value: 'GET, HEAD, OPTIONS' };
  headers['access-control-allow-headers'] = { value: 'Range' };
  headers['access-control-max-age'] = { value: '600' };
  return { statusCode: 204, statusDescription: 'No Content', headers: headers };
}

function deny(request, status, message) {
  const headers = corsHeaders(request);
  headers['content-type'] = { value: 'text/plain; charset=utf-8' };
  headers['cache-control'] = { value: 'no-store' };
  headers['x-content-type-options'] = { value: 'nosniff' };
  return {
    statusCode: status,
    statusDescription: status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : 'Forbidden',
    headers: headers,
    body: { encoding: 'text', data: message },
  };
}
