import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { resolveSignalRequest, type SignalGateInput } from '../../src/assets/signal-gate.js';
import { estimateTrainingSeconds, DEFAULT_TRAINING_ESTIMATE_S } from '../../src/assets/estimate.js';
import type { UnknownAssetJudgement } from '../../src/policy/tier.js';

const cfg = (model: Partial<Config['model']> = {}, assets: Partial<Config['assets']> = {}): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...model };
  c.assets = { ...c.assets, ...assets };
  return c;
};
const judged = (verdict: UnknownAssetJudgement['verdict'], reason: string): UnknownAssetJudgement => ({ verdict, reason, historyDays: 10, coverage: 1, dailyVol: 0.03, quoteVolume24h: 1e6 });
const input = (over: Partial<SignalGateInput>): SignalGateInput => ({
  symbol: 'SOL/USDT',
  tier: 'quick_train',
  covered: new Set(['BTC/USDT']),
  pastTrainings: [],
  taAvailable: true,
  config: cfg(),
  ...over,
});

describe('estimateTrainingSeconds', () => {
  it('takes the median of past durations scaled by profile work, and says when it is a default', () => {
    const c = defaultConfig(); // full: 50 epochs x 730 days; quick: 20 x 365 -> quick is 0.2 of full
    expect(estimateTrainingSeconds([], 'quick', c)).toEqual({ seconds: DEFAULT_TRAINING_ESTIMATE_S.quick, basis: 'no past training measured; default estimate for the quick profile' });
    const past = [{ durationS: 100, profile: 'full' as const }, { durationS: 500, profile: 'full' as const }, { durationS: 50, profile: 'quick' as const }, { durationS: 10_000 }];
    // Scaled to quick: 20, 100, 50, 2000 -> median (50 + 100) / 2 = 75.
    expect(estimateTrainingSeconds(past, 'quick', c)).toEqual({ seconds: 75, basis: 'median of 4 past trainings, scaled to the quick profile' });
    // Scaled to full: 100, 500, 250, 10000 -> median 375.
    expect(estimateTrainingSeconds(past, 'full', c).seconds).toBe(375);
  });
});

describe('resolveSignalRequest', () => {
  it('serves covered symbols and refuses unsupported ones with the reason', () => {
    expect(resolveSignalRequest(input({ symbol: 'BTC/USDT', tier: 'pre_trained' }))).toEqual({ kind: 'signal' });
    expect(resolveSignalRequest(input({ tier: 'unsupported' }))).toEqual({ kind: 'error', error: 'Asset not supported', reason: 'SOL/USDT is listed in assets.unsupported' });
    expect(resolveSignalRequest(input({ symbol: 'USDC/USDT', tier: 'unknown', judgement: judged('stablecoin', 'looks like a stablecoin') }))).toEqual({
      kind: 'error',
      error: 'Asset not supported',
      reason: 'USDC/USDT: looks like a stablecoin',
    });
  });

  it('offers training with an estimate when untrained symbols are blocked', () => {
    const r = resolveSignalRequest(input({ pastTrainings: [{ durationS: 300, profile: 'quick' }] }));
    expect(r).toMatchObject({ kind: 'error', error: 'Model not trained', can_train: true, estimated_time_s: 300 });
    const short = resolveSignalRequest(input({ tier: 'unknown', judgement: judged('insufficient_data', 'only 10.0 days of history') }));
    expect(short).toEqual({ kind: 'error', error: 'Model not trained', can_train: false, reason: 'SOL/USDT: only 10.0 days of history' });
  });

  it('falls back map -> default -> TA -> hold when blocking is off', () => {
    const c = cfg({ block_untrained_symbols: false, fallback_map: { 'SOL/USDT': 'ETH/USDT' } });
    const both = new Set(['BTC/USDT', 'ETH/USDT']);
    expect(resolveSignalRequest(input({ config: c, covered: both }))).toMatchObject({ kind: 'fallback', via: 'ETH/USDT', reason: 'SOL/USDT: no model yet; using the ETH/USDT model (model.fallback_map)' });
    expect(resolveSignalRequest(input({ config: c }))).toMatchObject({ kind: 'fallback', via: 'BTC/USDT' });
    expect(resolveSignalRequest(input({ config: c, covered: new Set() }))).toMatchObject({ kind: 'fallback', via: 'ta' });
    expect(resolveSignalRequest(input({ config: c, covered: new Set(), taAvailable: false }))).toMatchObject({ kind: 'fallback', fallback: true, via: 'hold' });
    // BTC itself never falls back to BTC.
    expect(resolveSignalRequest(input({ symbol: 'BTC/USDT', config: c, covered: new Set() }))).toMatchObject({ via: 'ta' });
  });
});
