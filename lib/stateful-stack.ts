import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Auth } from './constructs/auth.ts';
import { Database } from './constructs/database.ts';
import { MalwareProtection } from './constructs/malware-protection.ts';
import { MediaDelivery } from './constructs/media-delivery.ts';
import { MediaStorage } from './constructs/media-storage.ts';
import { Network } from './constructs/network.ts';
import { Queues } from './constructs/queues.ts';
import { StateTable } from './constructs/state-table.ts';
import { UploadNotifications } from './constructs/upload-notifications.ts';
import { WebHosting } from './constructs/web-hosting.ts';
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
  public readonly delivery: MediaDelivery;
  public readonly web: WebHosting;
  public readonly malwareProtection?: MalwareProtection;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.network = new Network(this, 'Network', { stage });
    this.database = new Database(this, 'Database', { stage, network: this.network });
    this.storage = new MediaStorage(this, 'Storage', { stage });
    this.stateTable = new StateTable(this, 'State', { stage });
    this.queues = new Queues(this, 'Queues');
    // GuardDuty scans and tags every uploaded source; the bucket policy lets pipeline roles read only clean ones.
    if (stage.malwareProtection) {
      this.malwareProtection = new MalwareProtection(this, 'MalwareProtection', {
        bucket: this.storage.uploadsBucket,
      });
    }
    // Bucket and queue both live here, so their wiring does too (from the stateless stack it would be a cycle).
    new UploadNotifications(this, 'UploadNotifications', { storage: this.storage, queues: this.queues });
    // The web app's bucket and distribution live here so that its origin can be a Cognito callback URL and
    // a CORS origin of the uploads bucket and the media CDN (from the stateless stack: a cycle). Its files
    // and config.json are deployed from the stateless stack (WebDeployment), which knows the API URL.
    this.web = new WebHosting(this, 'Web', {
      stage,
      storage: this.storage,
      webAclId: stage.cloudFrontWebAclArn,
    });
    this.storage.allowBrowserUploadsFrom(this.web.origin);
    this.auth = new Auth(this, 'Auth', { stage, extraWebOrigins: [this.web.origin] });
    // The media CDN lives beside its bucket: OAC adds the distribution to the media bucket's policy, which
    // from the stateless stack would be a cycle; and its signing key (Secrets Manager) is data to keep.
    this.delivery = new MediaDelivery(this, 'MediaDelivery', {
      stage,
      storage: this.storage,
      webOrigins: [...stage.webOrigins, this.web.origin],
      webAclId: stage.cloudFrontWebAclArn,
    });
  }
}
