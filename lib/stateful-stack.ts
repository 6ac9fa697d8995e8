import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Auth } from './constructs/auth.ts';
import { Database } from './constructs/database.ts';
import { MediaStorage } from './constructs/media-storage.ts';
import { Network } from './constructs/network.ts';
import { Queues } from './constructs/queues.ts';
import { StateTable } from './constructs/state-table.ts';
import type { StageConfig } from './stage-config.ts';

export interface StatefulStackProps extends StackProps {
  readonly stage: StageConfig;
}

/**
 * Everything that holds data or identity and must outlive any code deploy: the network, the database and
 * its proxy, the buckets, the state table, the queues and the user pool. It changes rarely; the
 * stateless stack receives these constructs as typed props and can be torn down and redeployed freely.
 */
export class StatefulStack extends Stack {
  public readonly network: Network;
  public readonly database: Database;
  public readonly storage: MediaStorage;
  public readonly stateTable: StateTable;
  public readonly queues: Queues;
  public readonly auth: Auth;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.network = new Network(this, 'Network', { stage });
    this.database = new Database(this, 'Database', { stage, network: this.network });
    this.storage = new MediaStorage(this, 'Storage', { stage });
    this.stateTable = new StateTable(this, 'State', { stage });
    this.queues = new Queues(this, 'Queues');
    this.auth = new Auth(this, 'Auth', { stage });
  }
}
