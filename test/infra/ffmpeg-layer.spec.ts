import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { queueConsumers } from '../../lambdas/events/consumers.ts';
import {
  buildFfmpegLayerDirectory,
  ELF_MACHINE,
  elfMachine,
  FFMPEG_TOOLS,
  npmPackageFor,
} from '../../layers/ffmpeg/ffmpeg-layer.ts';
import { REPO_ROOT } from '../../lib/constructs/app-function.ts';
import { FFMPEG_ARCHITECTURE } from '../../lib/constructs/pipeline.ts';
import { appFunctions, buildStage } from './app.ts';

describe('ffmpeg layer directory (npm static builds for the ffmpeg functions architecture)', () => {
  // Fetches the pinned tarballs through npm's cache the first time on a machine of another architecture.
  let dir = '';
  test('builds', () => {
    dir = buildFfmpegLayerDirectory({ kind: 'npm', architecture: FFMPEG_ARCHITECTURE }, FFMPEG_ARCHITECTURE);
    expect(existsSync(dir)).toBe(true);
  }, 180_000);

  test.each(FFMPEG_TOOLS)(
    'bin/%s is present, executable and an ELF for the function architecture',
    (tool) => {
      const file = join(dir, 'bin', tool);
      expect(existsSync(file)).toBe(true);
      const { mode, size } = statSync(file);
      expect(mode & 0o755).toBe(0o755);
      expect(size).toBeGreaterThan(1_000_000);
      expect(elfMachine(file)).toBe(ELF_MACHINE[FFMPEG_ARCHITECTURE.name]);
    },
  );

  test('versions are pinned by package-lock.json (with their sha512)', () => {
    for (const tool of FFMPEG_TOOLS) {
      const pkg = npmPackageFor(tool, FFMPEG_ARCHITECTURE);
      expect(pkg.name).toBe(
        `@${tool}-installer/${FFMPEG_ARCHITECTURE === lambda.Architecture.ARM_64 ? 'linux-arm64' : 'linux-x64'}`,
      );
      expect(pkg.integrity).toMatch(/^sha512-/);
    }
  });

  test('a directory source (-c ffmpegBinaries=...) is checked: binaries of another architecture are refused', () => {
    const other =
      FFMPEG_ARCHITECTURE === lambda.Architecture.ARM_64
        ? lambda.Architecture.X86_64
        : lambda.Architecture.ARM_64;
    expect(() =>
      buildFfmpegLayerDirectory({ kind: 'directory', directory: join(dir, 'bin') }, other),
    ).toThrow(/is not a Linux .* executable/);
    expect(() =>
      buildFfmpegLayerDirectory(
        { kind: 'directory', directory: join(REPO_ROOT, 'no-such-dir') },
        FFMPEG_ARCHITECTURE,
      ),
    ).toThrow(/does not exist/);
    // The same binaries as a directory source give an identical layer.
    const again = buildFfmpegLayerDirectory(
      { kind: 'directory', directory: join(dir, 'bin') },
      FFMPEG_ARCHITECTURE,
    );
    expect(elfMachine(join(again, 'bin', 'ffmpeg'))).toBe(ELF_MACHINE[FFMPEG_ARCHITECTURE.name]);
  });
});

describe.each(['dev', 'prod'] as const)('ffmpeg layer in the stack (%s)', (stageName) => {
  const { stateless, statelessTemplate: template } = buildStage(stageName);
  const layerId = Stack.of(stateless).getLogicalId(
    stateless.pipeline.ffmpegLayer.layer.node.defaultChild as lambda.CfnLayerVersion,
  );

  test('one layer, for the ffmpeg architecture and nodejs24.x, with its source in the description', () => {
    // (BucketDeployment brings the AWS CLI layer, for its own Python handler.)
    const nodeLayers = Object.values(template.findResources('AWS::Lambda::LayerVersion')).filter((l) =>
      JSON.stringify(l.Properties.CompatibleRuntimes ?? []).includes('nodejs'),
    );
    expect(nodeLayers).toHaveLength(1);
    const layer = template.findResources('AWS::Lambda::LayerVersion')[layerId]!.Properties;
    expect(layer.CompatibleArchitectures).toEqual([FFMPEG_ARCHITECTURE.name]);
    expect(layer.CompatibleRuntimes).toEqual(['nodejs24.x']);
    expect(layer.Description).toContain('@ffmpeg-installer/');
  });

  test('the consumers marked ffmpeg (ingest, transcode, derivatives) carry the layer on its architecture; no other function does', () => {
    const withFfmpeg = Object.values(queueConsumers)
      .filter((c) => 'ffmpeg' in c && c.ffmpeg)
      .map((c) => c.entry)
      .sort();
    expect(withFfmpeg).toEqual(['derivatives', 'ingest', 'transcode']);
    const functions = template.findResources('AWS::Lambda::Function');
    for (const entry of withFfmpeg) {
      const fn = stateless.pipeline.consumers.get(entry)!.function;
      const props =
        functions[Stack.of(stateless).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)]!.Properties;
      expect(props.Layers).toEqual([{ Ref: layerId }]);
      expect(props.Architectures).toEqual([FFMPEG_ARCHITECTURE.name]);
    }
    const layered = appFunctions(template).filter(([, fn]) => fn.Properties?.Layers);
    expect(layered).toHaveLength(withFfmpeg.length);
  });
});
