import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { RENEWALS_PER_LEASE } from '../../lambdas/adapters/heartbeat.ts';
import { consumerList, queueConsumers, visibilityTimeoutSeconds } from '../../lambdas/events/consumers.ts';
import { scheduledWorkerList } from '../../lambdas/events/schedules.ts';
import { JOB_METADATA_STAGE } from '../../lambdas/shared/resources.ts';
import type { AppFunction } from '../../lib/constructs/app-function.ts';
import { REPO_ROOT } from '../../lib/constructs/app-function.ts';
import { buildStage, resourcesOfType, statementsOfRole } from './app.ts';

describe.each(['dev', 'prod'] as const)('event pipeline (%s)', (stageName) => {
  const { stateful, stateless, statefulTemplate, statelessTemplate: template, stage } = buildStage(stageName);
  const pipeline = stateless.pipeline;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    Stack.of(stateless).getLogicalId(construct.node.defaultChild as CfnFunction);
  const fnProps = (fn: AppFunction) =>
    template.findResources('AWS::Lambda::Function')[id(fn.function)]!.Properties;
  const statementsOf = (fn: { role: { node: { defaultChild?: unknown } } }) =>
    statementsOfRole(template, stateless, fn.role);
  /** s3 actions of a function, each with the bucket it applies to (uploads/media). */
  const s3Grants = (fn: AppFunction) =>
    statementsOf(fn)
      .flatMap((s) =>
        [s.Action]
          .flat()
          .filter((a) => a.startsWith('s3:'))
          .flatMap((a) =>
            [s.Resource].flat().map((r) => `${a} ${/Uploads/.test(JSON.stringify(r)) ? 'uploads' : 'media'}`),
          ),
      )
      .sort();
  const queueId = (name: string) =>
    Stack.of(stateful).getLogicalId(
      stateful.queues.byQueueName.get(name)!.queue.node.defaultChild as unknown as CfnRole,
    );

  test.each(consumerList.map((c) => [c.entry, c] as const))(
    '%s: function sized from consumers.ts, SQS event source with its batch size and partial failures',
    (entry, consumer) => {
      const fn = pipeline.consumers.get(entry)!;
      const props = fnProps(fn);
      expect(props.MemorySize).toBe(consumer.memoryMb);
      expect(props.Timeout).toBe(consumer.timeoutSeconds);
      expect(props.EphemeralStorage?.Size ?? 512).toBe(consumer.ephemeralStorageMb ?? 512);
      // In the VPC exactly when it needs the database: edge-sync and event-bus write to public AWS APIs
      // instead, and the webhook sender talks to the internet.
      if (['edge-sync', 'event-bus', 'webhook-sender'].includes(entry))
        expect(props.VpcConfig).toBeUndefined();
      else expect(props.VpcConfig).toBeDefined();
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: id(fn.function) },
        BatchSize: consumer.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ...(consumer.maxConcurrency
          ? { ScalingConfig: { MaximumConcurrency: consumer.maxConcurrency } }
          : {}),
        EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp(`${queueId(consumer.queue)}Arn`) },
      });
      // The queue's visibility timeout is six times the function timeout (stateful stack).
      const queue = statefulTemplate.findResources('AWS::SQS::Queue')[queueId(consumer.queue)]!;
      expect(queue.Properties.VisibilityTimeout).toBe(visibilityTimeoutSeconds(consumer));
      expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(consumer.maxReceiveCount);
      // AWS refuses an SQS event source whose queue times out before the function does.
      expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(props.Timeout);
    },
  );

  test('transcode: the queue keeps 6x the 15-minute timeout, the worker holds its message 2 minutes at a time', () => {
    const consumer = queueConsumers.transcode;
    const fn = pipeline.consumers.get('transcode')!;
    const queue = statefulTemplate.findResources('AWS::SQS::Queue')[queueId(consumer.queue)]!;
    expect(fnProps(fn).Timeout).toBe(900);
    expect(queue.Properties.VisibilityTimeout).toBe(5400);
    // The heartbeat (lambdas/adapters/heartbeat.ts): a 120 s lease renewed every 40 s, so a killed
    // worker's video is picked up again within about two minutes, not after the queue's 90.
    expect(consumer.leaseSeconds).toBe(120);
    expect(consumer.leaseSeconds / RENEWALS_PER_LEASE).toBe(40);
    expect(consumer.leaseSeconds).toBeLessThan(queue.Properties.VisibilityTimeout);
    // It renews through its own queue: the URL is set, and the event source's grant covers the call.
    expect(JSON.stringify(fnProps(fn).Environment.Variables.TRANSCODE_QUEUE_URL)).toContain(
      queueId('transcode'),
    );
    const renews = statementsOf(fn).find((s) => [s.Action].flat().includes('sqs:ChangeMessageVisibility'));
    expect(JSON.stringify(renews?.Resource)).toContain(`${queueId('transcode')}Arn`);
    // No lease override in the cloud: QUEUE_LEASE_SECONDS is for local runs and tests.
    expect(fnProps(fn).Environment.Variables.QUEUE_LEASE_SECONDS).toBeUndefined();
  });

  test('transcode fans out: one chunk job per invocation, up to 500 at once, 15 minutes each; the worker that lands the last job stitches', () => {
    const fn = pipeline.consumers.get('transcode')!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(fn.function) },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 500 },
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp(`${queueId('transcode')}Arn`) },
    });
    expect(queueConsumers.transcode).toMatchObject({ fanOut: true, maxConcurrency: 500, batchSize: 1 });
    // No reserved concurrency: the fan-out takes what the account has, the event source caps it.
    expect(fnProps(fn).ReservedConcurrentExecutions).toBeUndefined();
    expect(fnProps(fn).Timeout).toBe(900);
    expect(fnProps(fn).MemorySize).toBe(3008);
    // The stitch runs in the transcode function (no extra trigger): it writes playlists and the master
    // into the media bucket, and moves the video to ready through the database (in the VPC).
    expect(s3Grants(fn)).toContain('s3:PutObject media');
    expect(fnProps(fn).VpcConfig).toBeDefined();
    // Chunk sizes and counts are the defaults of lambdas/shared/config.ts: nothing overrides them here.
    expect(fnProps(fn).Environment.Variables.TRANSCODE_CHUNK_SECONDS).toBeUndefined();
  });

  test('MediaConvert is not configured by default: ffmpeg takes every length, ingest may start no MediaConvert job', () => {
    const ingest = pipeline.consumers.get('ingest')!;
    const env = fnProps(ingest).Environment.Variables;
    expect(env.MEDIACONVERT_ROLE_ARN).toBeUndefined();
    expect(env.FFMPEG_MAX_SECONDS).toBeUndefined();
    expect(statementsOf(ingest).some((s) => [s.Action].flat().includes('mediaconvert:CreateJob'))).toBe(
      false,
    );
    expect(statementsOf(ingest).some((s) => [s.Action].flat().includes('iam:PassRole'))).toBe(false);
  });

  test('every queue consumer and only those have an event source mapping', () => {
    expect(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')).toHaveLength(consumerList.length);
  });

  test('S3 ObjectCreated: uploaded sources go to ingest, caption files to captions (stateful stack)', () => {
    const rule = (queue: string, suffix: string) => ({
      Events: ['s3:ObjectCreated:*'],
      QueueArn: { 'Fn::GetAtt': [queueId(queue), 'Arn'] },
      Filter: {
        Key: {
          FilterRules: [
            { Name: 'suffix', Value: suffix },
            { Name: 'prefix', Value: 'uploads/' },
          ],
        },
      },
    });
    statefulTemplate.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('^StorageUploads') },
      NotificationConfiguration: {
        QueueConfigurations: [rule('ingest', '/source'), rule('captions', '/caption')],
      },
    });
  });

  test('least privilege per consumer: exactly the bucket actions it needs', () => {
    const c = pipeline.consumers;
    // GetObjectTagging: the malware scan status GuardDuty writes (lib/constructs/malware-protection.ts);
    // DeleteObject: a flagged or unscannable source is removed.
    expect(s3Grants(c.get('ingest')!)).toEqual([
      's3:DeleteObject uploads',
      's3:GetObject uploads',
      's3:GetObjectTagging uploads',
      's3:ListBucket uploads',
    ]);
    expect(s3Grants(c.get('transcode')!)).toEqual([
      's3:DeleteObject media',
      's3:GetObject uploads',
      's3:ListBucket media',
      's3:PutObject media',
    ]);
    // Lists before deleting, in both buckets (ListObjectsV2 needs s3:ListBucket).
    expect(s3Grants(c.get('media-cleanup')!)).toEqual([
      's3:DeleteObject media',
      's3:DeleteObject uploads',
      's3:ListBucket media',
      's3:ListBucket uploads',
    ]);
    // Reads the uploaded caption (and deletes it once handled); reads and writes the master playlist and
    // the track under the video's prefix; removes a deleted track's files.
    expect(s3Grants(c.get('captions')!)).toEqual([
      's3:DeleteObject media',
      's3:DeleteObject uploads',
      's3:GetObject media',
      's3:GetObject uploads',
      's3:ListBucket uploads',
      's3:PutObject media',
    ]);
    // Reads renditions, writes downloads, sprites and posters, removes those no longer wanted: objects of
    // videos/ only (never the uploads bucket, never listing).
    expect(s3Grants(c.get('derivatives')!)).toEqual([
      's3:DeleteObject media',
      's3:GetObject media',
      's3:PutObject media',
    ]);
    const derivativeObjects = statementsOf(c.get('derivatives')!)
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      .map((s) => JSON.stringify(s.Resource));
    for (const resource of derivativeObjects) expect(resource).toMatch(/\/videos\/\*"\]/);
    expect(s3Grants(c.get('edge-sync')!)).toEqual([]);
    // Removes the outputs of a video deleted while its job ran.
    expect(s3Grants(pipeline.mediaConvert.statusFunction)).toEqual([
      's3:DeleteObject media',
      's3:ListBucket media',
    ]);
    for (const fn of [...c.values(), pipeline.mediaConvert.statusFunction]) {
      for (const s of statementsOf(fn)) {
        for (const action of [s.Action].flat()) expect(action).not.toMatch(/^(s3|sqs|dynamodb|iam):\*$|^\*$/);
        if ([s.Action].flat().some((a) => a.startsWith('s3:'))) expect(s.Resource).not.toEqual('*');
      }
    }
  });

  test('only ingest writes the state table (idempotency) and sends to the transcode queue', () => {
    const c = pipeline.consumers;
    const writesState = (entry: string) =>
      statementsOf(c.get(entry)!).some((s) => [s.Action].flat().includes('dynamodb:PutItem'));
    expect(writesState('ingest')).toBe(true);
    expect(writesState('transcode')).toBe(false);
    // Each consumer knows its own queue, to shorten a waiting record's visibility.
    expect(JSON.stringify(fnProps(c.get('ingest')!).Environment.Variables.INGEST_QUEUE_URL)).toContain(
      queueId('ingest'),
    );
    const ingest = fnProps(c.get('ingest')!).Environment.Variables;
    expect(JSON.stringify(ingest.TRANSCODE_QUEUE_URL)).toContain(queueId('transcode'));
    expect(statementsOf(c.get('ingest')!).some((s) => [s.Action].flat().includes('sqs:SendMessage'))).toBe(
      true,
    );
    expect(
      statementsOf(c.get('media-cleanup')!).some((s) => [s.Action].flat().includes('sqs:SendMessage')),
    ).toBe(false);
    // The transcoder sends its video events (ready, failed) to the webhook-events queue, and nothing else.
    const transcodeSends = statementsOf(c.get('transcode')!).filter((s) =>
      [s.Action].flat().includes('sqs:SendMessage'),
    );
    // ... and the derivatives requests video.ready writes beside them; nothing else.
    const sent = JSON.stringify(transcodeSends.map((s) => s.Resource));
    expect(sent).toContain(queueId('webhook-events'));
    expect(sent).toContain(queueId('derivatives'));
    expect(transcodeSends.flatMap((s) => [s.Resource].flat())).toHaveLength(2);
  });

  test('with mediaConvertAboveSeconds, ingest may start MediaConvert jobs and pass exactly the MediaConvert role, to MediaConvert only', () => {
    // The stage opts in: sources above 10 minutes go to MediaConvert.
    const stages = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
        context: { stages: Record<string, object> };
      }
    ).context.stages;
    const opted = buildStage(stageName, {
      stages: { ...stages, [stageName]: { ...stages[stageName], mediaConvertAboveSeconds: 600 } },
    });
    const { stateless, statelessTemplate: template } = opted;
    const pipeline = stateless.pipeline;
    const fnProps = (fn: AppFunction) =>
      template.findResources('AWS::Lambda::Function')[
        Stack.of(stateless).getLogicalId(fn.function.node.defaultChild as CfnFunction)
      ]!.Properties;
    const statementsOf = (fn: { role: { node: { defaultChild?: unknown } } }) =>
      statementsOfRole(template, stateless, fn.role);
    const ingest = pipeline.consumers.get('ingest')!;
    expect(fnProps(ingest).Environment.Variables.FFMPEG_MAX_SECONDS).toBe('600');
    const roleId = Stack.of(stateless).getLogicalId(pipeline.mediaConvert.role.node.defaultChild as CfnRole);
    const statements = statementsOf(ingest);
    const pass = statements.find((s) => [s.Action].flat().includes('iam:PassRole'))!;
    expect(pass.Resource).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } });
    const create = statements.find((s) => [s.Action].flat().includes('mediaconvert:CreateJob'))!;
    expect(JSON.stringify(create.Resource)).toContain(':jobs/*');
    const env = fnProps(ingest).Environment.Variables;
    expect(env.MEDIACONVERT_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(env.VIDEOCLOUD_STAGE).toBe(stage.name);
    // The status handler checks the same tag.
    expect(fnProps(pipeline.mediaConvert.statusFunction).Environment.Variables.VIDEOCLOUD_STAGE).toBe(
      stage.name,
    );
    for (const fn of [...pipeline.consumers.values()].filter((f) => f !== ingest)) {
      expect(statementsOf(fn).some((s) => [s.Action].flat().includes('iam:PassRole'))).toBe(false);
    }
  });

  test('the MediaConvert role: assumed by MediaConvert, reads uploads/* and writes videos/* only', () => {
    const role = pipeline.mediaConvert.role;
    const roleId = Stack.of(stateless).getLogicalId(role.node.defaultChild as CfnRole);
    const props = template.findResources('AWS::IAM::Role')[roleId]!.Properties;
    expect(props.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'mediaconvert.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    ]);
    expect(props.ManagedPolicyArns).toBeUndefined();
    const statements = statementsOf({ role });
    expect(statements).toHaveLength(2);
    const grants = statements.map((s) => `${s.Action} ${JSON.stringify(s.Resource)}`);
    expect(grants.find((g) => g.startsWith('s3:GetObject '))).toMatch(/Uploads.*\/uploads\/\*"/);
    expect(grants.find((g) => g.startsWith('s3:PutObject '))).toMatch(/Media.*\/videos\/\*"/);
  });

  test("MediaConvert state changes of this stage's jobs (COMPLETE, ERROR) go to the status function", () => {
    const status = pipeline.mediaConvert.statusFunction;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.mediaconvert'],
        'detail-type': ['MediaConvert Job State Change'],
        // The UserMetadata key the ingest adapter tags jobs with (lambdas/adapters/mediaconvert.ts).
        detail: { status: ['COMPLETE', 'ERROR'], userMetadata: { [JOB_METADATA_STAGE]: [stage.name] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id(status.function), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('StatusDlq'), 'Arn'] } },
        }),
      ],
    });
  });

  test('an alarm on every dead-letter queue and on transcode errors, to an encrypted TLS-only topic', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
    const dlqAlarms = alarms.filter(
      ([, a]) => a.Properties!.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    // One per consumer queue's DLQ and the MediaConvert status rule's DLQ.
    expect(dlqAlarms).toHaveLength(consumerList.length + 1);
    for (const [, alarm] of dlqAlarms) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: expect.stringMatching(/AlarmsTopic/) }],
      });
    }
    const errors = alarms.filter(([, a]) => a.Properties!.MetricName === 'Errors');
    expect(errors.map(([, a]) => JSON.stringify(a.Properties!.Dimensions))).toEqual([
      expect.stringContaining(id(pipeline.consumers.get('transcode')!.function)),
      expect.stringContaining(id(pipeline.consumers.get('webhook-sender')!.function)),
    ]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test.each(scheduledWorkerList.map((w) => [w.entry, w] as const))(
    'scheduled worker %s: its own function on an EventBridge rate schedule from schedules.ts',
    (entry, worker) => {
      const fn = pipeline.scheduled.functions.get(entry)!;
      expect(fnProps(fn).Timeout).toBe(worker.timeoutSeconds);
      expect(fnProps(fn).MemorySize).toBe(worker.memoryMb);
      const [rule] = resourcesOfType(template, 'AWS::Events::Rule').filter(([, r]) =>
        JSON.stringify(r.Properties!.Targets).includes(`"${id(fn.function)}"`),
      );
      // CDK writes the rate in the largest whole unit: rate(60 minutes) is rate(1 hour).
      const [, amount, unit] = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(
        String(rule![1].Properties!.ScheduleExpression),
      )!;
      expect(Number(amount) * { minute: 1, hour: 60, day: 1440 }[unit as 'minute']).toBe(worker.everyMinutes);
    },
  );

  test('the cleanup sweeper may only re-queue cleanups (no bucket access)', () => {
    const sweeper = pipeline.scheduled.functions.get('cleanup-sweeper')!;
    expect(s3Grants(sweeper)).toEqual([]);
    expect(JSON.stringify(fnProps(sweeper).Environment.Variables.MEDIA_CLEANUP_QUEUE_URL)).toContain(
      queueId('media-cleanup'),
    );
  });
});
