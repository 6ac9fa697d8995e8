import { Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { uploadNotifications } from '../../lambdas/shared/resources.ts';
import type { MediaStorage } from './media-storage.ts';
import type { Queues } from './queues.ts';

export interface UploadNotificationsProps {
  readonly storage: MediaStorage;
  readonly queues: Queues;
}

/**
 * S3 ObjectCreated on uploaded sources (`uploads/{id}/source`) -> the ingest queue. Lives in the
 * stateful stack because both the bucket and the queue do: the notification configuration is a
 * property of the bucket, and the queue policy that admits S3 belongs to the queue, so creating it from
 * the stateless stack would make stateful resources depend on stateless ones (a cycle).
 */
export class UploadNotifications extends Construct {
  constructor(scope: Construct, id: string, props: UploadNotificationsProps) {
    super(scope, id);
    // The same list the local runtime routes its S3 events by (lambdas/shared/resources.ts).
    for (const { prefix, suffix, queue } of uploadNotifications) {
      props.storage.uploadsBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.SqsDestination(props.queues.byKey[queue].queue),
        { prefix, suffix },
      );
    }
    // CDK's stack-wide singleton that applies bucket notification configurations at deploy time.
    const handler = Stack.of(this)
      .node.findAll()
      .find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's BucketNotificationsHandler is a deploy-time custom resource that only calls " +
          'PutBucketNotification; its role is created by aws-s3 with the basic execution policy and cannot be ' +
          'replaced, and the function runs only during deployments.',
      });
    }
  }
}
