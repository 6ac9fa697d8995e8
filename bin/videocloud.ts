#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addVideoCloudStacks } from '../lib/videocloud.ts';

/**
 * The VideoCloud CDK app. `-c stage=dev|prod` selects the stage (settings in cdk.json context.stages).
 * cdk-nag's AwsSolutions pack runs as a policy-validation plugin, so synth fails on any finding that is
 * not acknowledged, with a reason, next to the resource it concerns.
 */
const app = new App();
addVideoCloudStacks(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
