/**
 * Issue 17 item 1: a corrupt promoted model must not take its symbol dark. v1.1 promoted for
 * BTC/USDT, a good v1.0 on disk; one flipped byte in v1.1's gbdt_model_*.json (same size), or one
 * manifest sha256 set to zeros. Before: `kilo models` printed "v1.1 files complete", `kilo signal`
 * exited 1, the engine logged an ERROR and made 0 BTC signals in 5 rounds. Now: verification at
 * load (and in `kilo models`) marks it corrupt, the folder is moved to models/.quarantine (never
 * deleted), and BTC falls back at once to v1.0 (or, with nothing older, the configured fallback),
 * flagged with the reason, said once.
 * Real artifacts (trees trained by the pipeline on the simulator), the real CLI and a real engine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { createEngine } from '../../src/engine.js';
import type { SignalView } from '../../src/engine-api.js';
import { SimMarketSource } from '../../src/market/sim-source.js';
import { trainSymbolModels } from '../../src/training/pipeline.js';
import { candlesToColumns } from '../../src/training/pipeline-data.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { runKilo } from '../helpers/artifact-fixtures.js';
import { simConfig, writeConfig } from './helpers.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
const dirs: string[] = [];
let base: string;

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(tag: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `kilo-rel-${tag}-`));
  dirs.push(d);
  return d;
}

const v11 = (home: string): string => join(home, 'models', 'v1.1', 'BTC-USDT');
const gbdtFile = async (dir: string): Promise<string> => (await readdir(dir)).find((n) => n.startsWith('gbdt_model_'))!;

/** A home with v1.0 and v1.1 (a copy of v1.0) for BTC/USDT, v1.1 promoted. */
async function homeWith(versions: string[]): Promise<string> {
  const home = await tmp('corrupt');
  await cp(base, home, { recursive: true });
  for (const v of ['1.0', '1.1']) if (!versions.includes(v)) await rm(join(home, 'models', `v${v}`), { recursive: true });
  const reg = new ModelRegistry(registryPaths(home));
  await reg.refresh();
  await reg.setServing('BTC/USDT', '1.1');
  return home;
}

beforeAll(async () => {
  base = await tmp('corrupt-base');
  await writeConfig(base, simConfig({ universe: { symbols: ['BTC/USDT'], core_symbols: ['BTC/USDT'] }, auto_training: { enabled: false } }));
  const candles = await new SimMarketSource(7, new ManualClock(START), { createdAt: START }).fetchCandles('BTC/USDT', '1h', START - 60 * 24 * HOUR, START);
  const spec = (version: string) => ({
    kind: 'train' as const, symbols: ['BTC/USDT'], trainingMode: 'single_symbol' as const, symbolEncoding: 'one_hot' as const, models: ['gbdt' as const],
    profile: { name: 'quick' as const, epochs: 1, patience: 1, trees: 8, data_days: 60, batch_size: 256, ppo_steps: 256 },
    version, modelsDir: join(base, 'models'), candles: [candlesToColumns('BTC/USDT', candles)], timeframe: '1h' as const,
    window: 16, horizon: 1, labelThreshold: 0.002, valFraction: 0.15, testFraction: 0.15, rnnCell: 'gru' as const, feeRate: 0.001, seed: 1,
  });
  await trainSymbolModels(spec('1.0'));
  await trainSymbolModels(spec('1.1'));
});

describe('a corrupt promoted model', () => {
  it('one flipped byte (same size): kilo models says CORRUPT, kilo signal falls back to v1.0 (exit 0), the folder is kept in quarantine', async () => {
    const home = await homeWith(['1.0', '1.1']);
    const file = await gbdtFile(v11(home));
    const bytes = await readFile(join(v11(home), file));
    const size = bytes.length;
    bytes[Math.floor(size / 2)] = bytes[Math.floor(size / 2)] === 0x37 ? 0x38 : 0x37;
    await writeFile(join(v11(home), file), bytes);
    expect((await readFile(join(v11(home), file))).length).toBe(size);

    const models = await runKilo(home, ['models']);
    expect(models.code, models.stderr).toBe(0);
    expect(models.stdout).not.toMatch(/^v1\.1 {2}files complete/m);
    expect(models.stdout).toMatch(/^v1\.1 {2}CORRUPT/m);
    expect(models.stdout).toContain(`problem: ${file}: sha256 does not match the manifest`);
    expect(models.stdout).toMatch(/^ {2}BTC\/USDT +v1\.0 +fallback +v1\.1 \(promoted\) cannot serve BTC\/USDT: .*sha256 does not match/m);

    const sig = await runKilo(home, ['signal', '-s', 'BTC/USDT', '--json']);
    expect(sig.code, sig.stderr).toBe(0);
    const answer = JSON.parse(sig.stdout);
    expect(answer).toMatchObject({ kind: 'signal', symbol: 'BTC/USDT', model_version: '1.0', fallback: true });
    expect(answer.reason).toMatch(/^v1\.1 \(promoted\) cannot serve BTC\/USDT: corrupt: .*checksum does not match the manifest.*moved to models\/\.quarantine\/v1\.1-BTC-USDT-/);
    expect(sig.stderr.match(/is corrupt/g)).toHaveLength(1);

    // Moved aside whole, the damaged bytes kept for inspection; never deleted.
    expect(existsSync(v11(home))).toBe(false);
    const q = (await readdir(join(home, 'models', '.quarantine'))).filter((n) => !n.endsWith('.json'));
    expect(q).toEqual([expect.stringMatching(/^v1\.1-BTC-USDT-/)]);
    expect(await readFile(join(home, 'models', '.quarantine', q[0], file))).toEqual(bytes);
    const note = JSON.parse(await readFile(join(home, 'models', '.quarantine', `${q[0]}.json`), 'utf8'));
    expect(note).toMatchObject({ version: '1.1', key: 'BTC-USDT', symbols: ['BTC/USDT'], from: join('v1.1', 'BTC-USDT') });

    // The next process knows why BTC is on v1.0 without warning again.
    const again = await runKilo(home, ['signal', '-s', 'BTC/USDT', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ model_version: '1.0', fallback: true });
    expect(again.stderr).not.toMatch(/is corrupt/);
    const listed = await runKilo(home, ['models']);
    expect(listed.stdout).toMatch(/^Quarantined \(moved aside for inspection, never deleted\):\n {2}v1\.1\/BTC-USDT at /m);
  });

  it('one manifest sha256 set to zeros, in a running engine: BTC keeps producing signals on v1.0 from the first round, flagged, said once', async () => {
    const home = await homeWith(['1.0', '1.1']);
    const manifestPath = join(v11(home), 'manifest.json');
    const man = JSON.parse(await readFile(manifestPath, 'utf8'));
    man[await gbdtFile(v11(home))].sha256 = '0'.repeat(64);
    await writeFile(manifestPath, JSON.stringify(man));

    const { config } = await loadConfig(join(home, 'config.yaml'));
    const clock = new ManualClock(START);
    const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), marketClock: clock, clock });
    const signals: SignalView[] = [];
    engine.on('signal', (s) => s.symbol === 'BTC/USDT' && signals.push(s));
    await engine.start({ loop: false });
    try {
      for (let i = 0; i < 5; i++) {
        clock.advance(HOUR);
        await engine.runRound();
      }
      expect(signals).toHaveLength(5);
      for (const s of signals) {
        expect(s.modelVersion).toBe('1.0');
        expect(s.fallback).toBe(true);
        expect(s.reason).toMatch(/^v1\.1 \(promoted\) cannot serve BTC\/USDT: corrupt: .*manifest\.json|^v1\.1 \(promoted\) cannot serve BTC\/USDT: corrupt: .*checksum does not match/);
      }
      const said = engine.logger.entries().filter((e) => /v1\.1\/BTC-USDT .*is corrupt/.test(e.message));
      expect(said).toHaveLength(1);
      expect(said[0].level).toBe('warn');
      expect(engine.logger.entries().filter((e) => e.level === 'error')).toEqual([]);
      // The symbol's serving state says it too.
      expect(engine.registry.servingFor(engine.config, 'BTC/USDT', engine.marketNow())).toMatchObject({ version: '1.0', via: 'fallback', fallback: true });
      expect(engine.getSnapshot().symbols.find((r) => r.symbol === 'BTC/USDT')).toMatchObject({ modelVersion: '1.0', state: 'live' });
      expect(existsSync(v11(home))).toBe(false);
      expect((await readdir(join(home, 'models', '.quarantine'))).some((n) => n.startsWith('v1.1-BTC-USDT-'))).toBe(true);
    } finally {
      await engine.stop();
    }
  });

  it('with no older version, kilo signal answers with the configured fallback (flagged) instead of exiting 1', async () => {
    const home = await homeWith(['1.1']);
    const file = await gbdtFile(v11(home));
    const bytes = await readFile(join(v11(home), file));
    bytes[10] ^= 0x01;
    await writeFile(join(v11(home), file), bytes);
    const sig = await runKilo(home, ['signal', '-s', 'BTC/USDT', '--json']);
    expect(sig.code, sig.stderr).toBe(0);
    const answer = JSON.parse(sig.stdout);
    expect(answer).toMatchObject({ kind: 'signal', model_version: 'ta', fallback: true });
    expect(answer.reason).toMatch(/^BTC\/USDT: v1\.1 cannot serve BTC\/USDT: corrupt: .*no older version fits; no similar model, TA-only signal$/);
  });
});

// Keep the sha256 helper honest: the manifest the trainer wrote matches the bytes before we damage them.
describe('fixture sanity', () => {
  it('the trained v1.1 verifies before it is damaged', async () => {
    const dir = v11(base);
    const man = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    for (const [f, e] of Object.entries(man) as [string, { sha256: string }][]) {
      expect(createHash('sha256').update(await readFile(join(dir, f))).digest('hex')).toBe(e.sha256);
    }
  });
});
