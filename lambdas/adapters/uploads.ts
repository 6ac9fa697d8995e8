import type { UploadDeps } from '#core/uploads.ts';
import { config } from '#shared/config.ts';
import { outboxTopics } from '#shared/resources.ts';
import { db } from './db/index.ts';
import { PostgresVideoRepository } from './db/videos.ts';
import { S3MultipartStorage } from './multipart.ts';
import { publishOutboxNow } from './outbox.ts';
import { DynamoUploadSessions } from './upload-sessions.ts';

let storage: S3MultipartStorage | undefined;
let sessions: DynamoUploadSessions | undefined;

/** The upload service's ports wired to S3, DynamoDB and Postgres. */
export async function uploadDeps(): Promise<UploadDeps> {
  storage ??= new S3MultipartStorage();
  sessions ??= new DynamoUploadSessions();
  return {
    storage,
    sessions,
    // Video events (created, upload completed, aborted) leave through the outbox right after each commit.
    videos: new PostgresVideoRepository(await db(), {
      afterOutboxWrite: () => publishOutboxNow([outboxTopics.event]),
    }),
    limits: config().uploads,
  };
}
