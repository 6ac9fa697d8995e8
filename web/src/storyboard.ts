import { h } from './dom.ts';

/**
 * Seek-bar previews from `playback.storyboard`: a WebVTT whose cues map time ranges to sprite tiles
 * (`sprite-N.jpg#xywh=x,y,w,h`, relative to the VTT, so the playback token in its path reaches the
 * sprites). A scrub bar under the video shows the tile of the time under the pointer, and seeks on click.
 */
export interface StoryboardCue {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

const seconds = (stamp: string) =>
  stamp
    .split(':')
    .map(Number)
    .reduce((total, part) => total * 60 + part, 0);

export function parseStoryboard(vtt: string, base: string): StoryboardCue[] {
  const cues: StoryboardCue[] = [];
  const pattern = /([\d:.]+) --> ([\d:.]+)[^\n]*\n([^\s#]+)#xywh=(\d+),(\d+),(\d+),(\d+)/g;
  for (const match of vtt.matchAll(pattern)) {
    const [, start, end, uri, x, y, w, hh] = match as unknown as string[];
    cues.push({
      start: seconds(start!),
      end: seconds(end!),
      url: new URL(uri!, base).toString(),
      x: Number(x),
      y: Number(y),
      w: Number(w),
      h: Number(hh),
    });
  }
  return cues;
}

export function cueAt(cues: readonly StoryboardCue[], time: number): StoryboardCue | undefined {
  return cues.find((cue) => time >= cue.start && time < cue.end) ?? cues[cues.length - 1];
}

/** The scrub bar with previews, or nothing when the storyboard cannot be read (it is optional). */
export async function storyboardScrubber(
  media: HTMLVideoElement,
  storyboardUrl: string,
  durationSeconds: number,
): Promise<HTMLElement | undefined> {
  const response = await fetch(storyboardUrl).catch(() => undefined);
  if (!response?.ok) return undefined;
  const cues = parseStoryboard(await response.text(), storyboardUrl);
  if (cues.length === 0) return undefined;
  const preview = h('div', { class: 'storyboard-preview', hidden: true, 'aria-hidden': 'true' });
  const label = h('span', { class: 'storyboard-time' });
  preview.append(label);
  const bar = h('div', {
    class: 'storyboard-bar',
    role: 'slider',
    tabindex: '0',
    'aria-label': 'Seek (hover for previews)',
    'aria-valuemin': '0',
    'aria-valuemax': String(Math.round(durationSeconds)),
  });
  const timeAt = (event: MouseEvent) => {
    const box = bar.getBoundingClientRect();
    const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / Math.max(1, box.width)));
    return { time: fraction * durationSeconds, offset: event.clientX - box.left };
  };
  bar.addEventListener('mousemove', (event) => {
    const { time, offset } = timeAt(event);
    const cue = cueAt(cues, time);
    if (!cue) return;
    preview.hidden = false;
    preview.style.width = `${cue.w}px`;
    preview.style.height = `${cue.h}px`;
    preview.style.backgroundImage = `url("${cue.url}")`;
    preview.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    preview.style.left = `${Math.max(0, offset - cue.w / 2)}px`;
    label.textContent = `${Math.floor(time / 60)}:${String(Math.floor(time % 60)).padStart(2, '0')}`;
  });
  bar.addEventListener('mouseleave', () => {
    preview.hidden = true;
  });
  bar.addEventListener('click', (event) => {
    media.currentTime = timeAt(event).time;
  });
  return h('div', { class: 'storyboard' }, bar, preview);
}
