/**
 * The edge gate at serving time, in a running engine on real candles (CSV over ../shared) with a
 * real worker-trained model: a model without an edge never drives trades - the symbol runs on
 * its fallback (the TA rule when the TA rule shows an edge, else hold), flagged with the numbers
 * in the snapshot row, the heartbeat, `kilo signal`'s answer and the log (once, not every round);
 * the operator's override (engine command, or `kilo edge` on the files with no engine running)
 * lets it trade and is shown wherever the verdict is.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { createEngine, type Engine } from '../../src/engine.js';
import type { HeartbeatEvent, LogEntry, SignalView, TradeEvent } from '../../src/engine-api.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { CsvMarketSource } from '../../src/market/index.js';
import { requestSignal } from '../../src/engine/signal-request.js';
import { withEngineOrFiles } from '../../src/cli/engine-access.js';
import { hasData, rewriteArtifactFile, testConfig, DATA } from './helpers.js';
import { noEdgeTaEdge } from '../helpers/edge-report.js';

const HOUR = 3_600_000;
const START = Date.UTC(2023, 8, 1);
const SYM = 'BTC/USDT';

describe.skipIf(!hasData)('the edge gate in a running engine', () => {
  let home: string;
  const config = testConfig((c) => {
    c.universe.symbols = [SYM];
    c.model.require_edge = true;
    // No walk-forward verdict at training time (fast): the first model has no evidence of an edge.
    c.training.walk_forward_folds = 0;
    // Any directional call would trade: nothing but the gate keeps the model's calls off the broker.
    c.paper_trading.entry_threshold = 0;
    c.heartbeat_interval_s = 3600;
  });
  let clock: ManualClock;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'kilo-edge-serving-'));
    clock = new ManualClock(START);
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function open(cfg = config): Promise<{ engine: Engine; signals: SignalView[]; trades: TradeEvent[]; logs: LogEntry[]; beats: HeartbeatEvent[] }> {
    const engine = await createEngine({ home, config: cfg, configPath: join(home, 'config.yaml'), marketClock: clock, clock });
    const signals: SignalView[] = [];
    const trades: TradeEvent[] = [];
    const logs: LogEntry[] = [];
    const beats: HeartbeatEvent[] = [];
    engine.on('signal', (s) => signals.push(s));
    engine.on('trade', (t) => trades.push(t));
    engine.on('log', (l) => logs.push(l));
    engine.on('heartbeat', (h) => beats.push(h));
    await engine.start({ loop: false });
    return { engine, signals, trades, logs, beats };
  }
  const rounds = async (engine: Engine, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      clock.advance(HOUR);
      await engine.runRound();
    }
  };
  const row = (engine: Engine) => engine.getSnapshot().symbols.find((r) => r.symbol === SYM)!;

  it('a model without evidence of an edge holds: its calls are recorded, never traded; flagged in the row, heartbeat and log once', async () => {
    const { engine, signals, trades, logs, beats } = await open();
    try {
      await engine.runRound();
      await engine.idle();
      await rounds(engine, 1);
      expect(row(engine).modelVersion).toBe('1.0');
      await rounds(engine, 24);
      const mine = signals.filter((s) => s.symbol === SYM && s.modelVersion === '1.0');
      expect(mine.length).toBeGreaterThanOrEqual(24);
      // The model does make directional calls that an ungated broker would act on at threshold 0.
      expect(mine.some((s) => s.direction === 'bullish')).toBe(true);
      for (const s of mine) {
        expect(s.edge).toMatchObject({ kind: 'hold', verdict: 'unknown', label: 'no edge>hold', version: '1.0' });
        expect(s.traded?.via).toBe('hold');
      }
      expect(trades.filter((t) => t.symbol === SYM)).toEqual([]);
      const r = row(engine);
      expect(r.edge).toMatchObject({ kind: 'hold', override: null });
      expect(r.edge!.reason).toMatch(/no walk-forward verdict/);
      const beat = beats.at(-1)!.symbols.find((s) => s.symbol === SYM)!;
      expect(beat.edge?.kind).toBe('hold');
      // Logged when it started, not every round.
      expect(logs.filter((l) => /BTC\/USDT: model v1\.0 has no edge/.test(l.message))).toHaveLength(1);
    } finally {
      await engine.stop();
    }
  }, 240_000);

  it('no edge but the TA rule has one: the symbol trades on the TA rule, with the figures everywhere', async () => {
    await rewriteArtifactFile(join(home, 'models', 'v1.0', 'BTC-USDT'), (f) => f === 'metadata.json', (t) => JSON.stringify({ ...JSON.parse(t), edge: noEdgeTaEdge(SYM) }));
    const { engine, signals, trades, logs } = await open();
    try {
      await rounds(engine, 48);
      const mine = signals.filter((s) => s.symbol === SYM && s.modelVersion === '1.0');
      expect(mine.length).toBeGreaterThan(0);
      for (const s of mine) {
        expect(s.edge).toMatchObject({ kind: 'ta', verdict: 'no_edge', taVerdict: 'edge', label: 'no edge>TA' });
        expect(s.traded?.via).toBe('ta');
      }
      // Whatever traded, traded on the TA rule's call and says so.
      for (const t of trades.filter((x) => x.symbol === SYM)) expect(t.reason).toMatch(/^TA rule \(model v1\.0 has no edge\)/);
      const r = row(engine);
      expect(r.edge!.figures).toMatchObject({ subject: 'ensemble', subjectPct: -2.3, taPct: 89.1, rows: 1281 });
      expect(logs.filter((l) => /has no edge - no edge: ensemble -2\.3 % vs TA \+89\.1 % over 1,281 candles.*trades on the TA rule/.test(l.message))).toHaveLength(1);
      // The heartbeat line carries the flag and the figures.
      expect(logs.some((l) => /^heartbeat .*BTC\/USDT .* edge no edge>TA \(ensemble -2\.3 % vs TA \+89\.1 %, 90 % bound/.test(l.message))).toBe(true);

      // kilo signal's answer: the model's call, the verdict (snake_case) and what trades instead.
      const registry = new ModelRegistry(registryPaths(home));
      await registry.refresh();
      const source = new CsvMarketSource(DATA, clock);
      const answer = await requestSignal({ config, source, registry, symbol: SYM, now: clock.now() });
      expect(answer).toMatchObject({ kind: 'signal', model_version: '1.0', edge: { kind: 'ta', verdict: 'no_edge', ta_verdict: 'edge', figures: { subject_pct: -2.3, ta_pct: 89.1 } }, traded: { via: 'ta' } });
      const forced = await requestSignal({ config, source, registry, symbol: SYM, now: clock.now(), edgeOverride: true });
      expect(forced).toMatchObject({ edge: { kind: 'override', override: 'operator' } });
      expect(forced).not.toHaveProperty('traded');
    } finally {
      await engine.stop();
    }
  }, 240_000);

  it('the operator override lets the model trade, is shown and survives a restart; off/auto through kilo edge on the files', async () => {
    let { engine, signals, logs } = await open();
    try {
      const res = await engine.edgeOverride(SYM, true, 'operator trusts it');
      expect(res).toMatchObject({ ok: true });
      await rounds(engine, 2);
      const last = signals.filter((s) => s.symbol === SYM).at(-1)!;
      expect(last.edge).toMatchObject({ kind: 'override', override: 'operator', verdict: 'no_edge' });
      expect(last.traded).toBeUndefined();
      expect(row(engine).edge).toMatchObject({ kind: 'override', label: 'override' });
      expect(logs.some((l) => /trades by override/.test(l.message))).toBe(true);
      expect(engine.getSnapshot().symbols.length).toBe(1);
    } finally {
      await engine.stop();
    }
    // No engine running: `kilo edge BTC/USDT auto` goes to the state file under the home lock.
    const cleared = await withEngineOrFiles(home, join(home, 'config.yaml'), (api) => api.edgeOverride(SYM, null, 'back to config'));
    expect(cleared).toMatchObject({ ok: true });
    ({ engine, signals } = await open());
    try {
      await rounds(engine, 1);
      expect(row(engine).edge?.kind).toBe('ta');
    } finally {
      await engine.stop();
    }
    // model.edge_overrides in config.yaml overrides too; the operator's "off" wins over it.
    ({ engine, signals } = await open({ ...config, model: { ...config.model, edge_overrides: [SYM] } }));
    try {
      await rounds(engine, 1);
      expect(row(engine).edge).toMatchObject({ kind: 'override', override: 'config' });
      expect(signals.at(-1)!.traded).toBeUndefined();
      await engine.edgeOverride(SYM, false);
      await rounds(engine, 1);
      expect(row(engine).edge?.kind).toBe('ta');
      expect(signals.at(-1)!.traded?.via).toBe('ta');
      expect(engine.getSnapshot().servingEvents.some((e) => e.kind === 'edge_override' && e.symbol === SYM)).toBe(true);
    } finally {
      await engine.stop();
    }
  }, 240_000);
});
