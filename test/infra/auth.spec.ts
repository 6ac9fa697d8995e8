import { describe, expect, test } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { buildStage } from './app.ts';

describe.each(['dev', 'prod'] as const)('Cognito (%s)', (stageName) => {
  const { statefulTemplate: template, stage } = buildStage(stageName);

  test('email sign-in with a 12+ character complex password policy and email-only recovery', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });

  test(`TOTP MFA is ${stage.requireMfa ? 'required' : 'optional'}`, () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: stage.requireMfa ? 'ON' : 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });
  });

  test('deletion protection and retention follow the stage', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      Properties: Match.objectLike({ DeletionProtection: stage.deletionProtection ? 'ACTIVE' : 'INACTIVE' }),
      DeletionPolicy: stage.retainData ? 'Retain' : 'Delete',
    });
  });

  test('groups admin, creator and viewer', () => {
    for (const group of ['admin', 'creator', 'viewer']) {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: group });
    }
  });

  test('a resource server "videocloud" with the API scopes', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Identifier: 'videocloud',
      Scopes: Match.arrayWith(
        ['videos:read', 'videos:write', 'uploads:write'].map((ScopeName) => Match.objectLike({ ScopeName })),
      ),
    });
  });

  test('the web client is public (no secret) with 15-minute access tokens and revocation', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AccessTokenValidity: 15,
      IdTokenValidity: 15,
      TokenValidityUnits: Match.objectLike({ AccessToken: 'minutes', IdToken: 'minutes' }),
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  test('hosted-UI sign-in uses the authorization-code flow with callbacks on the web origins only', () => {
    // The stage's origins, then the deployed web app (WebHosting distribution in this same stack).
    const webApp = {
      'Fn::Join': [
        '',
        ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebDistribution'), 'DomainName'] }, '/'],
      ],
    };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      CallbackURLs: [...stage.webOrigins.map((o) => `${o}/`), webApp],
      LogoutURLs: [...stage.webOrigins.map((o) => `${o}/`), webApp],
      AllowedOAuthScopes: Match.arrayWith([
        'openid',
        Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['/videos:read'])]) }),
      ]),
    });
  });

  test('a Cognito-hosted domain prefixed with the stage and account', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      Domain: { 'Fn::Join': ['', [`videocloud-${stage.name}-`, { Ref: 'AWS::AccountId' }]] },
    });
  });
});

test('the feature plan is Essentials unless a stage opts into Plus', () => {
  const { statefulTemplate } = buildStage('dev');
  statefulTemplate.hasResourceProperties('AWS::Cognito::UserPool', { UserPoolTier: 'ESSENTIALS' });
  expect(buildStage('dev').stage.cognitoFeaturePlan).toBe('essentials');
});
