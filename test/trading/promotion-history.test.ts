import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PromotionDecision } from '../../src/engine-api.js';
import { decidePromotion } from '../../src/policy/promotion.js';
import { decisionKind } from '../../src/engine/decisions.js';
import { PromotionHistory } from '../../src/trading/promotion-history.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-promo-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const decision = (i: number, symbol = 'BTC/USDT', challengerScore: number | null = 0.5 + i / 50): PromotionDecision => {
  const v = decidePromotion({
    champion: { version: '1.0', score: 0.55 },
    challenger: { version: `1.${i + 1}`, score: challengerScore ?? Number.NaN },
    margin: 0.005,
    metric: 'accuracy',
  });
  return { at: i * 1000, symbol, kind: decisionKind(v), championVersion: '1.0', challengerVersion: `1.${i + 1}`, championScore: 0.55, challengerScore, reason: v.reason };
};

describe('PromotionHistory', () => {
  it('persists decisions newest first, bounded, across instances', async () => {
    const file = join(dir, 'promotions.json');
    const h = await PromotionHistory.open(file, { limit: 4 });
    for (let i = 0; i < 6; i++) await h.add(decision(i, i % 2 ? 'ETH/USDT' : 'BTC/USDT'));
    const again = await PromotionHistory.open(file, { limit: 4 });
    expect(again.list().map((d) => d.at)).toEqual([5000, 4000, 3000, 2000]);
    expect(again.list('ETH/USDT').map((d) => d.at)).toEqual([5000, 3000]);
    expect(again.list()).toEqual(h.list());
    const latest = again.latest('BTC/USDT')!;
    expect(latest.kind).toBe('promoted'); // i = 4: 0.58 >= 0.55 + 0.005
    expect(latest.reason).toBe('challenger v1.5 accuracy 0.5800 >= champion v1.0 0.5500 + margin 0.0050: promoted');
    const older = again.list('BTC/USDT')[1]; // i = 2: 0.54 < 0.555
    expect(older.kind).toBe('kept');
    expect(older.reason).toBe('challenger v1.3 accuracy 0.5400 < champion v1.0 0.5500 + margin 0.0050: champion stays');
  });

  it('stores a NaN score as null and recovers from the .bak', async () => {
    const file = join(dir, 'promotions.json');
    const h = await PromotionHistory.open(file);
    await h.add(decision(0, 'SOL/USDT', Number.NaN));
    expect(h.list()[0].challengerScore).toBeNull();
    // A challenger without a valid score is a failed training, not a comparison the champion won:
    // 'kept' would tell the scorecard the gate judged two models when it judged one.
    expect(h.list()[0].kind).toBe('failed');
    expect(h.list()[0].reason).toMatch(/challenger v1\.1 accuracy NaN is not a valid score; champion v1\.0 .* stays/);
    await writeFile(file, '{"version":1,"decisions":[{"at":');
    const warnings: string[] = [];
    const r = await PromotionHistory.open(file, { onWarn: (m) => warnings.push(m) });
    expect(r.list()).toEqual(h.list());
    expect(warnings).toHaveLength(1);
  });
});

describe('promotions.json written before decisions had a kind', () => {
  it('reads promoted / kept / failed ("-" challenger) and keeps them typed from then on', async () => {
    const file = join(dir, 'promotions.json');
    const old = (over: object) => ({ at: 1, symbol: 'BTC/USDT', championVersion: '1.0', challengerVersion: '1.1', championScore: 0.5, challengerScore: 0.6, promoted: true, reason: 'r', ...over });
    await writeFile(file, JSON.stringify({ version: 1, decisions: [old({}), old({ at: 2, promoted: false }), old({ at: 3, promoted: false, challengerVersion: '-', challengerScore: null })] }));
    const h = await PromotionHistory.open(file);
    expect(h.list().map((d) => [d.at, d.kind, d.challengerVersion])).toEqual([
      [3, 'failed', null],
      [2, 'kept', '1.1'],
      [1, 'promoted', '1.1'],
    ]);
    expect(h.list()[0]).not.toHaveProperty('promoted');
    await h.add({ at: 4, symbol: 'BTC/USDT', kind: 'rollback', championVersion: '1.1', challengerVersion: '1.0', championScore: null, challengerScore: null, reason: 'operator' });
    const again = await PromotionHistory.open(file);
    expect(again.list().map((d) => d.kind)).toEqual(['rollback', 'failed', 'kept', 'promoted']);
  });

  it('refuses a decision with neither kind nor promoted, naming the file and the entry', async () => {
    const file = join(dir, 'promotions.json');
    await writeFile(file, JSON.stringify({ version: 1, decisions: [{ at: 1, symbol: 'X/USDT', championVersion: null, challengerVersion: '1.0', championScore: null, challengerScore: null, reason: 'r' }] }));
    await expect(PromotionHistory.open(file)).rejects.toThrow(/promotions\.json.*decisions\.0.*kind/);
  });
});
