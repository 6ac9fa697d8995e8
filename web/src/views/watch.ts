import { ApiError, type Video, videoPath } from '../api.ts';
import { errorMessage, heading, STATUS_LABELS, VISIBILITY_LABELS, type View } from '../app.ts';
import { append, formatDuration, h } from '../dom.ts';
import { createPlayer } from '../player.ts';

/** One video: the player once it is ready, its status until then. */
export const watchView: View = async (ctx, main, params) => {
  const id = params.id!;
  let video: Video;
  try {
    video = await ctx.api.request<Video>('GET', videoPath(id));
  } catch (error) {
    main.append(
      heading('Video not found'),
      h(
        'p',
        { class: 'notice', role: 'alert' },
        error instanceof ApiError && error.status === 404
          ? 'This video does not exist, or you are not allowed to see it.'
          : errorMessage(error),
      ),
    );
    return;
  }
  main.append(heading(video.title));
  if (video.status === 'ready' && video.playback) {
    const player = createPlayer(video, (message) => ctx.error(message));
    ctx.onLeave(() => player.destroy());
    main.append(player.element);
  } else {
    main.append(
      h(
        'p',
        { class: `status status-${video.status}`, role: 'status' },
        video.status === 'failed'
          ? `Processing failed: ${video.failureReason ?? 'unknown reason'}`
          : `${STATUS_LABELS[video.status]}: this video is not ready to play yet. This page updates by itself.`,
      ),
    );
    if (video.status !== 'failed') {
      // Check again with backoff (3 s, growing to 30 s) and show the player once it is ready.
      const attempt = Number(params.attempt ?? '0');
      const timer = window.setTimeout(
        () => {
          main.replaceChildren();
          void watchView(ctx, main, { ...params, attempt: String(attempt + 1) });
        },
        Math.min(30_000, 3000 * 1.5 ** attempt),
      );
      ctx.onLeave(() => clearTimeout(timer));
    }
  }
  const facts: Array<[string, string]> = [
    ['Visibility', VISIBILITY_LABELS[video.visibility] ?? video.visibility],
    ['Status', STATUS_LABELS[video.status] ?? video.status],
  ];
  if (video.durationSeconds !== null) facts.push(['Duration', formatDuration(video.durationSeconds)]);
  if (video.width && video.height) facts.push(['Source size', `${video.width} × ${video.height}`]);
  if (video.renditions.length) facts.push(['Renditions', video.renditions.map((r) => r.name).join(', ')]);
  append(main, [
    video.description ? h('p', { class: 'description' }, video.description) : null,
    h('dl', { class: 'facts' }, ...facts.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
  ]);
};
