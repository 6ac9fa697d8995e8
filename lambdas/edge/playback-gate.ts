import { readFileSync } from 'node:fs';

/**
 * The playback gate's source (./playback-gate.js) with the deployment's settings filled in: what the CDK
 * app uploads as the media distribution's CloudFront Function and what the local /cdn/ runs, so both
 * check tokens with the very same code.
 */
export interface PlaybackGateSettings {
  /** Origins whose pages may play the media through MSE (CORS); `*` for any. */
  embedOrigins: readonly string[];
}

/** CloudFront Functions' code size limit. */
export const PLAYBACK_GATE_MAX_BYTES = 10 * 1024;

const SETTINGS_LINE = "const SETTINGS = { embedOrigins: ['*'] };";

export function playbackGateSource(settings: PlaybackGateSettings): string {
  const source = readFileSync(new URL('./playback-gate.js', import.meta.url), 'utf8');
  if (!source.includes(SETTINGS_LINE)) throw new Error('playback-gate.js lost its SETTINGS line');
  if (settings.embedOrigins.length === 0) throw new Error('embedOrigins: name at least one origin, or *');
  const filled = source.replace(
    SETTINGS_LINE,
    `const SETTINGS = ${JSON.stringify({ embedOrigins: settings.embedOrigins })};`,
  );
  if (Buffer.byteLength(filled) > PLAYBACK_GATE_MAX_BYTES) {
    throw new Error(`the playback gate is ${Buffer.byteLength(filled)} bytes; CloudFront allows 10 KB`);
  }
  return filled;
}
