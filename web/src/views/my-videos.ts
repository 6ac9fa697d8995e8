import { type Video, type VideoPage, videoPath } from '../api.ts';
import {
  type AppContext,
  errorMessage,
  heading,
  link,
  STATUS_LABELS,
  VISIBILITY_LABELS,
  type View,
  visibilitySelect,
} from '../app.ts';
import { field, h, replace, uniqueId } from '../dom.ts';

const FIRST_POLL_MS = 2000;
const MAX_POLL_MS = 30_000;

/**
 * The caller's own videos in every status. While any is uploading or processing the list is polled,
 * starting at 2 s and backing off by half again each time up to 30 s (reset when something changes),
 * and not at all while the tab is hidden.
 */
export const myVideosView: View = (ctx, main) => {
  const table = h('table', { class: 'videos' });
  const live = h('p', { class: 'visually-hidden', role: 'status' });
  const empty = h(
    'p',
    { class: 'muted', hidden: true },
    'You have no videos yet. ',
    link('/upload', 'Upload one'),
    '.',
  );
  main.append(heading('My videos'), live, empty, table);

  let delay = FIRST_POLL_MS;
  let timer: number | undefined;
  let left = false;
  let lastStatuses = new Map<string, string>();
  let lastProgress = new Map<string, number | null | undefined>();
  let lastShown = '';
  ctx.onLeave(() => {
    left = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  });
  const onVisible = () => {
    if (document.visibilityState === 'visible' && timer === undefined && !left) void refresh();
  };
  document.addEventListener('visibilitychange', onVisible);

  async function refresh() {
    clearTimeout(timer);
    timer = undefined;
    let videos: Video[] = [];
    try {
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ owner: 'me', limit: '100' });
        if (cursor) params.set('cursor', cursor);
        const page: VideoPage = await ctx.api.request<VideoPage>('GET', `/v1/videos?${params}`);
        videos = videos.concat(page.items);
        cursor = page.nextCursor;
      } while (cursor && videos.length < 500);
    } catch (error) {
      ctx.error(errorMessage(error));
    }
    if (left) return;
    const statuses = new Map(videos.map((v) => [v.id, v.status]));
    const changes = videos.filter((v) => lastStatuses.has(v.id) && lastStatuses.get(v.id) !== v.status);
    if (changes.length)
      live.textContent = changes.map((v) => `${v.title}: ${STATUS_LABELS[v.status]}.`).join(' ');
    // Progress moving counts as a change: the list keeps polling quickly while transcoding advances.
    const progressed = videos.some((v) => v.progress != null && v.progress !== lastProgress.get(v.id));
    lastProgress = new Map(videos.map((v) => [v.id, v.progress]));
    const changed = changes.length > 0 || statuses.size !== lastStatuses.size || progressed;
    lastStatuses = statuses;
    // Re-render only when something shown changed, so a poll never steals focus from a button.
    const shown = JSON.stringify(
      videos.map((v) => [v.id, v.title, v.status, v.visibility, v.failureReason, v.progress]),
    );
    if (shown !== lastShown) render(videos);
    lastShown = shown;
    const busy = videos.some((v) => v.status === 'uploading' || v.status === 'processing');
    if (!busy) return;
    delay = changed ? FIRST_POLL_MS : Math.min(MAX_POLL_MS, Math.round(delay * 1.5));
    if (document.visibilityState !== 'hidden') timer = window.setTimeout(() => void refresh(), delay);
  }

  function render(videos: Video[]) {
    empty.hidden = videos.length > 0;
    table.hidden = videos.length === 0;
    replace(
      table,
      h('caption', { class: 'visually-hidden' }, 'Your videos, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Title'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Visibility'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        {},
        videos.map((video) =>
          h(
            'tr',
            { 'data-video-id': video.id },
            h('td', {}, link(`/videos/${encodeURIComponent(video.id)}`, video.title)),
            h(
              'td',
              {},
              h(
                'span',
                { class: `status status-${video.status}`, 'data-status': video.status },
                STATUS_LABELS[video.status],
              ),
              video.status === 'processing' ? processingProgress(video.progress) : null,
              video.status === 'ready'
                ? h(
                    'div',
                    {},
                    link(`/videos/${encodeURIComponent(video.id)}`, 'Watch', {
                      'aria-label': `Watch “${video.title}”`,
                    }),
                  )
                : null,
              video.status === 'failed' && video.failureReason
                ? h('div', { class: 'failure' }, video.failureReason)
                : null,
            ),
            h('td', {}, VISIBILITY_LABELS[video.visibility]),
            h(
              'td',
              {},
              h(
                'div',
                { class: 'actions' },
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Edit “${video.title}”`,
                    onclick: () => editVideo(ctx, video, refresh),
                  },
                  'Edit',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'danger',
                    'aria-label': `Delete “${video.title}”`,
                    onclick: () => deleteVideo(ctx, video, refresh),
                  },
                  'Delete',
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  void refresh();
};

/** A processing video's transcoding progress (API `progress`, 0..1), or nothing while it is unknown. */
export function processingProgress(progress: number | null | undefined): HTMLElement | null {
  if (progress == null) return null;
  const percent = Math.round(progress * 100);
  return h(
    'div',
    { class: 'transcode-progress' },
    h('progress', { max: 100, value: percent, 'aria-label': 'Transcoding progress' }),
    h('span', { class: 'progress-text' }, ` ${percent}%`),
  );
}

function openDialog(title: string, body: HTMLElement[], confirmLabel: string, danger = false) {
  const titleId = uniqueId('dialog-title');
  const confirm = h(
    'button',
    { type: 'submit', class: danger ? 'danger' : 'primary', value: 'confirm' },
    confirmLabel,
  );
  const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: titleId }, title),
    ...body,
    error,
    h('div', { class: 'buttons' }, confirm, cancel),
  );
  const dialog = h('dialog', { 'aria-labelledby': titleId }, form);
  document.body.append(dialog);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
  return { dialog, form, confirm, error };
}

function editVideo(ctx: AppContext, video: Video, refresh: () => Promise<void>) {
  const title = h('input', { name: 'title', required: true, maxlength: 200, value: video.title });
  const description = h('textarea', { name: 'description', maxlength: 5000, rows: 3 });
  description.value = video.description;
  const visibility = visibilitySelect(uniqueId('visibility'), video.visibility);
  const { dialog, form, confirm, error } = openDialog(
    `Edit “${video.title}”`,
    [field('Title', title), field('Description', description), field('Visibility', visibility)],
    'Save',
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    confirm.disabled = true;
    ctx.api
      .request<Video>('PATCH', videoPath(video.id), {
        title: title.value.trim(),
        description: description.value,
        visibility: visibility.value,
      })
      .then(async (updated) => {
        dialog.close();
        ctx.notice(`Saved “${updated.title}”.`);
        await refresh();
      })
      .catch((e: unknown) => {
        confirm.disabled = false;
        error.textContent = errorMessage(e);
      });
  });
  title.focus();
}

function deleteVideo(ctx: AppContext, video: Video, refresh: () => Promise<void>) {
  const { dialog, form, confirm, error } = openDialog(
    'Delete video?',
    [h('p', {}, `“${video.title}” will be deleted for everyone. This cannot be undone.`)],
    'Delete',
    true,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    confirm.disabled = true;
    ctx.api
      .request('DELETE', videoPath(video.id))
      .then(async () => {
        dialog.close();
        ctx.notice(`Deleted “${video.title}”.`);
        await refresh();
      })
      .catch((e: unknown) => {
        confirm.disabled = false;
        error.textContent = errorMessage(e);
      });
  });
}
