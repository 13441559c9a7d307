import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import type { Candle } from '../../src/market/types.js';
import { classifyUnknownAsset } from '../../src/policy/tier.js';
import { tierOf } from '../../src/assets/tiers.js';

const DATA = fileURLToPath(new URL('../../../shared/data/ohlcv', import.meta.url));
const DAY = 86_400_000;

function readCsv(file: string): Candle[] {
  const lines = readFileSync(join(DATA, file), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const [timestamp, open, high, low, close, volume] = l.split(',').map(Number);
    return { timestamp, open, high, low, close, volume };
  });
}
const cfg = (model: Partial<Config['model']> = {}, assets: Partial<Config['assets']> = {}): Config => {
  const c = defaultConfig();
  c.model = { ...c.model, ...model };
  c.assets = { ...c.assets, ...assets };
  return c;
};

describe('tierOf', () => {
  it('reads the config lists, unsupported first', () => {
    const c = cfg({}, { unsupported: ['BTC/USDT'] });
    expect(tierOf('BTC/USDT', c)).toBe('unsupported');
    expect(tierOf('ETH/USDT', c)).toBe('pre_trained');
    expect(tierOf('SOL/USDT', c)).toBe('quick_train');
    expect(tierOf('PEPE/USDT', c)).toBe('unknown');
  });
});

describe.skipIf(!existsSync(DATA))('classifyUnknownAsset on real Binance candles', () => {
  it('calls USDC a stablecoin and SOL trainable', () => {
    const usdc = classifyUnknownAsset(readCsv('USDC-USDT-1h.csv'), '1h', cfg());
    expect(usdc.verdict).toBe('stablecoin');
    expect(usdc.dailyVol).toBeLessThan(0.002);
    expect(usdc.reason).toMatch(/daily volatility 0\.\d+% is below 0\.200% .*stablecoin/);
    const sol = classifyUnknownAsset(readCsv('SOL-USDT-1h.csv'), '1h', cfg());
    expect(sol.verdict).toBe('trainable');
    expect(sol.dailyVol).toBeGreaterThan(0.02);
    expect(sol.historyDays).toBeGreaterThan(900);
  });

  it('judges FDUSD history length: ~5 months passes a 90-day minimum, a 30-day cut does not', () => {
    const fdusd = readCsv('FDUSD-USDT-1h.csv');
    // FDUSD is itself a stablecoin; turn that check off to look at history alone.
    const c = cfg({ min_history_days_to_train: 90 }, { stablecoin_max_daily_vol: 0 });
    const full = classifyUnknownAsset(fdusd, '1h', c);
    expect(full.historyDays).toBeGreaterThan(150);
    expect(full.historyDays).toBeLessThan(170);
    expect(full.verdict).toBe('trainable');
    // With the default threshold the same series is (rightly) a stablecoin, not short history.
    expect(classifyUnknownAsset(fdusd, '1h', cfg({ min_history_days_to_train: 90 })).verdict).toBe('stablecoin');
    const last = fdusd[fdusd.length - 1].timestamp;
    const cut = fdusd.filter((x) => x.timestamp > last - 30 * DAY);
    const short = classifyUnknownAsset(cut, '1h', c);
    expect(short.verdict).toBe('insufficient_data');
    expect(short.reason).toBe('only 30.0 days of history, 90 needed (model.min_history_days_to_train)');
  });

  it('calls a thinly traded series illiquid and a gappy one insufficient', () => {
    const sol = readCsv('SOL-USDT-1h.csv');
    const thin = sol.map((x) => ({ ...x, volume: x.volume / 1e9 }));
    const r = classifyUnknownAsset(thin, '1h', cfg());
    expect(r.verdict).toBe('illiquid');
    expect(r.quoteVolume24h).toBeLessThan(100_000);
    const gappy = sol.filter((_, i) => i % 3 !== 0);
    const g = classifyUnknownAsset(gappy, '1h', cfg());
    expect(g.verdict).toBe('insufficient_data');
    expect(g.coverage).toBeCloseTo(2 / 3, 2);
    expect(g.reason).toMatch(/history has gaps: 66\.\d% of candles present/);
  });
});
