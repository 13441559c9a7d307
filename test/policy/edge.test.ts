import { describe, expect, it } from 'vitest';
import { decideServing, formatVerdict } from '../../src/policy/edge.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { edgeReport as report, strat } from '../helpers/edge-report.js';

const cfg = (over: Partial<Config['model']> = {}): Config => {
  const c = defaultConfig();
  return { ...c, model: { ...c.model, ...over } };
};

describe('decideServing', () => {
  it('a model whose bound beats no-trade and TA by the margin trades', () => {
    const e = report('BTC/USDT', { ensemble: strat(12, 3, 1.2, 0.8), ta: strat(4, 1, 0.9) });
    const d = decideServing(e, cfg(), { symbol: 'BTC/USDT' });
    expect(d.kind).toBe('model');
    expect(d.verdict).toBe('edge');
    expect(d.figures!.lowerPct30d).toBe(1.2);
    expect(d.reason).toMatch(/BTC\/USDT will trade on the model$/);
  });

  it('no edge, the TA rule shows one: the symbol trades on the TA rule (SOL in the issue)', () => {
    const e = report('SOL/USDT', { ensemble: strat(-2.3, -0.5, -4.2, -20), ta: strat(89.1, 12, 3) });
    const d = decideServing(e, cfg(), { symbol: 'SOL/USDT' });
    expect(d.kind).toBe('ta');
    expect(d.taVerdict).toBe('edge');
    const line = formatVerdict(d, 'SOL/USDT');
    expect(line).toMatch(/^verdict: no edge - ensemble -2\.3 % vs TA \+89\.1 %, no-trade 0 % over 1,281 candles \(90 % bound -[\d.]+ %\): does not beat no-trade; SOL\/USDT will trade on the TA rule$/);
  });

  it('neither the model nor the TA rule shows an edge: hold', () => {
    const e = report('ADA/USDT', { ensemble: strat(1, 0.2, -2, -1), ta: strat(-5, -1, -3) });
    const d = decideServing(e, cfg(), { symbol: 'ADA/USDT' });
    expect(d.kind).toBe('hold');
    expect(d.reason).toMatch(/bound .* is not above the margin/);
    expect(formatVerdict(d, 'ADA/USDT')).toMatch(/; ADA\/USDT will hold \(no new entries\)$/);
  });

  it('beating no-trade is not enough when TA would trade: the paired bound over TA must clear the margin too', () => {
    const e = report('ETH/USDT', { ensemble: strat(30, 4, 2, 0.2), ta: strat(20, 3, 1) });
    const d = decideServing(e, cfg(), { symbol: 'ETH/USDT' });
    expect(d.kind).toBe('ta');
    expect(d.reason).toMatch(/bound over TA \+0\.20 %\/30d is not above the margin/);
    // Without a TA edge the fallback would be hold, so beating no-trade by the margin suffices.
    const noTa = report('ETH/USDT', { ensemble: strat(30, 4, 2, 0.2), ta: strat(2, 0.5, 0.3) });
    expect(decideServing(noTa, cfg(), { symbol: 'ETH/USDT' }).kind).toBe('model');
  });

  it('the configured confidence and margin apply at serving time, not those stored', () => {
    const e = report('BTC/USDT', { ensemble: strat(12, 3, 1.2, 0.8), ta: strat(4, 1, 0.2) });
    expect(decideServing(e, cfg({ edge_confidence: 0.95 }), { symbol: 'BTC/USDT' }).kind).toBe('hold'); // 0.95 bound 0.2 < 0.5
    expect(decideServing(e, cfg({ edge_margin_pct: 1.5 }), { symbol: 'BTC/USDT' }).kind).toBe('hold');
    expect(decideServing(e, cfg({ edge_margin_pct: 0 }), { symbol: 'BTC/USDT' }).kind).toBe('model');
    // A level between stored ones uses the next stored one above it (more conservative).
    expect(decideServing(e, cfg({ edge_confidence: 0.85 }), { symbol: 'BTC/USDT' }).figures!.level).toBe(0.9);
  });

  it('an operator override trades the model whatever the verdict, and says so', () => {
    const e = report('SOL/USDT', { ensemble: strat(-2.3, -0.5, -4.2, -20), ta: strat(89.1, 12, 3) });
    const byConfig = decideServing(e, cfg({ edge_overrides: ['SOL/USDT'] }), { symbol: 'SOL/USDT' });
    expect(byConfig.kind).toBe('override');
    expect(byConfig.verdict).toBe('no_edge');
    expect(byConfig.reason).toMatch(/overridden by the operator \(model.edge_overrides\)/);
    expect(formatVerdict(byConfig, 'SOL/USDT')).toMatch(/^verdict: no edge - .*; SOL\/USDT will trade on the model \(operator override\)$/);
    expect(decideServing(e, cfg(), { symbol: 'SOL/USDT', override: true }).kind).toBe('override');
  });

  it('require_edge off: the model trades; no verdict at all: hold with the reason', () => {
    const e = report('BTC/USDT', { ensemble: strat(-2, -1, -3, -5), ta: strat(5, 1, 0.9) });
    expect(decideServing(e, cfg({ require_edge: false }), { symbol: 'BTC/USDT' }).kind).toBe('model');
    const none = decideServing(undefined, cfg(), { symbol: 'BTC/USDT' });
    expect(none.kind).toBe('hold');
    expect(none.verdict).toBe('unknown');
    expect(formatVerdict(none, 'BTC/USDT')).toMatch(/^verdict: unknown - no walk-forward verdict .*; BTC\/USDT will hold/);
    // Another symbol's verdict says nothing about this one.
    expect(decideServing(e, cfg(), { symbol: 'ETH/USDT' }).verdict).toBe('unknown');
  });
});
