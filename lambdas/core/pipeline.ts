/**
 * The media pipeline's decisions, free of AWS: what happens to an uploaded source (scan, probe, validate,
 * plan, hand to a transcoder), what a transcode attempt does with its outcome, and how a MediaConvert
 * job's end becomes a ready or failed video. The event handlers (lambdas/events) supply the ports.
 *
 * Every step is safe to repeat: status moves are conditional in the store (a ready video never becomes
 * failed, a deleted one never becomes ready), a claim accepts the same source revision again (a worker
 * that died after claiming finishes on retry), and both transcoders write to fixed keys.
 */
import { type CreatedObject, sizeMismatchReason, videoIdOfSourceKey } from './ingest.ts';
import { MALWARE_DETECTED_REASON, type MalwareScanner, UNSCANNABLE_REASON } from './malware.ts';
import { type ChunkOptions, type ChunkPlan, type JobResult, planChunks } from './media/chunks.ts';
import { MediaRejectedError } from './media/errors.ts';
import { planLadder, type TranscodePlan } from './media/ladder.ts';
import { type FfprobeOutput, type SourceFacts, validateSource } from './media/probe.ts';
import { checkPlausible, estimateWork, type VideoEvidence, type WorkEstimate } from './media/work.ts';
import type { Rendition } from './video.ts';

/** What the probe found and what was planned from it, stored with the video (videos.probe). */
export interface SourceMedia {
  source: SourceFacts;
  plan: TranscodePlan;
  /** Set when the ffmpeg ladder runs as parallel chunk jobs (core/media/chunks.ts). */
  chunks?: ChunkPlan;
}

export interface PipelineVideo {
  id: string;
  status: 'uploading' | 'processing' | 'ready' | 'failed';
  deleted: boolean;
  sourceKey: string | null;
  sourceSize: number | null;
  media: SourceMedia | null;
}

/** A finished ladder, as the catalog stores it. Keys are in the media bucket. */
export interface ReadyMedia {
  durationSeconds: number;
  width: number;
  height: number;
  masterPlaylistKey: string;
  posterKey: string;
  thumbnailKey: string | null;
  renditions: Rendition[];
}

export interface PipelineStore {
  find(videoId: string): Promise<PipelineVideo | undefined>;
  /** Takes the video up for one revision of its source; true again for the same revision. */
  claim(videoId: string, revision: string): Promise<boolean>;
  recordPlan(videoId: string, media: SourceMedia): Promise<boolean>;
  /** processing -> failed. */
  fail(videoId: string, reason: string): Promise<boolean>;
  /** processing -> ready, with the renditions, in one transaction. */
  complete(videoId: string, media: ReadyMedia): Promise<boolean>;
}

export interface SourceObjects {
  /** Bytes, or undefined when the object is gone. */
  size(key: string): Promise<number | undefined>;
  remove(key: string): Promise<void>;
}

export interface IngestPorts {
  store: PipelineStore;
  sources: SourceObjects;
  scanner: MalwareScanner;
  /** ffprobe's description of the stored source (MediaRejectedError: the file is at fault). */
  probe(key: string): Promise<FfprobeOutput>;
  /** The video stream's packet timestamps and first decoded picture (core/media/work.ts). */
  inspectVideo(key: string, streamIndex: number): Promise<VideoEvidence>;
  /** Queue the ffmpeg transcode of a planned video: the whole ladder, or one job of a chunked one. */
  enqueueTranscode(videoId: string, job?: number): Promise<void>;
  /** Records the jobs of a chunked transcode (absent: every ladder runs as one process). */
  planTranscodeJobs?: (videoId: string, chunks: ChunkPlan) => Promise<void>;
  /** Start a MediaConvert job; absent where MediaConvert is not configured (locally). */
  startMediaConvert?: (job: MediaConvertRequest) => Promise<string>;
  log(message: string, detail: Record<string, unknown>): void;
}

export interface MediaConvertRequest {
  videoId: string;
  sourceKey: string;
  /** Makes a repeated start of the same source revision the same job. */
  revision: string;
  plan: TranscodePlan;
}

export interface IngestSettings {
  maxSourceSeconds: number;
  ffmpegMaxSeconds: number;
  /** Chunked transcoding: target chunk length and the most chunks a video is split into. */
  chunking?: ChunkOptions;
}

/** Thrown to have the message retried later (the scanner has not decided yet, or the API is mid-complete). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

/**
 * An uploaded source, from the S3 event to a queued transcode. Returns what happened, for the log.
 * MediaRejectedError from the prober fails the video with its reason; anything else propagates, to be
 * retried by the queue (and, on the last attempt, turned into a failure by `failAfterLastAttempt`).
 */
export async function ingestSource(
  ports: IngestPorts,
  object: CreatedObject,
  uploadsBucket: string,
  settings: IngestSettings,
): Promise<{ videoId?: string; outcome: string }> {
  const videoId = videoIdOfSourceKey(object.key);
  if (object.bucket !== uploadsBucket || !videoId) return { outcome: 'ignored: not an upload source' };
  const { store, sources } = ports;
  const video = await store.find(videoId);
  if (!video || video.deleted) return { videoId, outcome: 'ignored: video is gone' };
  // S3's event can overtake the API's own bookkeeping: the object is complete in storage while the
  // complete call has yet to mark the video processing. Come back shortly rather than drop the event.
  if (video.status === 'uploading') throw new RetryLaterError('the upload is not yet marked complete');
  if (video.status !== 'processing') return { videoId, outcome: `ignored: video is already ${video.status}` };

  // Nothing reads the object, not even its size, before the scanner has cleared it: in the cloud the
  // pipeline's roles may only read sources GuardDuty tagged clean.
  const verdict = await ports.scanner.scan({ bucket: object.bucket, key: object.key });
  if (verdict.status === 'pending') throw new RetryLaterError(`malware scan by ${verdict.scanner} pending`);
  if (verdict.status === 'infected' || verdict.status === 'unscannable') {
    const infected = verdict.status === 'infected';
    if (await store.fail(videoId, infected ? MALWARE_DETECTED_REASON : UNSCANNABLE_REASON)) {
      await sources.remove(object.key);
    }
    ports.log(infected ? 'malware detected' : 'unscannable upload refused', { videoId, ...verdict });
    return { videoId, outcome: infected ? 'failed: malware detected' : 'failed: not scannable' };
  }
  if (verdict.status === 'not-scanned') ports.log('not scanned', { videoId, reason: verdict.reason });

  const actual = await sources.size(object.key);
  if (actual === undefined) return { videoId, outcome: 'ignored: object is gone' };
  if (actual !== video.sourceSize) {
    await store.fail(videoId, sizeMismatchReason(actual, video.sourceSize ?? 0));
    return { videoId, outcome: 'failed: size mismatch' };
  }
  if (!(await store.claim(videoId, object.revision))) {
    return { videoId, outcome: 'ignored: another upload of this source was taken up' };
  }

  // A source refused here is refused for good: it fails with its reason and is removed from storage,
  // so nothing (no retry, no operator redrive) hands it to an encoder later.
  const refuse = async (reason: string) => {
    if (await store.fail(videoId, reason)) await sources.remove(object.key);
    return { videoId, outcome: `failed: ${reason}` };
  };
  let probed: FfprobeOutput;
  let evidence: VideoEvidence;
  let validation: ReturnType<typeof validateSource>;
  try {
    probed = await ports.probe(object.key);
    validation = validateSource(probed, { maxDurationSeconds: settings.maxSourceSeconds });
    if (!validation.ok) return refuse(validation.reason);
    evidence = await ports.inspectVideo(object.key, validation.source.videoStreamIndex);
  } catch (error) {
    if (!(error instanceof MediaRejectedError)) throw error;
    return refuse(error.message);
  }
  const { source } = validation;
  const stream = probed.streams.find((s) => s.index === source.videoStreamIndex);
  const coded = { width: stream?.width ?? 0, height: stream?.height ?? 0 };
  const plausible = checkPlausible(source, coded, evidence, actual);
  if (!plausible.ok) return refuse(plausible.reason);

  const useMediaConvert = ports.startMediaConvert !== undefined;
  const plan = planLadder(source, {
    ffmpegMaxDurationSeconds: useMediaConvert ? settings.ffmpegMaxSeconds : Number.POSITIVE_INFINITY,
  });
  const work: WorkEstimate = estimateWork(
    plan,
    source,
    evidence.packets.complete ? evidence.packets.count : undefined,
  );
  const chunks =
    plan.path === 'ffmpeg' && settings.chunking && ports.planTranscodeJobs
      ? planChunks(plan, settings.chunking)
      : undefined;
  ports.log('planned', {
    videoId,
    path: plan.path,
    work,
    frames: evidence.packets.count,
    jobs: chunks?.jobCount ?? 1,
  });
  if (!(await store.recordPlan(videoId, { source, plan, ...(chunks ? { chunks } : {}) }))) {
    return { videoId, outcome: 'ignored: video changed while probing' };
  }
  if (plan.path === 'mediaconvert' && ports.startMediaConvert) {
    const jobId = await ports.startMediaConvert({
      videoId,
      sourceKey: object.key,
      revision: object.revision,
      plan,
    });
    return { videoId, outcome: `MediaConvert job ${jobId} started` };
  }
  const rungs = plan.renditions.map((r) => r.name).join(', ');
  if (chunks && ports.planTranscodeJobs) {
    await ports.planTranscodeJobs(videoId, chunks);
    // Every job is its own message: N Lambdas (or local workers) take them up at once.
    await Promise.all(
      Array.from({ length: chunks.jobCount }, (_, job) => ports.enqueueTranscode(videoId, job)),
    );
    return {
      videoId,
      outcome:
        `queued for ffmpeg as ${chunks.chunks.length} video jobs (chunks x rung groups) + ` +
        `${chunks.jobCount - chunks.chunks.length} audio/poster (${rungs})`,
    };
  }
  await ports.enqueueTranscode(videoId);
  return { videoId, outcome: `queued for ffmpeg (${rungs})` };
}

export interface TranscodePorts {
  store: PipelineStore;
  /** Downloads the source, runs the ladder, uploads it (master playlist last), and describes the result. */
  transcode(video: PipelineVideo & { sourceKey: string; media: SourceMedia }): Promise<ReadyMedia>;
  /** Removes everything under the video's media prefix. */
  removeMedia(videoId: string): Promise<void>;
}

/** One attempt at the ffmpeg ladder for a video the ingest step planned. */
export async function transcodeVideo(ports: TranscodePorts, videoId: string): Promise<string> {
  const { store } = ports;
  const video = await store.find(videoId);
  if (!video) return 'ignored: video is gone';
  if (video.deleted) {
    await ports.removeMedia(videoId);
    return 'ignored: video was deleted (its outputs, if any, removed)';
  }
  if (video.status !== 'processing') return `ignored: video is already ${video.status}`;
  if (!video.media || !video.sourceKey) {
    throw new Error(`video ${videoId} has no probed source to transcode`);
  }
  let ready: ReadyMedia;
  try {
    ready = await ports.transcode({ ...video, sourceKey: video.sourceKey, media: video.media });
  } catch (error) {
    if (!(error instanceof MediaRejectedError)) throw error;
    await store.fail(videoId, error.message);
    return `failed: ${error.message}`;
  }
  return finish(ports, videoId, ready);
}

async function finish(
  ports: Pick<TranscodePorts, 'store' | 'removeMedia'>,
  videoId: string,
  ready: ReadyMedia,
): Promise<string> {
  if (await ports.store.complete(videoId, ready)) {
    return `ready (${ready.renditions.map((r) => r.name).join(', ')})`;
  }
  // Deleted (or otherwise settled) while we worked: outputs nobody will reference must not linger.
  const now = await ports.store.find(videoId);
  if (!now || now.deleted) {
    await ports.removeMedia(videoId);
    return 'discarded: video was deleted while transcoding';
  }
  return `ignored: video became ${now.status} meanwhile`;
}

/** The bookkeeping of chunked transcodes (adapters/db/pipeline.ts). */
export interface TranscodeJobStore {
  /** Takes a job up (counting the attempt), or says it is done already and whether it landed last. */
  startJob(videoId: string, job: number): Promise<{ done: false } | { done: true; landedLast: boolean }>;
  /**
   * Records a finished job and counts it, once: `landedLast` is true for exactly one job of a video,
   * the one whose landing completed the count, however often any message is delivered.
   */
  finishJob(videoId: string, job: number, result: JobResult): Promise<{ landedLast: boolean }>;
  /** Every job's result, in job order (all are done when the last has landed). */
  results(videoId: string): Promise<JobResult[]>;
}

export type PlannedVideo = PipelineVideo & { sourceKey: string; media: SourceMedia & { chunks: ChunkPlan } };

export interface ChunkTranscodePorts {
  store: PipelineStore;
  jobs: TranscodeJobStore;
  /** Encodes one job (a chunk's rungs, or the audio and poster) and uploads its segments. */
  encode(video: PlannedVideo, job: number): Promise<JobResult>;
  /** Writes every rung's media playlist, the audio playlist and then the master, from all results. */
  stitch(video: PlannedVideo, results: JobResult[]): Promise<ReadyMedia>;
  removeMedia(videoId: string): Promise<void>;
}

/**
 * One job of a chunked ladder. A job already done is not encoded again; the job that lands last
 * stitches and turns the video ready through the same conditional move as the single-process path. If
 * the stitch fails, that job's message is retried and stitches again (fixed keys; `complete` moves a
 * video once), while duplicates of every other job change nothing.
 */
export async function transcodeChunkJob(
  ports: ChunkTranscodePorts,
  videoId: string,
  job: number,
): Promise<string> {
  const { store, jobs } = ports;
  const video = await store.find(videoId);
  if (!video) return 'ignored: video is gone';
  if (video.deleted) {
    await ports.removeMedia(videoId);
    return 'ignored: video was deleted (its outputs, if any, removed)';
  }
  if (video.status !== 'processing') return `ignored: video is already ${video.status}`;
  const chunks = video.media?.chunks;
  if (!video.media || !chunks || !video.sourceKey) {
    throw new Error(`video ${videoId} has no chunk plan to transcode job ${job} of`);
  }
  if (job >= chunks.jobCount) return `ignored: the video has no job ${job}`;
  const planned: PlannedVideo = { ...video, sourceKey: video.sourceKey, media: { ...video.media, chunks } };
  const started = await jobs.startJob(videoId, job);
  let landedLast: boolean;
  let outcome: string;
  if (started.done) {
    landedLast = started.landedLast;
    outcome = `job ${job} was done already`;
  } else {
    let result: JobResult;
    try {
      result = await ports.encode(planned, job);
    } catch (error) {
      if (!(error instanceof MediaRejectedError)) throw error;
      await store.fail(videoId, error.message);
      return `failed: ${error.message}`;
    }
    ({ landedLast } = await jobs.finishJob(videoId, job, result));
    outcome = `job ${job} of ${chunks.jobCount} done`;
  }
  if (!landedLast) return outcome;
  const ready = await ports.stitch(planned, await jobs.results(videoId));
  return `${outcome}; stitched: ${await finish(ports, videoId, ready)}`;
}

/**
 * The last delivery of a message whose earlier attempts all failed on our side: the video would
 * otherwise sit in `processing` forever while its message waits in the DLQ. Fail it with words a
 * person can act on; the message still goes to the DLQ for an operator.
 */
export async function failAfterLastAttempt(
  store: PipelineStore,
  videoId: string,
  stage: 'ingest' | 'transcode',
  attempts: number,
  error: unknown,
): Promise<void> {
  const cause = error instanceof Error ? error.message : String(error);
  const what = stage === 'ingest' ? 'reading the upload' : 'transcoding';
  await store.fail(
    videoId,
    `processing failed: ${what} did not succeed after ${attempts} attempts (${cause}); ` +
      'upload the video again, and contact the operator if it keeps failing',
  );
}

/** MediaConvert's end of a job, as its EventBridge state-change event tells it. */
export type MediaConvertOutcome =
  | { status: 'COMPLETE'; videoId: string; jobId: string }
  | { status: 'ERROR'; videoId: string; jobId: string; errorCode?: number; errorMessage?: string };

export interface MediaConvertKeys {
  master: string;
  poster: string;
}

/**
 * Marks a MediaConvert-transcoded video ready (its ladder is the plan's; the job wrote it under the
 * video's prefix) or failed with MediaConvert's own reason.
 */
export async function settleMediaConvertJob(
  ports: Pick<TranscodePorts, 'store' | 'removeMedia'>,
  outcome: MediaConvertOutcome,
  keys: MediaConvertKeys,
): Promise<string> {
  const { store } = ports;
  const video = await store.find(outcome.videoId);
  if (!video) return 'ignored: video is gone';
  if (video.deleted) {
    await ports.removeMedia(outcome.videoId);
    return 'ignored: video was deleted (outputs removed)';
  }
  if (video.status !== 'processing') return `ignored: video is already ${video.status}`;
  if (outcome.status === 'ERROR') {
    const reason = `transcoding failed: ${outcome.errorMessage ?? 'MediaConvert reported an error'}${
      outcome.errorCode ? ` (MediaConvert error ${outcome.errorCode})` : ''
    }`;
    await store.fail(outcome.videoId, reason);
    return `failed: ${reason}`;
  }
  if (!video.media) throw new Error(`video ${outcome.videoId} has no plan to describe its renditions`);
  return finish(ports, outcome.videoId, readyFromPlan(video.media, keys));
}

/** MediaConvert's ladder described from the plan it was built from (targets, not measurements). */
function readyFromPlan(media: SourceMedia, keys: MediaConvertKeys): ReadyMedia {
  const { plan, source } = media;
  return {
    durationSeconds: source.durationSeconds,
    width: source.width,
    height: source.height,
    masterPlaylistKey: keys.master,
    posterKey: keys.poster,
    thumbnailKey: null,
    renditions: plan.renditions.map((r) => ({
      name: r.name,
      width: r.width,
      height: r.height,
      bitrate: r.videoBitrate + r.audioBitrate,
      codecs: r.codecs,
      playlistKey: keys.master.replace(/master\.m3u8$/, `master_${r.name}.m3u8`),
    })),
  };
}
