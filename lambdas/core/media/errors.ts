/**
 * The two ways media work fails, and who is to blame. The pipeline turns the first into the video's
 * `failureReason` at once, and retries the second (then fails the video with it after the last try).
 */

/** The file is at fault: the message is a failure reason to show the uploader. Retrying will not help. */
export class MediaRejectedError extends Error {
  override readonly name = 'MediaRejectedError';
}

/** Our side failed (missing binary, timeout, crash, network, disk): worth a retry. */
export class MediaToolError extends Error {
  override readonly name = 'MediaToolError';
}
