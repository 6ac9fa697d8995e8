import type { HlsConfig, LoaderCallbacks, LoaderConfiguration, LoaderContext } from 'hls.js';
import type { Video } from './api.ts';
import { h } from './dom.ts';

/**
 * Plays a ready video's HLS. Playback URLs are CloudFront-signed with a custom policy covering the
 * video's whole folder (`videos/{id}/*`), carried in the master URL's query (Policy, Signature,
 * Key-Pair-Id). Variant playlists and segments are referenced relatively, and resolving a relative URL
 * drops the query, so the loader below puts the master's query back on every request under the same
 * folder. hls.js is used wherever Media Source Extensions exist (it is the only way to add that query);
 * native HLS (older iPhones) is the last resort: it cannot add the query to child requests, and the CDN
 * signs every video, so there it plays only where the CDN is told to accept signed cookies (not yet).
 */
export interface PlayerHandle {
  element: HTMLElement;
  destroy(): void;
}

/** Appends `signedUrl`'s query to `url` when `url` is under the same folder and carries no signature. */
export function withSignature(url: string, signedUrl: string): string {
  const signed = new URL(signedUrl);
  if (!signed.search) return url;
  const target = new URL(url, signed);
  const folder = signed.pathname.slice(0, signed.pathname.lastIndexOf('/') + 1);
  if (target.origin !== signed.origin || !target.pathname.startsWith(folder)) return url;
  if (target.searchParams.has('Signature')) return url;
  for (const [name, value] of signed.searchParams) target.searchParams.set(name, value);
  return target.toString();
}

export function createPlayer(video: Video, onError: (message: string) => void): PlayerHandle {
  const playback = video.playback!;
  const media = h('video', {
    controls: true,
    playsinline: true,
    preload: 'metadata',
    poster: playback.poster,
    'aria-label': `Video: ${video.title}`,
    width: video.width ?? undefined,
    height: video.height ?? undefined,
  });
  const quality = h('select', { id: 'quality', disabled: true }, h('option', { value: '-1' }, 'Auto'));
  const qualityField = h(
    'div',
    { class: 'field inline' },
    h('label', { for: 'quality' }, 'Quality'),
    quality,
  );
  const element = h('div', { class: 'player' }, media, qualityField);
  let destroyed = false;
  let destroyHls: (() => void) | undefined;

  void (async () => {
    const { default: Hls } = await import('hls.js/light');
    if (destroyed) return;
    if (!Hls.isSupported()) {
      if (media.canPlayType('application/vnd.apple.mpegurl')) {
        media.src = playback.hls;
        qualityField.hidden = true;
        return;
      }
      onError('This browser cannot play HLS video.');
      return;
    }
    const Base = Hls.DefaultConfig.loader;
    class SignedLoader extends Base {
      override load(
        context: LoaderContext,
        config: LoaderConfiguration,
        callbacks: LoaderCallbacks<LoaderContext>,
      ): void {
        context.url = withSignature(context.url, playback.hls);
        super.load(context, config, callbacks);
      }
    }
    const hls = new Hls({
      loader: SignedLoader as unknown as HlsConfig['loader'],
      capLevelToPlayerSize: true,
    });
    destroyHls = () => hls.destroy();
    hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
      quality.replaceChildren(h('option', { value: '-1' }, 'Auto'));
      data.levels.forEach((level, index) => {
        const label = level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kbps`;
        quality.append(h('option', { value: String(index) }, label));
      });
      quality.disabled = data.levels.length < 2;
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        const status = data.response?.code;
        onError(
          status === 403
            ? 'The playback link has expired. Reload the page to get a fresh one.'
            : 'The video could not be loaded. Check your connection and try again.',
        );
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else {
        onError('The video cannot be played.');
      }
    });
    quality.addEventListener('change', () => {
      hls.currentLevel = Number(quality.value);
    });
    hls.loadSource(playback.hls);
    hls.attachMedia(media);
  })().catch(() => onError('The player could not be loaded.'));

  return {
    element,
    destroy() {
      destroyed = true;
      destroyHls?.();
      media.removeAttribute('src');
      media.load();
    },
  };
}
