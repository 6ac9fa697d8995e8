import type { Video } from './api.ts';
import { h } from './dom.ts';
import { storyboardScrubber } from './storyboard.ts';

/**
 * Plays a ready video's HLS with nothing but `playback.hls`, as any player would: its access travels in
 * the URL path (`/t/<token>/videos/<id>/...`), so variant playlists and segments resolved relatively
 * carry it too. hls.js with its default loader plays it wherever Media Source Extensions exist; where they
 * do not (older iPhones), the browser's native HLS does, from the same URL.
 */
export interface PlayerHandle {
  element: HTMLElement;
  destroy(): void;
}

const PLAYBACK_FAILED = 'The video could not be loaded. Check your connection and try again.';

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

  // Hover previews on a scrub bar under the video, once the storyboard exists (null until it is made).
  if (playback.storyboard && video.durationSeconds) {
    void storyboardScrubber(media, playback.storyboard, video.durationSeconds)
      .then((scrubber) => {
        if (scrubber && !destroyed) media.after(scrubber);
      })
      .catch(() => undefined);
  }

  void (async () => {
    const { default: Hls } = await import('hls.js/light');
    if (destroyed) return;
    if (!Hls.isSupported()) {
      if (media.canPlayType('application/vnd.apple.mpegurl')) {
        media.src = playback.hls;
        qualityField.hidden = true;
        media.addEventListener('error', () => onError(PLAYBACK_FAILED));
        return;
      }
      onError('This browser cannot play HLS video.');
      return;
    }
    const hls = new Hls({ capLevelToPlayerSize: true });
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
            ? 'The playback link has expired or was revoked. Reload the page to get a fresh one.'
            : PLAYBACK_FAILED,
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
