import type { VideoPage } from '../api.ts';
import { errorMessage, heading, link, type View } from '../app.ts';
import { field, formatDuration, h, replace } from '../dom.ts';

/** Public, ready videos, newest first, with full-text search and "load more". */
export const browseView: View = (ctx, main) => {
  const query = h('input', { type: 'search', name: 'q', maxlength: 200 });
  const form = h(
    'form',
    { role: 'search', class: 'search' },
    field('Search videos', query),
    h('button', { type: 'submit' }, 'Search'),
  );
  const list = h('ul', { class: 'grid', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor: string | null = null;

  async function load(reset: boolean) {
    const params = new URLSearchParams({ limit: '24' });
    if (query.value.trim()) params.set('q', query.value.trim());
    if (!reset && cursor) params.set('cursor', cursor);
    try {
      const page = await ctx.api.request<VideoPage>('GET', `/v1/videos?${params}`);
      if (reset) replace(list);
      for (const video of page.items) {
        list.append(
          h(
            'li',
            { class: 'tile' },
            video.playback
              ? h('img', { src: video.playback.poster, alt: '', loading: 'lazy', width: 320, height: 180 })
              : h('div', { class: 'poster-placeholder', 'aria-hidden': 'true' }),
            link(`/videos/${encodeURIComponent(video.id)}`, video.title),
            video.durationSeconds !== null
              ? h('span', { class: 'muted' }, formatDuration(video.durationSeconds))
              : null,
          ),
        );
      }
      if (reset && page.items.length === 0) list.append(h('li', { class: 'muted' }, 'No videos here yet.'));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (error) {
      ctx.error(errorMessage(error));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load(true);
  });
  more.addEventListener('click', () => void load(false));
  main.append(heading('Videos'), form, list, more);
  void load(true);
};
