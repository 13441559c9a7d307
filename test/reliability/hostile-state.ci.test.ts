/**
 * Hostile input, part 2: model metadata/manifest JSON (missing fields, wrong shapes, tampered
 * checksums), the training queue and the performance stats (truncated, garbage, wrong shapes).
 * Each case ends in a clear error naming the file and the problem, or in a recovery from the last
 * good copy with a warning; no original file is overwritten or emptied (its bytes stay on disk).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { inspectArtifact } from '../../src/registry/discover.js';
import { TrainingQueue, QueueCorruptError } from '../../src/training/queue.js';
import { OutcomeTracker } from '../../src/trading/outcomes.js';
import { StoreCorruptError } from '../../src/trading/guarded-store.js';
import { systemClock } from '../../src/clock.js';
import { writeArtifact } from '../helpers/artifact-fixtures.js';
import { freshHome, hashTree, runKilo, sha256, simConfig, writeConfig } from './helpers.js';

const homes: string[] = [];
const home = async (tag: string): Promise<string> => {
  const h = await freshHome(tag);
  homes.push(h);
  return h;
};
const tally = { errors: 0, recoveries: 0 };
afterAll(async () => {
  console.log(`[hostile] metadata/manifest + queue + stats: ${tally.errors + tally.recoveries} malformed inputs tried (${tally.errors} clear errors, ${tally.recoveries} recoveries from the last good copy with a warning); originals never overwritten`);
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

const GOOD_META = (key: string, file: string) => ({
  version: '1.0',
  trained_symbols: [key.replace('-', '/')],
  training_days: 365,
  training_end_timestamp: Date.UTC(2026, 0, 1),
  training_mode: 'single_symbol',
  symbol_encoding_type: 'one_hot',
  timeframe: '1h',
  window: 48,
  horizon: 1,
  files: [{ type: 'gbdt', file }],
});

/** [artifact key, how to break it, what `problems` must mention] — each in its own folder. */
type Breaker = (dir: string, key: string) => Promise<void>;
const rewriteJson = async (path: string, edit: (v: Record<string, unknown>) => unknown): Promise<void> =>
  writeFile(path, JSON.stringify(edit(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>)));
const rawMeta = (text: string): Breaker => async (dir) => {
  await writeFile(join(dir, 'metadata.json'), text);
  await rewriteJson(join(dir, 'manifest.json'), (m) => ({ ...m, 'metadata.json': { sha256: sha256(text), size: Buffer.byteLength(text) } }));
};
const metaWith = (patch: Record<string, unknown>, key = 'X-USDT'): string => JSON.stringify({ ...GOOD_META(key, `gbdt_model_${key}.json`), ...patch });

const META_CASES: [string, Breaker, RegExp][] = [
  ['AA-USDT', async (d) => rm(join(d, 'metadata.json')), /metadata\.json: missing/],
  ['AB-USDT', rawMeta('{"version": "1.0", "trained_symbols": ["AB/U'), /metadata\.json: malformed JSON/],
  ['AC-USDT', rawMeta('[1, 2, 3]'), /metadata\.json: .*expected a JSON object/],
  ['AD-USDT', rawMeta(metaWith({ trained_symbols: 'AD/USDT' }, 'AD-USDT')), /metadata\.json: .*"trained_symbols" should be a list/],
  ['AE-USDT', rawMeta(metaWith({ window: 'big' }, 'AE-USDT')), /metadata\.json: .*"window" should be a number/],
  ['AF-USDT', rawMeta(metaWith({ training_mode: 'both' }, 'AF-USDT')), /metadata\.json: .*"training_mode"/],
  ['AG-USDT', rawMeta(metaWith({ files: { a: 1 } }, 'AG-USDT')), /metadata\.json: .*files/],
  ['AI-USDT', async (d) => writeFile(join(d, 'manifest.json'), '{"metadata.json": {"size": 3}'), /manifest\.json: malformed JSON/],
  ['AJ-USDT', async (d) => rewriteJson(join(d, 'manifest.json'), (m) => ({ ...m, 'gbdt_model_AJ-USDT.json': { size: 10 } })), /manifest\.json: entry "gbdt_model_AJ-USDT\.json"/],
  // Same size, different bytes: only the checksum can tell (kilo models --verify).
  ['AK-USDT', async (d) => writeFile(join(d, 'gbdt_model_AK-USDT.json'), Buffer.alloc(64, 0x41)), /gbdt_model_AK-USDT\.json: sha256 does not match the manifest/],
  ['AL-USDT', async (d) => writeFile(join(d, 'gbdt_model_AL-USDT.json'), Buffer.alloc(10)), /gbdt_model_AL-USDT\.json: size 10 bytes, manifest says 64/],
  ['AM-USDT', async (d) => rm(join(d, 'gbdt_model_AM-USDT.json')), /gbdt_model_AM-USDT\.json: missing/],
  ['AN-USDT', rawMeta(metaWith({ files: [{ type: 'gbdt', file: 'gbdt_model_AN-USDT.json' }, { type: 'gbdt', file: 'ghost.json' }] }, 'AN-USDT')), /ghost\.json: listed in metadata but not in the manifest/],
  ['AO-USDT', rawMeta(metaWith({ version: 7 }, 'AO-USDT')), /metadata\.json: .*"version"/],
];

describe('hostile model metadata and manifests', () => {
  it(`${META_CASES.length} broken artifacts are never complete, never selected, and each problem names its file`, async () => {
    const h = await home('meta');
    const modelsDir = join(h, 'models');
    await writeConfig(h, simConfig({ universe: { symbols: ['OK/USDT', ...META_CASES.map(([k]) => k.replace('-', '/'))], core_symbols: [] } }));
    // The good control artifact lives in its own version: one broken artifact makes a whole version incomplete.
    const good = await writeArtifact(modelsDir, { version: '2.0', symbols: ['OK/USDT'], key: 'OK-USDT', files: { 'gbdt_model_OK-USDT.json': 64 } });
    for (const [key, brk] of META_CASES) {
      const dir = await writeArtifact(modelsDir, { version: '1.0', symbols: [key.replace('-', '/')], key, files: { [`gbdt_model_${key}.json`]: 64 } });
      await brk(dir, key);
    }
    const failures: string[] = [];
    for (const [key, , expected] of META_CASES) {
      const a = await inspectArtifact('1.0', key, join(modelsDir, 'v1.0', key), { verifyChecksums: true });
      tally.errors++;
      if (a.complete) failures.push(`${key}: judged complete`);
      if (!a.problems.some((p) => expected.test(p))) failures.push(`${key}: problems ${JSON.stringify(a.problems)} do not match ${expected}`);
    }
    expect(failures).toEqual([]);
    expect((await inspectArtifact('2.0', 'OK-USDT', good, { verifyChecksums: true })).complete).toBe(true);
    // A folder without manifest.json is an older artifact, not a broken one (issue 13 item 7): it
    // serves with a note, and its first load records the checksums (test/models/artifact-old.test.ts).
    const oldDir = await writeArtifact(modelsDir, { version: '1.1', symbols: ['AH/USDT'], key: 'AH-USDT', files: { 'gbdt_model_AH-USDT.json': 64 } });
    await rm(join(oldDir, 'manifest.json'));
    const old = await inspectArtifact('1.1', 'AH-USDT', oldDir, { verifyChecksums: true });
    expect(old.complete).toBe(true);
    expect(old.warnings).toContain('manifest.json missing (an older artifact): files taken from the folder; checksums are recorded on first load');

    // The CLI a user runs: kilo models --json --verify lists them incomplete with the problems; nothing changes.
    const before = await hashTree(h);
    const r = await runKilo(['--home', h, 'models', '--json', '--verify']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { selected: string | null; versions: { version: string; complete: boolean; problems: string[] }[]; serving: Record<string, unknown> };
    const broken = out.versions.find((v) => v.version === '1.0');
    expect(broken?.complete).toBe(false);
    for (const [key, , expected] of META_CASES) {
      expect(broken?.problems.some((p) => p.startsWith(`${key}: `) && expected.test(p)), `${key}: ${JSON.stringify(broken?.problems)}`).toBe(true);
    }
    expect(out.versions.find((v) => v.version === '2.0')?.complete).toBe(true);
    expect(out.selected).toBe('2.0');
    expect(JSON.stringify(out.serving)).not.toContain('1.0');
    expect(await hashTree(h)).toEqual(before);
  });
});

const QFILE = 'new_symbol_training_queue.json';
const goodQueue = JSON.stringify({ queued_symbols: ['SOL/USDT'], queued_at: { 'SOL/USDT': '2026-01-01T00:00:00.000Z' }, entries: [{ id: 'q1', symbol: 'SOL/USDT', priority: 0, state: 'queued', attempts: 0, last_error: null, reason: 'x', next_attempt_at: null, added_at: 1, started_at: null, finished_at: null, last_trained_at: null }], next_seq: 2 });

const BAD_JSON: [string, string | Buffer, RegExp][] = [
  ['truncated', goodQueue.slice(0, goodQueue.length / 2), /malformed JSON/],
  ['garbage bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 5) % 256)), /malformed JSON|Unexpected/],
  ['empty file', '', /malformed JSON|Unexpected end/],
  ['wrong shape', JSON.stringify({ queued_symbols: [], queued_at: {}, entries: 'x' }), /entries/],
  ['bad entry state', goodQueue.replace('"queued","attempts"', '"bogus","attempts"'), /entries\.0\.state/],
  ['negative attempts', goodQueue.replace('"attempts":0', '"attempts":-3'), /entries\.0\.attempts/],
];

describe('hostile queue and stats files', () => {
  it(`the queue: ${BAD_JSON.length} bad files without a backup are refused naming the file; with a good .bak they are recovered, the bad bytes kept`, async () => {
    for (const [name, text, detail] of BAD_JSON) {
      const h = await home('queue');
      const file = join(h, 'data', QFILE);
      await mkdir(join(h, 'data'), { recursive: true });
      await writeFile(file, text);
      const before = await hashTree(h);
      const err = await TrainingQueue.open({ file, clock: systemClock, maxAttempts: 3, recoverRunning: true }).catch((e: unknown) => e);
      tally.errors++;
      expect(err, name).toBeInstanceOf(QueueCorruptError);
      expect((err as Error).message, name).toContain(file);
      expect((err as Error).message, name).toMatch(detail);
      expect(await hashTree(h), name).toEqual(before);

      // Same bad file with a good .bak: recovered with a warning, the bad bytes kept aside.
      await writeFile(`${file}.bak`, goodQueue);
      const q = await TrainingQueue.open({ file, clock: systemClock, maxAttempts: 3, recoverRunning: true });
      tally.recoveries++;
      expect(q.list().map((e) => e.id), name).toEqual(['q1']);
      expect(q.warnings.join('\n'), name).toMatch(/was corrupt .*recovered 1 entries/);
      const aside = (await readdir(join(h, 'data'))).find((f) => f.startsWith(`${QFILE}.corrupt-`));
      expect(aside, name).toBeDefined();
      expect(sha256(await readFile(join(h, 'data', aside!))), name).toBe(before[join('data', QFILE)]);
    }
  });

  it('kilo queue --json refuses a corrupt queue with exit 2 naming the file, and recovers from a good .bak with a note', async () => {
    const h = await home('qcli');
    await writeConfig(h, simConfig());
    const file = join(h, 'data', QFILE);
    await mkdir(join(h, 'data'), { recursive: true });
    await writeFile(file, '{"entries": [');
    const before = await hashTree(h);
    const r = await runKilo(['--home', h, 'queue', '--json']);
    tally.errors++;
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(file);
    expect(await hashTree(h)).toEqual(before);
    await writeFile(`${file}.bak`, goodQueue);
    const ok = await runKilo(['--home', h, 'queue', '--json']);
    tally.recoveries++;
    expect(ok.code, ok.stderr).toBe(0);
    const out = JSON.parse(ok.stdout) as { entries: { id: string }[]; notes: string[] };
    expect(out.entries.map((e) => e.id)).toEqual(['q1']);
    expect(out.notes.join('\n')).toMatch(/corrupt .*recovered 1 entries/);
  });

  const goodPerf = JSON.stringify({ version: 1, nextId: 3, pending: [], symbols: { 'BTC/USDT': { stats: { signals: 2, correct: 1, pnlSum: 0.5, lastRetrainAt: null, signalsSinceRetrain: 2, correctSinceRetrain: 1, pnlSinceRetrain: 0.5 }, byVersion: {}, history: [] } } });
  const BAD_PERF: [string, string, RegExp][] = [
    ['truncated', goodPerf.slice(0, 40), /JSON|Unexpected|Unterminated/],
    ['garbage', '\u0000\u0001garbage{{{', /JSON|Unexpected/],
    ['wrong version', goodPerf.replace('"version":1', '"version":2'), /"version"/],
    ['negative count', goodPerf.replace('"signals":2', '"signals":-2'), /symbols\.BTC\/USDT\.stats\.signals/],
    ['unknown key', goodPerf.replace('"pending":[]', '"pending":[],"hacked":true'), /hacked|\(root\)/],
    ['wrong pending shape', goodPerf.replace('"pending":[]', '"pending":{}'), /"pending"/],
  ];

  it(`performance.json: ${BAD_PERF.length} bad files are refused naming the file and key, or recovered from .bak with the bad copy kept`, async () => {
    for (const [name, text, detail] of BAD_PERF) {
      const h = await home('perf');
      const file = join(h, 'data', 'performance.json');
      await mkdir(join(h, 'data'), { recursive: true });
      await writeFile(file, text);
      const before = await hashTree(h);
      const err = await OutcomeTracker.open(file, { feeRate: 0.001 }).catch((e: unknown) => e);
      tally.errors++;
      expect(err, name).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message, name).toContain(file);
      expect((err as Error).message, name).toMatch(detail);
      expect(await hashTree(h), name).toEqual(before);

      await writeFile(`${file}.bak`, goodPerf);
      const warnings: string[] = [];
      const t = await OutcomeTracker.open(file, { feeRate: 0.001, onWarn: (m) => warnings.push(m) });
      tally.recoveries++;
      expect(t.overall().signals, name).toBe(2);
      expect(warnings.join('\n'), name).toMatch(/was corrupt .*recovered the last good copy/);
      const aside = warnings.join('\n').match(/bad file kept as (\S+)/)![1];
      expect(sha256(await readFile(aside)), name).toBe(before[join('data', 'performance.json')]);
    }
  });

  it('kilo run --headless --iterations 1 recovers a truncated performance.json from .bak with a warning, and refuses garbage engine state naming it', async () => {
    const h = await home('runrec');
    await writeConfig(h, simConfig({ model: { models: ['gbdt'], auto_train_new_symbols: false, block_untrained_symbols: false } }));
    const file = join(h, 'data', 'performance.json');
    await mkdir(join(h, 'data'), { recursive: true });
    await writeFile(file, goodPerf.slice(0, 50));
    await writeFile(`${file}.bak`, goodPerf);
    const badHash = createHash('sha256').update(goodPerf.slice(0, 50)).digest('hex');
    const r = await runKilo(['--home', h, 'run', '--headless', '--iterations', '1']);
    tally.recoveries++;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/performance\.json was corrupt .*recovered the last good copy/);
    expect(sha256(await readFile(r.stdout.match(/bad file kept as (\S+)/)![1]))).toBe(badHash);
    // The same recovery in --json mode is a log line too.
    await writeFile(file, goodPerf.slice(0, 60));
    const j = await runKilo(['--home', h, 'run', '--headless', '--iterations', '1', '--json']);
    tally.recoveries++;
    expect(j.code, j.stderr).toBe(0);
    const logs = j.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; level?: string; message?: string });
    expect(logs.some((l) => l.type === 'log' && l.level === 'warn' && /performance\.json was corrupt .*recovered the last good copy/.test(l.message ?? ''))).toBe(true);

    const state = join(h, 'data', 'engine-state.json');
    await rm(`${state}.bak`, { force: true });
    await writeFile(state, '{"version": 1, "marketTime": "soon"');
    const beforeState = sha256(await readFile(state));
    const bad = await runKilo(['--home', h, 'run', '--headless', '--iterations', '1']);
    tally.errors++;
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(state);
    expect(sha256(await readFile(state))).toBe(beforeState);
  });
});
