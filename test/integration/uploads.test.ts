import { createHash, randomBytes } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sharedKysely } from '#adapters/db/connect.ts';
import { LOCAL_RESOURCES } from '#local/runtime.ts';
import { localS3Client } from '#local/s3.ts';
import { eventually, until } from '#test/helpers/eventually.ts';
import { RUNTIME_START_MS, startTestRuntime, type TestRuntime } from '#test/helpers/runtime.ts';

const MiB = 1024 * 1024;

interface Created {
  uploadId: string;
  videoId: string;
  partSize: number;
  partCount: number;
  expiresAt: string;
}

describe('direct-to-storage multipart uploads', () => {
  let runtime: TestRuntime;
  let alice: string;
  let bob: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    // Room for the race rounds below; the budgets themselves are tested in security.test.ts.
    Object.assign(process.env, { WRITE_BURST: '1000', UPLOAD_BURST: '1000' });
    runtime = await startTestRuntime();
    alice = await runtime.token('alice', ['creator']);
    bob = await runtime.token('bob', ['creator']);
  }, RUNTIME_START_MS);
  afterAll(async () => {
    await runtime.close();
    process.env = saved;
  }, 30_000);

  const create = async (size: number, extra: Record<string, unknown> = {}, token = alice) =>
    runtime.api('/v1/uploads', {
      method: 'POST',
      token,
      json: {
        filename: '../../etc/passwd my clip.mp4',
        contentType: 'video/mp4',
        size,
        title: 'My clip',
        ...extra,
      },
    });

  const sign = async (uploadId: string, partNumbers: number[], token = alice) => {
    const response = await runtime.api(`/v1/uploads/${uploadId}/parts`, {
      method: 'POST',
      token,
      json: { partNumbers },
    });
    expect(response.status).toBe(200);
    return (
      (await response.json()) as {
        parts: Array<{ partNumber: number; url: string; headers: Record<string, string> }>;
      }
    ).parts;
  };

  const put = async (url: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(url, { method: 'PUT', body: new Uint8Array(body), headers });

  const slice = (file: Buffer, created: Created, n: number) =>
    file.subarray((n - 1) * created.partSize, Math.min(file.length, n * created.partSize));

  const objectSha256 = async (key: string) => {
    const s3 = localS3Client(runtime.s3);
    const object = await s3.send(new GetObjectCommand({ Bucket: LOCAL_RESOURCES.uploadsBucket, Key: key }));
    return createHash('sha256')
      .update(Buffer.from(await object.Body!.transformToByteArray()))
      .digest('hex');
  };

  it('takes a 40 MiB file in parts straight to storage, resumes after a crash, completes, and ingests it once', async () => {
    const file = randomBytes(40 * MiB + 12_345);
    const response = await create(file.length, { visibility: 'public' });
    expect(response.status).toBe(201);
    const created = (await response.json()) as Created;
    expect(created.partCount).toBeGreaterThanOrEqual(3);

    // The video exists from now on, uploading, and the client's filename is nowhere in the key.
    const video = await (await sharedKysely())
      .selectFrom('videos')
      .selectAll()
      .where('id', '=', created.videoId)
      .executeTakeFirstOrThrow();
    expect(video).toMatchObject({
      status: 'uploading',
      source_key: `uploads/${created.videoId}/source`,
      owner_id: 'alice',
    });

    // Upload the first two parts, then "crash".
    for (const part of await sign(created.uploadId, [1, 2])) {
      expect((await put(part.url, slice(file, created, part.partNumber), part.headers)).status).toBe(200);
    }
    // A fresh client reads progress from the server and uploads only what is missing.
    const progress = (await (
      await runtime.api(`/v1/uploads/${created.uploadId}`, { token: alice })
    ).json()) as {
      status: string;
      uploadedParts: Array<{ partNumber: number; size: number }>;
      bytesUploaded: number;
    };
    expect(progress.status).toBe('uploading');
    expect(progress.uploadedParts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(progress.bytesUploaded).toBe(2 * created.partSize);
    const missing = Array.from({ length: created.partCount }, (_, i) => i + 1).filter(
      (n) => !progress.uploadedParts.some((p) => p.partNumber === n),
    );

    // Completing now is refused, naming the missing parts.
    const early = await runtime.api(`/v1/uploads/${created.uploadId}/complete`, {
      method: 'POST',
      token: alice,
      json: {},
    });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { detail: string }).detail).toContain(
      `Parts missing: ${missing.join(', ')}`,
    );

    for (const part of await sign(created.uploadId, missing)) {
      expect((await put(part.url, slice(file, created, part.partNumber), part.headers)).status).toBe(200);
    }
    const complete = await runtime.api(`/v1/uploads/${created.uploadId}/complete`, {
      method: 'POST',
      token: alice,
      json: {},
    });
    expect(complete.status).toBe(202);
    expect(await complete.json()).toEqual({ videoId: created.videoId, status: 'processing' });

    // A second complete answers the same; the stored object is byte-identical to the source.
    const again = await runtime.api(`/v1/uploads/${created.uploadId}/complete`, {
      method: 'POST',
      token: alice,
    });
    expect(again.status).toBe(202);
    expect(await objectSha256(`uploads/${created.videoId}/source`)).toBe(
      createHash('sha256').update(file).digest('hex'),
    );

    // The upload completed into exactly one ingest event, which confirmed the object's size and probed
    // it: random bytes are no video, so the video fails with a reason (the e2e suite plays real ones).
    const key = `uploads/${created.videoId}/source`;
    await until(() => runtime.queues.sent('ingest').some((body) => body.includes(key)), {
      timeoutMs: 15_000,
      what: 'the ingest event of the completed upload',
    });
    const status = await eventually(
      async () => {
        const video = (await (
          await runtime.api(`/v1/videos/${created.videoId}`, { token: alice })
        ).json()) as {
          status: string;
          failureReason: string | null;
        };
        expect(video.status).toBe('failed');
        return video;
      },
      { timeoutMs: 15_000, what: 'the video of random bytes to fail' },
    );
    expect(status.failureReason).toMatch(/^unreadable: /);
    expect(runtime.queues.sent('ingest').filter((body) => body.includes(key))).toHaveLength(1);
    expect(runtime.queues.depth('ingest-dlq')).toBe(0);

    const done = (await (await runtime.api(`/v1/uploads/${created.uploadId}`, { token: alice })).json()) as {
      status: string;
      bytesUploaded: number;
    };
    expect(done).toMatchObject({ status: 'completed', bytesUploaded: file.length });
  }, 60_000);

  it('refuses bad uploads with problem details', async () => {
    const refusals: Array<[Record<string, unknown>, number]> = [
      [{ size: 21 * 1024 * 1024 * 1024 }, 413],
      [{ contentType: 'application/pdf' }, 415],
      [{ contentType: 'image/png' }, 415],
      [{ size: 0 }, 400],
      [{ size: -5 }, 400],
      [{ size: 1.5 }, 400],
      [{ title: '' }, 400],
      [{ filename: '' }, 400],
      [{ visibility: 'everyone' }, 400],
      [{ videoId: 'mine' }, 400],
      [{ key: 'uploads/../../x' }, 400],
    ];
    for (const [extra, status] of refusals) {
      const response = await create(Number(extra.size ?? 1024), extra);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await create(1024, {}, await runtime.token('victor', ['viewer']))).status).toBe(403);
    expect(
      (await create(1024, {}, await runtime.token('alice', ['creator'], 'videos:read videos:write'))).status,
    ).toBe(403);
  });

  it("keeps uploads private to their owner: another user's upload is 404 on every route", async () => {
    const { uploadId } = (await (await create(6 * MiB)).json()) as Created;
    expect((await runtime.api(`/v1/uploads/${uploadId}`, { token: bob })).status).toBe(404);
    expect(
      (
        await runtime.api(`/v1/uploads/${uploadId}/parts`, {
          method: 'POST',
          token: bob,
          json: { partNumbers: [1] },
        })
      ).status,
    ).toBe(404);
    expect(
      (await runtime.api(`/v1/uploads/${uploadId}/complete`, { method: 'POST', token: bob, json: {} }))
        .status,
    ).toBe(404);
    expect((await runtime.api(`/v1/uploads/${uploadId}`, { method: 'DELETE', token: bob })).status).toBe(404);
    expect((await runtime.api(`/v1/uploads/${uploadId}`)).status).toBe(401);
    expect(
      (await runtime.api(`/v1/uploads/${uploadId}`, { token: await runtime.token('ada', ['admin']) })).status,
    ).toBe(200);
  });

  it('signs URLs that work only for their own part, at its exact size', async () => {
    const file = randomBytes(9 * MiB);
    const created = (await (await create(file.length)).json()) as Created;
    const [one, two] = await sign(created.uploadId, [1, 2]);
    const forged = new URL(one!.url);
    forged.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    expect((await put(forged.toString(), slice(file, created, 1))).status).toBe(403);
    const reaimed = new URL(one!.url);
    reaimed.searchParams.set('partNumber', '2');
    expect((await put(reaimed.toString(), slice(file, created, 2))).status).toBe(403);
    // Part 1 holds exactly partSize bytes; anything else breaks the signed content-length.
    expect((await put(one!.url, slice(file, created, 1).subarray(1))).status).toBe(403);
    expect((await put(two!.url, slice(file, created, 2))).status).toBe(200);
    const outOfRange = await runtime.api(`/v1/uploads/${created.uploadId}/parts`, {
      method: 'POST',
      token: alice,
      json: { partNumbers: [created.partCount + 1] },
    });
    expect(outOfRange.status).toBe(400);
    const tooMany = await runtime.api(`/v1/uploads/${created.uploadId}/parts`, {
      method: 'POST',
      token: alice,
      json: { partNumbers: Array.from({ length: 101 }, (_, i) => i + 1) },
    });
    expect(tooMany.status).toBe(400);
  });

  it('aborts: storage drops the upload, the video is gone, and complete afterwards is 409', async () => {
    const file = randomBytes(6 * MiB);
    const created = (await (await create(file.length)).json()) as Created;
    const [part] = await sign(created.uploadId, [1]);
    expect(
      (await runtime.api(`/v1/uploads/${created.uploadId}`, { method: 'DELETE', token: alice })).status,
    ).toBe(204);
    expect((await put(part!.url, file)).status).toBe(404);
    expect((await runtime.api(`/v1/videos/${created.videoId}`, { token: alice })).status).toBe(404);
    const complete = await runtime.api(`/v1/uploads/${created.uploadId}/complete`, {
      method: 'POST',
      token: alice,
      json: {},
    });
    expect(complete.status).toBe(409);
    expect(
      (
        (await (await runtime.api(`/v1/uploads/${created.uploadId}`, { token: alice })).json()) as {
          status: string;
        }
      ).status,
    ).toBe('aborted');
  });

  /** Object keys under a video's upload prefix, in the uploads bucket. */
  const sourceObjects = async (videoId: string) =>
    (
      await localS3Client(runtime.s3).send(
        new ListObjectsV2Command({ Bucket: LOCAL_RESOURCES.uploadsBucket, Prefix: `uploads/${videoId}/` }),
      )
    ).Contents ?? [];
  const complete = (uploadId: string) =>
    runtime.api(`/v1/uploads/${uploadId}/complete`, { method: 'POST', token: alice, json: {} });

  it('deleting a video whose upload is open aborts it: its part URLs fail, signing and completing are 404, no source survives', async () => {
    const file = randomBytes(9 * MiB);
    const created = (await (await create(file.length)).json()) as Created;
    expect(created.partCount).toBe(2);
    const [one, two] = await sign(created.uploadId, [1, 2]);
    expect((await put(one!.url, slice(file, created, 1))).status).toBe(200);

    expect(
      (await runtime.api(`/v1/videos/${created.videoId}`, { method: 'DELETE', token: alice })).status,
    ).toBe(204);
    // The multipart upload is gone from storage: a part URL signed before the delete no longer works.
    expect((await put(two!.url, slice(file, created, 2))).status).toBe(404);
    const signAgain = await runtime.api(`/v1/uploads/${created.uploadId}/parts`, {
      method: 'POST',
      token: alice,
      json: { partNumbers: [2] },
    });
    expect(signAgain.status).toBe(404);
    expect((await complete(created.uploadId)).status).toBe(404);
    expect((await runtime.api(`/v1/uploads/${created.uploadId}`, { token: alice })).status).toBe(404);
    // Nothing of it is left in storage once the cleanup has run (the upload's parts went with the abort).
    await until(async () => (await sourceObjects(created.videoId)).length === 0, {
      timeoutMs: 15_000,
      what: 'the source objects to be removed',
    });
    expect(await sourceObjects(created.videoId)).toEqual([]);
  }, 30_000);

  it('answers a complete racing an abort with 404/409 or success, never 500, and exactly one of them wins', async () => {
    for (let round = 0; round < 6; round++) {
      const file = randomBytes(1000);
      const created = (await (await create(file.length)).json()) as Created;
      const [part] = await sign(created.uploadId, [1]);
      expect((await put(part!.url, file)).status).toBe(200);
      const abort = () => runtime.api(`/v1/uploads/${created.uploadId}`, { method: 'DELETE', token: alice });
      const [completed, aborted] = await Promise.all(
        round % 2 ? [complete(created.uploadId), abort()] : [abort(), complete(created.uploadId)].reverse(),
      );
      expect([202, 404, 409]).toContain(completed!.status);
      expect([204, 404, 409]).toContain(aborted!.status);
      expect([completed!.status === 202, aborted!.status === 204].filter(Boolean)).toHaveLength(1);
    }
  }, 60_000);

  it('answers a complete racing a video delete with 202, 404 or 409, never 500, and no source survives the delete', async () => {
    for (let round = 0; round < 4; round++) {
      const file = randomBytes(1000);
      const created = (await (await create(file.length)).json()) as Created;
      const [part] = await sign(created.uploadId, [1]);
      expect((await put(part!.url, file)).status).toBe(200);
      const [completed, deleted] = await Promise.all([
        complete(created.uploadId),
        runtime.api(`/v1/videos/${created.videoId}`, { method: 'DELETE', token: alice }),
      ]);
      expect([202, 404, 409]).toContain(completed.status);
      expect(deleted.status).toBe(204);
      await until(async () => (await sourceObjects(created.videoId)).length === 0, {
        timeoutMs: 15_000,
        what: 'the source objects to be removed',
      });
    }
  }, 60_000);

  it('refuses to complete when client ETags do not match what storage holds', async () => {
    const file = randomBytes(1000);
    const created = (await (await create(file.length)).json()) as Created;
    const [part] = await sign(created.uploadId, [1]);
    await put(part!.url, file);
    const response = await runtime.api(`/v1/uploads/${created.uploadId}/complete`, {
      method: 'POST',
      token: alice,
      json: { parts: [{ partNumber: 1, etag: '"deadbeef"' }] },
    });
    expect(response.status).toBe(409);
  });
});
