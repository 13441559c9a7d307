import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverModels } from '../../src/registry/discover.js';
import { cleanupModels, modelsDirSizeBytes } from '../../src/registry/cleanup.js';
import { DAY, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const NOW = Date.UTC(2026, 5, 1);

describe('cleanupModels', () => {
  it('removes only old, little-used, unprotected versions and reports the bytes freed', async () => {
    const modelsDir = join(await tempHome(), 'models');
    const files = { 'a.json': 1000, 'a.bin': 4000 };
    for (const [v, age] of [['1.0', 400], ['1.1', 300], ['1.2', 200], ['1.3', 150], ['1.4', 10]] as const) {
      await writeArtifact(modelsDir, { version: v, files, trainingEnd: NOW - age * DAY });
    }
    const before = await modelsDirSizeBytes(modelsDir);
    const versions = await discoverModels(modelsDir);
    const perVersion = versions[0].sizeBytes;
    expect(perVersion).toBeGreaterThan(5000);
    const report = await cleanupModels({
      modelsDir,
      versions,
      usage: { '1.0': 3, '1.1': 500, '1.2': 1, '1.3': 0 },
      protect: [{ version: '1.0', why: 'serving BTC/USDT' }, { version: '1.3', why: 'pinned' }],
      maxAgeDays: 90,
      keepTopN: 1,
      now: NOW,
    });
    expect(report.removed.map((r) => r.version)).toEqual(['1.2']);
    expect(report.removed[0].reason).toBe('200 days old > 90 and 1 uses (not in top 1)');
    expect(report.freedBytes).toBe(perVersion);
    expect(Object.fromEntries(report.kept.map((k) => [k.version, k.reason]))).toEqual({
      '1.0': 'serving BTC/USDT',
      '1.1': 'among the 1 most used (500 uses; ties keep the newer)',
      '1.3': 'pinned',
      '1.4': '10 days old <= 90',
    });
    expect(existsSync(join(modelsDir, 'v1.2'))).toBe(false);
    expect(existsSync(join(modelsDir, 'v1.0'))).toBe(true);
    expect(await modelsDirSizeBytes(modelsDir)).toBe(before - perVersion);
    expect((await discoverModels(modelsDir)).map((v) => v.version)).toEqual(['1.0', '1.1', '1.3', '1.4']);
  });

  it('changes nothing in a dry run', async () => {
    const modelsDir = join(await tempHome(), 'models');
    await writeArtifact(modelsDir, { version: '1.0', trainingEnd: NOW - 400 * DAY });
    await writeArtifact(modelsDir, { version: '1.1', trainingEnd: NOW - 1 * DAY });
    const r = await cleanupModels({ modelsDir, versions: await discoverModels(modelsDir), usage: {}, protect: [], maxAgeDays: 30, keepTopN: 1, now: NOW, dryRun: true });
    expect(r.removed.map((x) => x.version)).toEqual(['1.0']);
    expect(existsSync(join(modelsDir, 'v1.0'))).toBe(true);
  });
});

describe('modelsDirSizeBytes while workers publish', () => {
  it('an in-progress .tmp- folder renamed into place during the walk is not an error (it failed the queue pump with ENOENT)', async () => {
    const modelsDir = join(await tempHome(), 'models');
    const folders = Array.from({ length: 30 }, (_, i) => join(modelsDir, `.tmp-${i}`));
    for (const f of folders) {
      await mkdir(f, { recursive: true });
      for (let k = 0; k < 10; k++) await writeFile(join(f, `ppo_model_${k}.bin`), Buffer.alloc(100));
    }
    const total = 30 * 10 * 100;
    expect(await modelsDirSizeBytes(modelsDir)).toBe(total);
    // Workers publishing: every folder moves back and forth while sizes are measured.
    let moving = true;
    const mover = (async () => {
      for (let round = 0; moving; round++) {
        await Promise.all(folders.map((f, i) => rename(round % 2 ? join(modelsDir, `v9.${i}`) : f, round % 2 ? f : join(modelsDir, `v9.${i}`))));
      }
    })();
    try {
      for (let i = 0; i < 15; i++) expect(await modelsDirSizeBytes(modelsDir)).toBeLessThanOrEqual(total);
    } finally {
      moving = false;
      await mover;
    }
  });
});
