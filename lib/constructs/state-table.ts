import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { stateTable } from '../../lambdas/shared/resources.ts';
import type { StageConfig } from '../stage-config.ts';

export interface StateTableProps {
  /** Deletion protection and removal policy come from the stage. */
  readonly stage: StageConfig;
}

/**
 * The single DynamoDB table for short-lived, hot state: upload sessions, rate-limit buckets and
 * idempotency records. Keys and the TTL attribute come from `stateTable` in lambdas/shared/resources.ts,
 * the same definition the local dynalite stand-in is created from.
 */
export class StateTable extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    const { stage } = props;

    // Table (AWS::DynamoDB::Table) rather than TableV2 (a GlobalTable): one region is all we need.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: stateTable.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: stateTable.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: stateTable.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
