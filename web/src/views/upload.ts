import { type Upload, type Video, videoPath } from '../api.ts';
import { canUpload, errorMessage, heading, link, type View, visibilitySelect } from '../app.ts';
import { field, formatBytes, formatDuration, h, replace } from '../dom.ts';
import type { StoredUpload } from '../uploader.ts';

/**
 * Pick or drop a video, give it a title, description and visibility, and upload it straight to storage
 * with a progress bar, speed, time left, pause, resume and cancel. Unfinished uploads from an earlier
 * visit are listed; choosing the same file again resumes where it stopped.
 */
export const uploadView: View = async (ctx, main) => {
  main.append(heading('Upload a video'));
  const me = ctx.me();
  if (!me) {
    main.append(h('p', {}, 'Please ', link('/signin?next=/upload', 'sign in'), ' to upload.'));
    return;
  }
  if (!canUpload(me)) {
    main.append(
      h('p', {}, 'Your account can watch videos but not upload them. Uploading needs the creator role.'),
    );
    return;
  }

  // The upload engine (Uppy) loads only here, so browsing and watching never pay for it.
  const { checkStoredUpload, fingerprint, forgetUpload, storedUploads, Uploader } = await import(
    '../uploader.ts'
  );

  const fileInput = h('input', {
    type: 'file',
    name: 'file',
    accept: 'video/*,.mkv,.mov',
    class: 'visually-hidden',
  });
  const chosen = h('p', { class: 'chosen', 'aria-live': 'polite' }, 'No file chosen.');
  const dropZone = h(
    'div',
    { class: 'drop-zone' },
    h('p', {}, 'Drag a video here, or'),
    h('label', { for: (fileInput.id = 'file-input'), class: 'button' }, 'Choose a video file'),
    fileInput,
    chosen,
  );
  const title = h('input', { name: 'title', required: true, maxlength: 200 });
  const description = h('textarea', { name: 'description', maxlength: 5000, rows: 3 });
  const visibility = visibilitySelect('visibility', 'private');
  const startButton = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const form = h(
    'form',
    { class: 'card', 'aria-label': 'Upload a video' },
    dropZone,
    field('Title', title),
    field('Description', description),
    field(
      'Visibility',
      visibility,
      'Private: only you. Unlisted: anyone with the link. Public: listed for everyone.',
    ),
    startButton,
  );

  const progress = h('progress', { max: 100, value: 0, 'aria-label': 'Upload progress' });
  const progressText = h('p', { class: 'progress-text' });
  const announce = h('p', { class: 'visually-hidden', role: 'status' });
  const pauseButton = h('button', { type: 'button' }, 'Pause');
  const cancelButton = h('button', { type: 'button', class: 'danger' }, 'Cancel upload');
  const panelTitle = h('h2', {}, 'Uploading');
  const controls = h('div', { class: 'buttons' }, pauseButton, cancelButton);
  const done = h('p', {});
  /** After the upload: how far processing is, then a watch link (the upload's own state stays above it). */
  const processing = h('p', { class: 'processing-status', 'aria-live': 'polite' });
  const progressPanel = h(
    'section',
    { class: 'card', hidden: true, 'aria-label': 'Upload progress' },
    panelTitle,
    progress,
    progressText,
    announce,
    controls,
    done,
    processing,
  );
  const resumable = h('section', { class: 'card', hidden: true, 'aria-labelledby': 'resumable-title' });
  main.append(resumable, form, progressPanel);

  let file: File | undefined;
  let resume: StoredUpload | undefined;
  let lastAnnounced = 0;
  let lastPercent = -1;

  const uploader = new Uploader(ctx.api, me.id, {
    onProgress(sample) {
      const percent = sample.bytesTotal ? Math.floor((sample.bytesUploaded / sample.bytesTotal) * 100) : 0;
      progress.value = percent;
      progress.setAttribute('aria-valuetext', `${percent}%`);
      const parts = [
        `${percent}%`,
        `${formatBytes(sample.bytesUploaded)} of ${formatBytes(sample.bytesTotal)}`,
      ];
      if (sample.speed !== undefined) parts.push(`${formatBytes(sample.speed)}/s`);
      if (sample.secondsLeft !== undefined && percent < 100)
        parts.push(`about ${formatDuration(sample.secondsLeft)} left`);
      progressText.textContent = parts.join(' · ');
      // Screen readers hear progress every 10 % or 10 s, not on every tick.
      if (percent !== lastPercent && (percent % 10 === 0 || Date.now() - lastAnnounced > 10_000)) {
        announce.textContent = `Upload ${percent}% done.`;
        lastAnnounced = Date.now();
      }
      lastPercent = percent;
    },
    onPaused(paused) {
      pauseButton.textContent = paused ? 'Resume' : 'Pause';
      pauseButton.setAttribute('aria-pressed', String(paused));
      announce.textContent = paused ? 'Upload paused.' : 'Upload resumed.';
    },
    onSuccess(videoId) {
      const uploadedTitle = title.value;
      progress.value = 100;
      panelTitle.textContent = 'Upload complete';
      controls.hidden = true;
      announce.textContent = 'Upload complete. The video is processing.';
      finish();
      title.value = '';
      description.value = '';
      ctx.notice(`Upload complete: “${uploadedTitle}” is now processing.`);
      replace(
        done,
        'The video is processing. ',
        link('/me', 'See its status in My videos'),
        ' or ',
        link(`/videos/${encodeURIComponent(videoId)}`, 'open the video'),
        '.',
      );
      void followProcessing(videoId, uploadedTitle);
    },
    onError(message) {
      finish();
      progressPanel.hidden = true;
      ctx.error(message);
    },
    onCancelled() {
      finish();
      progressPanel.hidden = true;
      ctx.notice('Upload cancelled.');
    },
  });
  ctx.onLeave(() => {
    // Leaving the page keeps the upload resumable: stop sending, keep it on the server.
    if (uploader.active) uploader.togglePause();
    uploader.destroy();
  });
  const beforeUnload = (event: BeforeUnloadEvent) => {
    if (uploader.active) event.preventDefault();
  };
  window.addEventListener('beforeunload', beforeUnload);
  ctx.onLeave(() => window.removeEventListener('beforeunload', beforeUnload));

  /**
   * After the upload: the video's transcoding progress, polled (2 s, backing off to 10 s; paused while
   * the tab is hidden), until it is ready (with a watch link) or failed (with its reason). No reload.
   */
  let following = 0;
  async function followProcessing(videoId: string, uploadedTitle: string) {
    const mine = ++following;
    processing.textContent = '';
    const watch = () => link(`/videos/${encodeURIComponent(videoId)}`, 'Watch it now');
    let delay = 2000;
    let last: number | null | undefined;
    while (!left && mine === following) {
      if (document.visibilityState !== 'hidden') {
        let video: Video | undefined;
        try {
          video = await ctx.api.request<Video>('GET', videoPath(videoId));
        } catch {
          video = undefined;
        }
        if (left || mine !== following) return;
        if (video?.status === 'ready') {
          announce.textContent = `“${uploadedTitle}” is ready to watch.`;
          replace(processing, `Ready: “${uploadedTitle}” has finished processing. `, watch(), '.');
          return;
        }
        if (video?.status === 'failed') {
          replace(
            processing,
            `Processing failed: ${video.failureReason ?? 'the video could not be processed.'}`,
          );
          announce.textContent = `“${uploadedTitle}” failed to process.`;
          return;
        }
        if (video?.status === 'processing') {
          const percent = video.progress == null ? null : Math.round(video.progress * 100);
          processing.textContent = percent === null ? 'Processing…' : `Processing: ${percent}%`;
          if (video.progress !== last) delay = 2000;
          last = video.progress;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(10_000, Math.round(delay * 1.5));
    }
  }
  let left = false;
  ctx.onLeave(() => {
    left = true;
  });

  function finish() {
    form.hidden = false;
    startButton.disabled = false;
    pauseButton.textContent = 'Pause';
    pauseButton.removeAttribute('aria-pressed');
    file = undefined;
    resume = undefined;
    fileInput.value = '';
    chosen.textContent = 'No file chosen.';
    void showResumable();
  }

  async function choose(next: File | undefined) {
    file = next;
    resume = undefined;
    title.disabled = description.disabled = visibility.disabled = false;
    if (!next) {
      chosen.textContent = 'No file chosen.';
      return;
    }
    chosen.textContent = `${next.name} (${formatBytes(next.size)})`;
    if (!title.value) title.value = next.name.replace(/\.[^.]+$/, '').slice(0, 200);
    const stored = storedUploads(me!.id).find((u) => u.fingerprint === fingerprint(next));
    if (!stored) return;
    try {
      const upload = await checkStoredUpload(ctx.api, stored);
      if (!upload || file !== next) return;
      resume = stored;
      title.value = stored.title;
      title.disabled = description.disabled = visibility.disabled = true;
      chosen.textContent = `${next.name} (${formatBytes(next.size)}): ${percentOf(upload)}% was already uploaded; only the rest will be sent.`;
    } catch (error) {
      ctx.error(errorMessage(error));
    }
  }

  fileInput.addEventListener('change', () => void choose(fileInput.files?.[0]));
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    const dropped = event.dataTransfer?.files?.[0];
    if (dropped) void choose(dropped);
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!file) {
      ctx.error('Choose a video file first.');
      fileInput.focus();
      return;
    }
    if (!title.value.trim()) {
      ctx.error('Give the video a title.');
      title.focus();
      return;
    }
    startButton.disabled = true;
    const details = {
      title: title.value.trim(),
      description: description.value,
      visibility: visibility.value as 'public' | 'unlisted' | 'private',
    };
    uploader
      .start(file, details, resume)
      .then(() => {
        form.hidden = true;
        following += 1; // a new upload: stop following the previous one's processing
        progress.setAttribute('aria-label', 'Upload progress');
        panelTitle.textContent = 'Uploading';
        processing.textContent = '';
        controls.hidden = false;
        done.replaceChildren();
        progressPanel.hidden = false;
        pauseButton.focus();
      })
      .catch((error: unknown) => {
        startButton.disabled = false;
        ctx.error(errorMessage(error));
      });
  });
  pauseButton.addEventListener('click', () => uploader.togglePause());
  cancelButton.addEventListener('click', () => {
    cancelButton.disabled = true;
    void uploader.cancel().finally(() => (cancelButton.disabled = false));
  });

  async function showResumable() {
    const stored = storedUploads(me!.id);
    const rows: HTMLElement[] = [];
    for (const entry of stored) {
      let upload: Upload | null;
      try {
        upload = await checkStoredUpload(ctx.api, entry);
      } catch {
        continue;
      }
      if (!upload) continue;
      const discard = h(
        'button',
        { type: 'button', 'aria-label': `Discard the upload of ${entry.name}` },
        'Discard',
      );
      discard.addEventListener('click', () => {
        discard.disabled = true;
        ctx.api
          .request('DELETE', `/v1/uploads/${encodeURIComponent(entry.uploadId)}`)
          .catch(() => undefined)
          .finally(() => {
            forgetUpload(entry.uploadId);
            void showResumable();
          });
      });
      rows.push(
        h(
          'li',
          {},
          `“${entry.title}” — ${entry.name}, ${percentOf(upload)}% uploaded. Choose the same file below to resume. `,
          discard,
        ),
      );
    }
    resumable.hidden = rows.length === 0;
    replace(resumable, h('h2', { id: 'resumable-title' }, 'Unfinished uploads'), h('ul', {}, rows));
  }

  await showResumable();
};

function percentOf(upload: Upload): number {
  return upload.size ? Math.floor((upload.bytesUploaded / upload.size) * 100) : 0;
}
