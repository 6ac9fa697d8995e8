import { describe, expect, test } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { loadStageConfig } from '../../lib/stage-config.ts';
import { buildStage } from './app.ts';

const valid = {
  retainData: false,
  deletionProtection: false,
  backupRetentionDays: 1,
  requireMfa: false,
  webOrigins: ['http://localhost:3000'],
  throttle: { rateLimit: 10, burstLimit: 20 },
  logRetentionDays: 14,
};

const load = (context: Record<string, unknown>) => loadStageConfig(new App({ context }).node);

describe('stage config', () => {
  test('reads the selected stage from cdk.json context', () => {
    expect(buildStage('prod').stage).toMatchObject({ name: 'prod', retainData: true, requireMfa: true });
  });

  test('an unknown stage fails with a message that names it and the known ones', () => {
    expect(() => load({ stage: 'staging', stages: { dev: valid, prod: valid } })).toThrow(
      /Unknown stage "staging".*dev, prod/,
    );
  });

  test('a missing stages map fails clearly', () => {
    expect(() => load({ stage: 'dev' })).toThrow(/context\.stages is missing/);
  });

  test('a bad setting fails with the stage and the field', () => {
    expect(() => load({ stage: 'dev', stages: { dev: { ...valid, logRetentionDays: 13 } } })).toThrow(
      /Stage "dev".*logRetentionDays/s,
    );
    expect(() => load({ stage: 'dev', stages: { dev: { ...valid, typo: true } } })).toThrow(/Stage "dev"/);
  });

  test.each(['*', 'https://app.example.com/path', 'http://app.example.com', 'app.example.com'])(
    'web origin %s is rejected',
    (origin) => {
      expect(() => load({ stage: 'dev', stages: { dev: { ...valid, webOrigins: [origin] } } })).toThrow(
        /webOrigins/,
      );
    },
  );

  test('Multi-AZ defaults to retainData', () => {
    expect(load({ stage: 'dev', stages: { dev: valid } }).multiAz).toBe(false);
    expect(load({ stage: 'dev', stages: { dev: { ...valid, retainData: true } } }).multiAz).toBe(true);
    expect(load({ stage: 'dev', stages: { dev: { ...valid, multiAz: true } } }).multiAz).toBe(true);
  });
});

describe('prod differs from dev where data and access are at stake', () => {
  const dev = buildStage('dev');
  const prod = buildStage('prod');
  const instance = (t: typeof dev.statefulTemplate) =>
    Object.values(t.findResources('AWS::RDS::DBInstance'))[0] as {
      Properties: Record<string, unknown>;
      DeletionPolicy: string;
    };

  test('prod keeps its data: snapshot/retain policies, deletion protection, longer backups, Multi-AZ', () => {
    expect(instance(dev.statefulTemplate)).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: { DeletionProtection: false, BackupRetentionPeriod: 1, MultiAZ: false },
    });
    expect(instance(prod.statefulTemplate)).toMatchObject({
      DeletionPolicy: 'Snapshot',
      Properties: { DeletionProtection: true, BackupRetentionPeriod: 30, MultiAZ: true },
    });
    expect(dev.stateful.terminationProtection).toBe(false);
    expect(prod.stateful.terminationProtection).toBe(true);
  });

  test('prod requires MFA; dev only offers it', () => {
    dev.statefulTemplate.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'OPTIONAL' });
    prod.statefulTemplate.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });

  test('prod throttles at its own limits and keeps logs a year', () => {
    for (const { statelessTemplate, stage } of [dev, prod]) {
      const [apiStage] = Object.values(statelessTemplate.findResources('AWS::ApiGateway::Stage')) as Array<{
        Properties: { MethodSettings: Array<{ ThrottlingRateLimit: number }> };
      }>;
      expect(apiStage!.Properties.MethodSettings[0]!.ThrottlingRateLimit).toBe(stage.throttle.rateLimit);
    }
    expect(prod.stage.throttle.rateLimit).not.toBe(dev.stage.throttle.rateLimit);
    const retention = (t: typeof dev.statelessTemplate) =>
      new Set(Object.values(t.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays));
    expect(retention(dev.statelessTemplate)).toEqual(new Set([14]));
    expect(retention(prod.statelessTemplate)).toEqual(new Set([365]));
  });
});
