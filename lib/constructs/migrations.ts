import { Duration } from 'aws-cdk-lib';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { serviceName } from '../../lambdas/shared/resources.ts';
import type { StageConfig } from '../stage-config.ts';
import { AppFunction } from './app-function.ts';
import type { Database } from './database.ts';
import type { Network } from './network.ts';

export interface MigrationsProps {
  readonly stage: StageConfig;
  readonly network: Network;
  readonly database: Database;
  /** Handler module relative to the repository root. @default 'lambdas/events/migrate.ts' */
  readonly entry?: string;
}

/**
 * Deploy-time schema migration. A function inside the VPC connects straight to the instance (not the
 * proxy) with the RDS-managed master secret, makes sure the IAM-auth app role exists, applies pending
 * migrations and grants the app role its privileges. A CloudFormation trigger runs it after the database
 * exists and again on every deploy that changes the function (its code carries the migrations), and a
 * failing migration fails the deploy.
 */
export class Migrations extends Construct {
  public readonly handler: AppFunction;
  public readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const { database, network, stage } = props;

    this.handler = new AppFunction(this, 'Migrate', {
      entry: props.entry ?? 'lambdas/events/migrate.ts',
      stage,
      description: 'Creates the app role and applies database migrations (run by a deploy-time trigger)',
      network,
      // Its own group: only this function may reach the database instance itself.
      securityGroup: 'own',
      memoryMb: 512,
      timeout: Duration.minutes(5),
      environment: {
        DB_HOST: database.instance.dbInstanceEndpointAddress,
        DB_PORT: String(database.instancePort),
        DB_NAME: database.databaseName,
        DB_SECRET_ARN: database.masterSecret.secretArn,
        APP_DB_USER: database.appUser,
        LOG_LEVEL: stage.logLevel,
        POWERTOOLS_SERVICE_NAME: serviceName,
      },
    });
    database.masterSecret.grantRead(this.handler.role);
    this.handler.allowConnectionTo(
      database.instanceSecurityGroup,
      database.instancePort,
      'Postgres instance',
    );
    // The secret is fetched through the Secrets Manager interface endpoint, which admits 443 from the VPC.

    this.trigger = new triggers.Trigger(this, 'Run', {
      handler: this.handler.function,
      executeAfter: [database],
      executeOnHandlerChange: true,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: Duration.minutes(5),
    });
  }
}
