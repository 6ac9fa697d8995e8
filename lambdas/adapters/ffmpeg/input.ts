/**
 * What ffmpeg may open. Only the demuxers we accept may run (`-format_whitelist`), and the transcoder forces
 * the one the probe found, so a playlist, concat script or AVI-with-GAB2 never reaches a demuxer that opens
 * other files; only the protocols the input needs may be opened (`-protocol_whitelist`), nested opens
 * included; an http input must be a loopback IP literal: ffmpeg never resolves a hostname (the npm static
 * builds segfault in getaddrinfo), it reads storage through a loopback object fence (object-fence.ts);
 * decoders may not allocate a picture larger than the limits admit (`-max_pixels`).
 */
import path from 'node:path';
import { MediaToolError } from '#core/media/errors.ts';
import { DEMUXER_WHITELIST, MAX_SOURCE_PIXELS } from '#core/media/probe.ts';

export interface SourceInput {
  /** What ffmpeg opens: `file:/abs/path` or a loopback http URL. */
  url: string;
  protocols: string;
  /** Strings to keep out of error messages and logs. */
  redact: string[];
  /** Set for inputs read from storage: the first storage error met while serving them. */
  storageFailure?: () => Error | undefined;
}

/** Where an http input may point: ffmpeg connects to an IP literal on this machine and resolves nothing. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** A stored object behind a loopback fence (object-fence.ts), or a local path. */
export interface MediaInput {
  url: string;
  redact?: readonly string[];
  storageFailure?: () => Error | undefined;
}

/**
 * A local path is opened through `file:` explicitly, so a name like "concat:a|b" or "subfile:..." can never
 * select a protocol. A URL input must be plain http to a loopback IP literal (an object fence): only
 * `http` and `tcp` are opened, never `file`, and no name is ever looked up.
 */
export function sourceInput(input: string | MediaInput): SourceInput {
  const { url: raw, redact = [], storageFailure } = typeof input === 'string' ? { url: input } : input;
  if (/^https?:\/\//i.test(raw)) {
    const url = new URL(raw);
    if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new MediaToolError(
        `refusing to let ffmpeg open ${url.protocol}//${url.hostname}: it reads storage through a loopback ` +
          'object fence (lambdas/adapters/object-fence.ts) and never resolves a hostname',
      );
    }
    return {
      url: url.href,
      protocols: 'http,tcp',
      redact: [...redact, raw, url.href, url.pathname, url.search].filter((s) => s && s !== '/'),
      storageFailure,
    };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    throw new MediaToolError(
      `unsupported input scheme: ${raw.split(':')[0]} (expected a path or a loopback http URL)`,
    );
  }
  const absolute = path.resolve(raw);
  return { url: `file:${absolute}`, protocols: 'file', redact: [...redact, absolute, raw], storageFailure };
}

/** Options that go before every `-i`: what may be opened and parsed, and how large a picture may be. */
/** What every ffmpeg run starts with: no banner, no prompt, no progress, errors only, outputs overwritten. */
export const QUIET_FFMPEG = ['-hide_banner', '-nostdin', '-nostats', '-v', 'error', '-y'] as const;

export function guardArgs(src: SourceInput): string[] {
  return [
    '-protocol_whitelist',
    src.protocols,
    '-format_whitelist',
    DEMUXER_WHITELIST.join(','),
    '-max_pixels',
    `${MAX_SOURCE_PIXELS}`,
  ];
}

/**
 * Storage failed while ffmpeg read through the fence: whatever ffmpeg made of the bytes it got (an error,
 * or "success" on a cut-short file), the run says nothing about the file. Checked after every run.
 */
export function throwIfStorageFailed(src: SourceInput): void {
  const storage = src.storageFailure?.();
  if (storage) throw new MediaToolError(`could not read the source from storage: ${storage.message}`);
}
