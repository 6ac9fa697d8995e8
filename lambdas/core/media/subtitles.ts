/**
 * Caption files: a bounded WebVTT and SubRip (SRT) parser, and the one WebVTT we publish from it.
 *
 * Uploaded captions are hostile input that ends up inside every viewer's player, so nothing is passed
 * through: the file is parsed into cues (timings, a few validated cue settings, text), and a fresh WebVTT
 * is written from them. Cue text keeps only <b>, <i> and <u>; every other tag (voice spans, classes,
 * timestamps, anything unknown) is dropped and its text kept, and `<`, `>` and `&` are escaped, so
 * markup can never reach a page that renders cues. STYLE and REGION blocks (CSS) are dropped. Sizes,
 * cue counts and times are bounded, and a broken file fails with a reason that names the cue and line.
 */
export type CaptionFormat = 'vtt' | 'srt';

export interface Cue {
  /** Seconds. */
  start: number;
  end: number;
  /** Validated WebVTT cue settings, e.g. "align:start line:90%". */
  settings: string;
  /** Sanitized cue text, WebVTT-escaped, lines joined with \n. */
  text: string;
}

export type CaptionParse = { ok: true; cues: Cue[] } | { ok: false; reason: string };

export const CAPTION_LIMITS = {
  /** API.md: captions are at most 2 MiB. */
  maxBytes: 2 * 1024 * 1024,
  maxCues: 20_000,
  maxCueChars: 1_000,
  maxCueLines: 8,
  /** No cue may start more than this after the video's end. */
  endToleranceSeconds: 1,
} as const;

const fail = (reason: string): CaptionParse => ({ ok: false, reason });

export function parseCaptions(
  bytes: Uint8Array,
  format: CaptionFormat,
  options: { durationSeconds: number },
): CaptionParse {
  if (bytes.length === 0) return fail('the caption file is empty');
  if (bytes.length > CAPTION_LIMITS.maxBytes) {
    return fail(`the caption file is ${bytes.length} bytes; the limit is ${CAPTION_LIMITS.maxBytes}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('the caption file is not UTF-8 text: save it as UTF-8 and upload it again');
  }
  if (text.includes('\u0000')) return fail('the caption file contains NUL characters: it is not a text file');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const parsed = format === 'vtt' ? parseVtt(lines) : parseSrt(lines);
  if (!parsed.ok) return parsed;
  if (parsed.cues.length === 0)
    return fail(`no cues found: is this a ${format === 'vtt' ? 'WebVTT' : 'SRT'} file?`);
  const limit = options.durationSeconds + CAPTION_LIMITS.endToleranceSeconds;
  const late = parsed.cues.findIndex((cue) => cue.start > limit);
  if (late >= 0) {
    return fail(
      `cue ${late + 1} starts at ${timestamp(parsed.cues[late]!.start)}, after the video ends ` +
        `(${timestamp(options.durationSeconds)}): is this the caption file for this video?`,
    );
  }
  return parsed;
}

const TIMING = /^(\S+)\s+-->\s+(\S+)(.*)$/;

function parseVtt(lines: string[]): CaptionParse {
  if (!/^WEBVTT([ \t].*)?$/.test(lines[0] ?? '')) {
    return fail('not a WebVTT file: the first line must be "WEBVTT"');
  }
  const cues: Cue[] = [];
  let i = 1;
  // The header runs to the first blank line.
  while (i < lines.length && lines[i]!.trim() !== '') i++;
  while (i < lines.length) {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    if (i >= lines.length) break;
    const blockStart = i;
    const block: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') block.push(lines[i++]!);
    const first = block[0]!;
    if (/^(NOTE|STYLE|REGION)([ \t]|$)/.test(first)) continue;
    const timingAt = first.includes('-->') ? 0 : 1;
    const timing = block[timingAt];
    if (!timing?.includes('-->'))
      return fail(`line ${blockStart + 1}: expected a cue timing "start --> end"`);
    const cue = cueFrom(timing, block.slice(timingAt + 1), cues.length + 1, blockStart + timingAt + 1, 'vtt');
    if ('reason' in cue) return fail(cue.reason);
    if (cue.text) cues.push(cue);
    if (cues.length > CAPTION_LIMITS.maxCues) return fail(`more than ${CAPTION_LIMITS.maxCues} cues`);
  }
  return { ok: true, cues };
}

function parseSrt(lines: string[]): CaptionParse {
  const cues: Cue[] = [];
  let i = 0;
  while (i < lines.length) {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    if (i >= lines.length) break;
    const blockStart = i;
    const block: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') block.push(lines[i++]!);
    const timingAt = /^\d+$/.test(block[0]!.trim()) ? 1 : 0;
    const timing = block[timingAt];
    if (!timing?.includes('-->')) {
      return fail(`line ${blockStart + 1}: expected a cue number and then "00:00:01,000 --> 00:00:02,000"`);
    }
    const cue = cueFrom(timing, block.slice(timingAt + 1), cues.length + 1, blockStart + timingAt + 1, 'srt');
    if ('reason' in cue) return fail(cue.reason);
    if (cue.text) cues.push(cue);
    if (cues.length > CAPTION_LIMITS.maxCues) return fail(`more than ${CAPTION_LIMITS.maxCues} cues`);
  }
  return { ok: true, cues };
}

function cueFrom(
  timing: string,
  payload: string[],
  number: number,
  line: number,
  format: CaptionFormat,
): Cue | { reason: string } {
  const match = TIMING.exec(timing.trim());
  const start = match ? parseTime(match[1]!, format) : undefined;
  const end = match ? parseTime(match[2]!, format) : undefined;
  if (start === undefined || end === undefined) {
    return {
      reason: `line ${line}: "${clip(timing)}" is not a cue timing like 00:01:02${format === 'srt' ? ',' : '.'}500`,
    };
  }
  if (end <= start) return { reason: `cue ${number} (line ${line}) ends before it starts: ${clip(timing)}` };
  if (payload.length > CAPTION_LIMITS.maxCueLines) {
    return {
      reason: `cue ${number} (line ${line}) has ${payload.length} lines; at most ${CAPTION_LIMITS.maxCueLines}`,
    };
  }
  // A line that sanitizes to nothing (only dropped tags) would end the cue early in every player.
  const text = payload
    .map(sanitizeLine)
    .filter((l) => l.trim() !== '')
    .join('\n')
    .trim();
  if (text.length > CAPTION_LIMITS.maxCueChars) {
    return {
      reason: `cue ${number} (line ${line}) has ${text.length} characters; at most ${CAPTION_LIMITS.maxCueChars}`,
    };
  }
  return { start, end, settings: format === 'vtt' ? cueSettings(match![3]!) : '', text };
}

/** `[hh:]mm:ss.mmm` (WebVTT) or `hh:mm:ss,mmm` (SRT, '.' tolerated); at most 24 h. */
function parseTime(value: string, format: CaptionFormat): number | undefined {
  const pattern =
    format === 'vtt'
      ? /^(?:(\d{1,2}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/
      : /^(\d{1,2}):([0-5]\d):([0-5]\d)[,.](\d{3})$/;
  const m = pattern.exec(value);
  if (!m) return undefined;
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
  return seconds <= 24 * 3600 ? seconds : undefined;
}

const SETTING_PATTERNS: Record<string, RegExp> = {
  align: /^(start|center|end|left|right)$/,
  line: /^(-?\d{1,3}|\d{1,3}(\.\d{1,3})?%)(,(start|center|end))?$/,
  position: /^\d{1,3}(\.\d{1,3})?%(,(line-left|center|line-right))?$/,
  size: /^\d{1,3}(\.\d{1,3})?%$/,
  vertical: /^(rl|lr)$/,
};

function cueSettings(raw: string): string {
  return raw
    .trim()
    .split(/[ \t]+/)
    .filter(Boolean)
    .filter((setting) => {
      const [name = '', value = '', ...rest] = setting.split(':');
      return rest.length === 0 && SETTING_PATTERNS[name]?.test(value) === true;
    })
    .join(' ');
}

const KEPT_TAGS = new Set(['b', 'i', 'u']);

/**
 * One line of cue text: tags other than <b>, <i>, <u> dropped (their text kept), every other `<` and `>`
 * escaped, and `&` escaped unless it starts one of WebVTT's entities; kept tags are closed where they open.
 */
function sanitizeLine(decoded: string): string {
  let out = '';
  const open: string[] = [];
  const tag = /<(\/?)([a-zA-Z]+)?[^<>]*>|<\d{2}:[\d:.]+>/g;
  let last = 0;
  for (let match = tag.exec(decoded); match; match = tag.exec(decoded)) {
    out += escapeText(decoded.slice(last, match.index));
    last = tag.lastIndex;
    const name = match[2]?.toLowerCase();
    if (!name || !KEPT_TAGS.has(name)) continue;
    if (match[1]) {
      if (open.at(-1) === name) {
        open.pop();
        out += `</${name}>`;
      }
    } else {
      open.push(name);
      out += `<${name}>`;
    }
  }
  out += escapeText(decoded.slice(last));
  while (open.length > 0) out += `</${open.pop()}>`;
  return out.replaceAll('-->', '--&gt;');
}

const escapeText = (text: string) =>
  text
    .replace(/&(?!(amp|lt|gt|nbsp|lrm|rlm);)/g, '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

/** The WebVTT we publish: a clean header and the sanitized cues, in order of start time. */
export function toWebVtt(cues: readonly Cue[]): string {
  const sorted = [...cues].sort((a, b) => a.start - b.start || a.end - b.end);
  const body = sorted.map((cue) => {
    const timing = `${timestamp(cue.start)} --> ${timestamp(cue.end)}${cue.settings ? ` ${cue.settings}` : ''}`;
    return `${timing}\n${cue.text}\n`;
  });
  return ['WEBVTT', '', ...body].join('\n');
}

/** Seconds as a WebVTT timestamp, hh:mm:ss.mmm. */
export function timestamp(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

function clip(value: string): string {
  const single = value.replace(/\s+/g, ' ').trim();
  return single.length > 60 ? `${single.slice(0, 57)}...` : single;
}
