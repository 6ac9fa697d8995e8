import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadLetterQueueName } from '#shared/resources.ts';
import {
  incomingRequest,
  type LocalCredentials,
  readBody,
  SigV4Failure,
  sha256Hex,
  verifySigV4Request,
} from './sigv4.ts';

/**
 * The local stand-in for SQS and its Lambda event source mapping. It speaks just enough of SQS's JSON
 * protocol (SendMessage, SendMessageBatch, GetQueueUrl, GetQueueAttributes) for the same SQS adapter to
 * run unchanged, and delivers to consumers the way Lambda does: batches of SQS-shaped records, a
 * visibility timeout, redelivery of whatever failed (the whole batch on a throw, only the reported items
 * on a partial batch response), and a move to the queue's DLQ after `maxReceiveCount` receives.
 * Messages are written to a file on every change, so a restart loses nothing.
 */
export interface QueueDefinition {
  name: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /**
   * Caps what ChangeMessageVisibility sets, for tests that compress every wait (a retry 15 s out comes
   * back in 0.3 s). Without it a change may reach SQS's own limit, 12 hours from the receive.
   */
  maxVisibilitySeconds?: number;
}

/** SQS: a message may stay invisible for at most 12 hours from the receive that took it. */
export const MAX_VISIBILITY_SECONDS = 12 * 3600;

interface StoredMessage {
  messageId: string;
  body: string;
  md5: string;
  sentAt: number;
  firstReceivedAt?: number;
  /** When the latest receive took it. */
  receivedAt?: number;
  receiveCount: number;
  visibleAt: number;
}

type Consumer = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export const LOCAL_ACCOUNT_ID = '000000000000';

export class LocalQueues {
  private server?: Server;
  private endpoint = '';
  private readonly messages = new Map<string, StoredMessage[]>();
  private readonly definitions = new Map<string, QueueDefinition>();
  /** Every body sent since start, consumed or not: what tests and diagnostics ask "was it sent?" of. */
  private readonly history = new Map<string, string[]>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private credentials?: LocalCredentials;

  constructor(
    private readonly file: string,
    queues: QueueDefinition[],
    private readonly region = 'us-east-1',
  ) {
    for (const queue of queues) {
      this.definitions.set(queue.name, queue);
      this.messages.set(queue.name, []);
      this.messages.set(deadLetterQueueName(queue.name), []);
    }
    if (existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StoredMessage[]>;
      for (const [name, list] of Object.entries(saved))
        if (this.messages.has(name)) this.messages.set(name, list);
    }
  }

  /** Listens on loopback; every request must be SigV4-signed with `credentials` (403 otherwise). */
  async start(credentials: LocalCredentials): Promise<string> {
    this.credentials = credentials;
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  url(name: string): string {
    return `${this.endpoint}/${LOCAL_ACCOUNT_ID}/${name}`;
  }

  arn(name: string): string {
    return `arn:aws:sqs:${this.region}:${LOCAL_ACCOUNT_ID}:${name}`;
  }

  /** `delaySeconds`: SQS's DelaySeconds, the message stays invisible that long after it is sent. */
  send(queue: string, body: string, delaySeconds = 0): string {
    const list = this.list(queue);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5: md5(body),
      sentAt: Date.now(),
      receiveCount: 0,
      visibleAt: delaySeconds > 0 ? Date.now() + delaySeconds * 1000 : 0,
    };
    list.push(message);
    this.persist();
    const sent = this.history.get(queue) ?? [];
    sent.push(body);
    this.history.set(queue, sent);
    return message.messageId;
  }

  /** Bodies sent to a queue since this process started, in order, including consumed ones. */
  sent(queue: string): string[] {
    return this.history.get(queue) ?? [];
  }

  /** Messages waiting (visible or in flight) in a queue; `${name}-dlq` names its dead-letter queue. */
  depth(queue: string): number {
    return this.list(queue).length;
  }

  peek(queue: string): string[] {
    return this.list(queue).map((message) => message.body);
  }

  /** Messages waiting in a queue: how often each was received, and when (epoch ms) it is next visible. */
  inspect(queue: string): Array<{ body: string; receiveCount: number; visibleAt: number }> {
    return this.list(queue).map(({ body, receiveCount, visibleAt }) => ({ body, receiveCount, visibleAt }));
  }

  /** Polls `queue` and hands batches to `consumer`, like a Lambda event source mapping. */
  consume(
    queue: string,
    consumer: Consumer,
    options: { batchSize: number; pollMs?: number; workers?: number },
  ): void {
    // Up to `workers` batches at once, like that many concurrent invocations of the function.
    const workers = Math.max(1, options.workers ?? 1);
    let busy = 0;
    const timer = setInterval(() => {
      while (busy < workers && !this.stopped) {
        const batch = this.receive(queue, options.batchSize);
        if (batch.length === 0) return;
        busy += 1;
        const run = this.deliver(queue, batch, consumer).finally(() => {
          busy -= 1;
          this.inFlight.delete(run);
        });
        this.inFlight.add(run);
      }
    }, options.pollMs ?? 100);
    timer.unref();
    this.timers.push(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.inFlight]);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private receive(queue: string, max: number): StoredMessage[] {
    const definition = this.definitions.get(queue)!;
    const now = Date.now();
    const batch: StoredMessage[] = [];
    let deadLettered = false;
    for (const message of [...this.list(queue)]) {
      if (batch.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= definition.maxReceiveCount) {
        this.remove(queue, message.messageId);
        this.list(deadLetterQueueName(queue)).push({ ...message, visibleAt: 0 });
        deadLettered = true;
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.receivedAt = now;
      message.visibleAt = now + definition.visibilityTimeoutSeconds * 1000;
      batch.push(message);
    }
    // Idle polls (ten a second per queue) change nothing and write nothing.
    if (batch.length > 0 || deadLettered) this.persist();
    return batch;
  }

  /**
   * ChangeMessageVisibility for an in-flight message (the handle of its latest receive only), as SQS does
   * it: `seconds` from now, shorter or longer than the queue's own timeout, up to 12 hours from the
   * receive (a heartbeat extends a long job this way). A queue defined with maxVisibilitySeconds caps it.
   */
  private changeVisibility(queue: string, receiptHandle: string, seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_SECONDS) {
      throw Object.assign(
        new Error(`VisibilityTimeout must be an integer from 0 to ${MAX_VISIBILITY_SECONDS}`),
        {
          code: 'InvalidParameterValue',
        },
      );
    }
    const [messageId, count] = receiptHandle.split(':');
    const message = this.list(queue).find((m) => m.messageId === messageId);
    if (!message || String(message.receiveCount) !== count) {
      throw Object.assign(new Error('The receipt handle is not valid for a message in flight'), {
        code: 'ReceiptHandleIsInvalid',
      });
    }
    const now = Date.now();
    if (now + seconds * 1000 > (message.receivedAt ?? now) + MAX_VISIBILITY_SECONDS * 1000) {
      throw Object.assign(new Error('The visibility timeout would pass 12 hours from the receive'), {
        code: 'InvalidParameterValue',
      });
    }
    const limit = this.definitions.get(queue)?.maxVisibilitySeconds ?? seconds;
    message.visibleAt = now + Math.min(seconds, limit) * 1000;
    this.persist();
  }

  private async deliver(queue: string, batch: StoredMessage[], consumer: Consumer): Promise<void> {
    const records = batch.map((message) => this.record(queue, message));
    let failed: Set<string>;
    try {
      const response = await consumer({ Records: records });
      failed = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
    } catch {
      failed = new Set(batch.map((message) => message.messageId));
    }
    for (const message of batch) if (!failed.has(message.messageId)) this.remove(queue, message.messageId);
    this.persist();
  }

  private record(queue: string, message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: `${message.messageId}:${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'LOCAL',
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.md5,
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn(queue),
      awsRegion: this.region,
    };
  }

  private list(queue: string): StoredMessage[] {
    const list = this.messages.get(queue);
    if (!list) throw new Error(`No local queue named ${queue}`);
    return list;
  }

  private remove(queue: string, messageId: string): void {
    this.messages.set(
      queue,
      this.list(queue).filter((message) => message.messageId !== messageId),
    );
  }

  private persist(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(Object.fromEntries(this.messages)));
    renameSync(temporary, this.file);
  }

  /** The refusal for a request not signed with the runtime's credentials (body included), else undefined. */
  private authenticate(req: IncomingMessage, body: Buffer): { code: string; message: string } | undefined {
    try {
      if (!this.credentials) throw new SigV4Failure('MissingAuthentication', 'The queues were not started');
      verifySigV4Request(incomingRequest(req), {
        credentials: this.credentials,
        service: 'sqs',
        region: this.region,
        bodySha256: sha256Hex(body),
      });
      return undefined;
    } catch (error) {
      if (!(error instanceof SigV4Failure)) throw error;
      const code = SQS_AUTH_ERRORS[error.code] ?? 'IncompleteSignature';
      return {
        code,
        message:
          code === 'InvalidClientTokenId'
            ? 'The security token included in the request is invalid.'
            : code === 'MissingAuthenticationToken'
              ? 'Request is missing Authentication Token'
              : error.message,
      };
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // SQS takes 1 MiB messages at most; the body is read before the signature can be checked.
    const body = await readBody(req, 2 * 1024 * 1024);
    if (body === undefined) {
      res.writeHead(413, { Connection: 'close' }).end();
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    };
    const refusal = this.authenticate(req, body);
    if (refusal) {
      res.writeHead(403, {
        'Content-Type': 'application/x-amz-json-1.0',
        'x-amzn-query-error': `${refusal.code};Sender`,
      });
      res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${refusal.code}`, message: refusal.message }));
      return;
    }
    try {
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      const queueFromUrl = () => {
        const name =
          String(input.QueueUrl ?? '')
            .split('/')
            .pop() ?? '';
        if (!this.messages.has(name))
          throw Object.assign(new Error(`no queue ${name}`), { code: 'QueueDoesNotExist' });
        return name;
      };
      switch (target) {
        case 'SendMessage': {
          const body = String(input.MessageBody);
          const delay = Number(input.DelaySeconds ?? 0);
          return reply(200, {
            MessageId: this.send(queueFromUrl(), body, delay),
            MD5OfMessageBody: md5(body),
          });
        }
        case 'SendMessageBatch': {
          const queue = queueFromUrl();
          const entries = input.Entries as Array<{ Id: string; MessageBody: string; DelaySeconds?: number }>;
          return reply(200, {
            Successful: entries.map((entry) => ({
              Id: entry.Id,
              MessageId: this.send(queue, entry.MessageBody, Number(entry.DelaySeconds ?? 0)),
              MD5OfMessageBody: md5(entry.MessageBody),
            })),
            Failed: [],
          });
        }
        case 'ChangeMessageVisibility':
          this.changeVisibility(queueFromUrl(), String(input.ReceiptHandle), Number(input.VisibilityTimeout));
          return reply(200, {});
        case 'GetQueueUrl':
          return reply(200, { QueueUrl: this.url(String(input.QueueName)) });
        case 'GetQueueAttributes':
          return reply(200, {
            Attributes: { ApproximateNumberOfMessages: String(this.depth(queueFromUrl())) },
          });
        default:
          return reply(400, {
            __type: 'com.amazonaws.sqs#UnsupportedOperation',
            message: `${target} is not emulated`,
          });
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'InvalidParameterValue';
      reply(400, { __type: `com.amazonaws.sqs#${code}`, message: (error as Error).message });
    }
  }
}

/** SQS's own error codes for a request without a valid signature by the runtime's credentials. */
const SQS_AUTH_ERRORS: Record<string, string> = {
  MissingAuthentication: 'MissingAuthenticationToken',
  InvalidAccessKeyId: 'InvalidClientTokenId',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch',
  Expired: 'RequestExpired',
  TimeTooSkewed: 'SignatureDoesNotMatch',
};

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
