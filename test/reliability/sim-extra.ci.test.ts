import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { SimMarketSource, SIM_SYMBOLS } from '../../src/market/sim-source.js';
import { configSchema, defaultConfig } from '../../src/config/schema.js';
import { createMarketSource } from '../../src/market/index.js';

const NOW = Date.UTC(2024, 0, 10);
const H = 3_600_000;

describe('simulator extra symbols (data.sim_extra_symbols)', () => {
  it('adds S001..S100 deterministically without changing the base paths', async () => {
    const plain = new SimMarketSource(42, new ManualClock(NOW));
    const big = new SimMarketSource(42, new ManualClock(NOW), { extraSymbols: 100 });
    const again = new SimMarketSource(42, new ManualClock(NOW), { extraSymbols: 100 });
    const listed = (await big.listSymbols()).map((s) => s.symbol);
    expect(listed.length).toBe(SIM_SYMBOLS.length + 100);
    expect(listed).toContain('S001/USDT');
    expect(listed).toContain('S100/USDT');
    expect(listed).not.toContain('S101/USDT');
    const base = await plain.fetchCandles('ETH/USDT', '1h', NOW - 48 * H, NOW);
    expect(await big.fetchCandles('ETH/USDT', '1h', NOW - 48 * H, NOW)).toEqual(base);
    const a = await big.fetchCandles('S042/USDT', '1h', NOW - 48 * H, NOW);
    expect(a.length).toBe(48);
    expect(await again.fetchCandles('S042/USDT', '1h', NOW - 48 * H, NOW)).toEqual(a);
    expect(a.every((c) => c.close > 0 && c.high >= Math.max(c.open, c.close) && c.low <= Math.min(c.open, c.close))).toBe(true);
    // Different coins, different paths.
    expect((await big.fetchCandles('S043/USDT', '1h', NOW - 48 * H, NOW))[0].close).not.toBe(a[0].close);
    await expect(plain.fetchCandles('S001/USDT', '1h', NOW - H, NOW)).rejects.toThrow(/S001\/USDT/);
  });

  it('the config key defaults to 0, rejects negatives and reaches createMarketSource', async () => {
    expect(defaultConfig().data.sim_extra_symbols).toBe(0);
    expect(configSchema.safeParse({ data: { sim_extra_symbols: -1 } }).success).toBe(false);
    const c = defaultConfig();
    c.data.sim_extra_symbols = 3;
    const m = await createMarketSource(c, { home: '/nonexistent', clock: new ManualClock(NOW) });
    const syms = (await m.source.listSymbols()).map((s) => s.symbol);
    expect(syms.filter((s) => s.startsWith('S0'))).toEqual(['S001/USDT', 'S002/USDT', 'S003/USDT']);
  });
});
