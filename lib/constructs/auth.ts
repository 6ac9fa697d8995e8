import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { Role, Scope } from '../../lambdas/core/principal.ts';
import type { StageConfig } from '../stage-config.ts';

/** Cognito prefixes each scope with the resource server's identifier: `videocloud/videos:read`. */
export const RESOURCE_SERVER_ID = 'videocloud';
export const API_SCOPE_PREFIX = `${RESOURCE_SERVER_ID}/`;

const SCOPES: Record<Scope, string> = {
  'videos:read': 'Read videos, including your own private ones',
  'videos:write': 'Update and delete your videos',
  'uploads:write': 'Upload new videos',
};

/** Groups map to roles in `cognito:groups`; lower precedence wins when a user is in several. */
const GROUPS: ReadonlyArray<{ name: Role; precedence: number; description: string }> = [
  { name: 'admin', precedence: 0, description: 'Everything on every video' },
  { name: 'creator', precedence: 10, description: 'Upload and manage own videos' },
  { name: 'viewer', precedence: 20, description: 'Watch public and unlisted videos' },
];

export interface AuthProps {
  /** MFA, web origins (callback URLs), feature plan and retention come from the stage. */
  readonly stage: StageConfig;
  /**
   * Web origins beyond the stage's `webOrigins` that may sign in through the hosted UI (callback and
   * logout URLs), e.g. the web hosting distribution's `https://<domain>`.
   */
  readonly extraWebOrigins?: readonly string[];
}

/**
 * Who may call the API: a Cognito user pool (email sign-in, strong password policy, TOTP MFA, email
 * recovery), the role groups, a resource server with the API's scopes, and the web app client that gets
 * access tokens through the hosted UI (authorization code + PKCE, no client secret). Handlers verify the
 * access tokens themselves with aws-jwt-verify against `userPool` and `webClient`.
 */
export class Auth extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly resourceServer: cognito.UserPoolResourceServer;
  public readonly webClient: cognito.UserPoolClient;
  public readonly domain: cognito.UserPoolDomain;
  public readonly scopePrefix = API_SCOPE_PREFIX;
  /** The OAuth scopes the web client asks the hosted UI for (its config.json `auth.scopes`). */
  public readonly webScopes: string[] = [
    'openid',
    'email',
    'profile',
    ...Object.keys(SCOPES).map((scope) => `${API_SCOPE_PREFIX}${scope}`),
  ];

  constructor(scope: Construct, id: string, props: AuthProps) {
    super(scope, id);
    const { stage } = props;
    const plus = stage.cognitoFeaturePlan === 'plus';

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      // Accounts are created by an admin (or an invite flow) until sign-up abuse controls exist.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: stage.requireMfa ? cognito.Mfa.REQUIRED : cognito.Mfa.OPTIONAL,
      // TOTP only: SMS codes can be SIM-swapped and need an SNS role and spend limit.
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: plus ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      standardThreatProtectionMode: plus ? cognito.StandardThreatProtectionMode.FULL_FUNCTION : undefined,
      deletionProtection: stage.deletionProtection,
      removalPolicy: stage.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (!stage.requireMfa) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG2',
        reason: `Stage ${stage.name} is for development with throwaway accounts, so TOTP MFA is optional there; stages that set requireMfa enforce it.`,
      });
    }
    if (!plus) {
      Validations.of(this.userPool).acknowledge({
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus plan (threat protection) is billed per monthly active user; this stage uses Essentials ' +
          'with a 12-character complex password policy, TOTP MFA and 15-minute access tokens. Set ' +
          'cognitoFeaturePlan to plus in the stage config to enable it.',
      });
    }

    for (const group of GROUPS) {
      this.userPool.addGroup(`Group-${group.name}`, {
        groupName: group.name,
        precedence: group.precedence,
        description: group.description,
      });
    }

    const scopes = Object.entries(SCOPES).map(
      ([scopeName, scopeDescription]) => new cognito.ResourceServerScope({ scopeName, scopeDescription }),
    );
    this.resourceServer = this.userPool.addResourceServer('Api', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'VideoCloud API',
      scopes,
    });

    const callbackUrls = [...stage.webOrigins, ...(props.extraWebOrigins ?? [])].map(
      (origin) => `${origin}/`,
    );
    if (callbackUrls.length === 0) {
      // Cognito refuses a code-grant client without callback URLs; the client still exists (its id is
      // configuration for the API) and hosted-UI sign-in starts working once an origin is configured.
      Annotations.of(this).addWarningV2(
        'videocloud:auth-no-web-origins',
        `Stage ${stage.name} has no webOrigins, so the web client's hosted-UI sign-in is disabled. ` +
          `Add the web app's origin to cdk.json context.stages.${stage.name}.webOrigins.`,
      );
    }
    this.webClient = this.userPool.addClient('WebClient', {
      userPoolClientName: 'web',
      // A browser cannot keep a secret; PKCE protects the authorization code instead.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth:
        callbackUrls.length > 0
          ? {
              flows: { authorizationCodeGrant: true },
              scopes: [
                cognito.OAuthScope.OPENID,
                cognito.OAuthScope.EMAIL,
                cognito.OAuthScope.PROFILE,
                ...scopes.map((s) => cognito.OAuthScope.resourceServer(this.resourceServer, s)),
              ],
              callbackUrls,
              logoutUrls: callbackUrls,
            }
          : undefined,
      disableOAuth: callbackUrls.length === 0,
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      // Access tokens cannot be revoked once issued (handlers verify them offline), so keep them short.
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });

    this.domain = this.userPool.addDomain('HostedUi', {
      // Prefixes are global across AWS; the account id keeps each deployment's prefix unique.
      cognitoDomain: { domainPrefix: `videocloud-${stage.name}-${Stack.of(this).account}` },
    });
  }
}
