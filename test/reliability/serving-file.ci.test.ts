/**
 * Issue 17 item 2: a corrupt serving.json silently reverted every promotion. Truncated to half, the
 * next start served the selection's v1.6 everywhere instead of the promoted versions, with no
 * warning, no .bak and no copy of the bad file. Now the engine's next start serves the promoted
 * versions (from the .bak), warns and keeps the bad copy; with both copies lost it rebuilds serving
 * from data/promotions.json and says so.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { defaultConfig, type Config } from '../../src/config/schema.js';
import { createEngine } from '../../src/engine.js';
import { ModelRegistry, registryPaths } from '../../src/registry/registry.js';
import { PromotionHistory } from '../../src/trading/promotion-history.js';
import { DAY, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';

const START = Date.UTC(2026, 0, 1);
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const PROMOTED = { 'BTC/USDT': '1.6', 'ETH/USDT': '1.5', 'SOL/USDT': '1.2' };
const homes: string[] = [];
afterAll(async () => {
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

function config(): Config {
  const c = defaultConfig();
  c.data.source = 'sim';
  c.universe.symbols = SYMBOLS;
  c.universe.core_symbols = [];
  c.auto_training.enabled = false;
  c.logging.file = 'data/trading.log';
  return c;
}

/** v1.0..v1.6 for every symbol (the selection would pick 1.6 everywhere) and the gate's promotions. */
async function homeWithPromotions(): Promise<string> {
  const home = await tempHome('kilo-rel-serving-');
  homes.push(home);
  for (let minor = 0; minor <= 6; minor++) {
    for (const s of SYMBOLS) await writeArtifact(join(home, 'models'), { version: `1.${minor}`, symbols: [s], trainingEnd: START - (10 - minor) * DAY });
  }
  const reg = new ModelRegistry(registryPaths(home));
  await reg.refresh();
  const history = await PromotionHistory.open(join(home, 'data', 'promotions.json'));
  for (const [s, v] of Object.entries(PROMOTED)) {
    await history.add({ at: START, symbol: s, championVersion: '1.0', challengerVersion: v, championScore: 0.4, challengerScore: 0.5, kind: 'promoted', reason: 'test' });
    await reg.setServing(s, v);
  }
  return home;
}

async function served(home: string): Promise<{ versions: Record<string, string | null>; warnings: string[] }> {
  const clock = new ManualClock(START);
  const engine = await createEngine({ home, config: config(), configPath: join(home, 'config.yaml'), clock, marketClock: clock });
  await engine.start({ loop: false });
  try {
    const versions = Object.fromEntries(engine.getSnapshot().symbols.map((r) => [r.symbol, r.modelVersion]));
    return { versions, warnings: engine.logger.entries().filter((e) => e.level === 'warn').map((e) => e.message) };
  } finally {
    await engine.stop();
  }
}

describe('serving.json damaged between two starts', () => {
  it('truncated to half: the next start serves the promoted versions, warns, keeps the bad copy', async () => {
    const home = await homeWithPromotions();
    const file = join(home, 'data', 'serving.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, Math.floor(text.length / 2)));
    const { versions, warnings } = await served(home);
    expect(versions).toEqual(PROMOTED);
    expect(warnings.filter((w) => /serving\.json was corrupt .*recovered the last good copy from .*serving\.json\.bak, bad file kept as /.test(w))).toHaveLength(1);
    const kept = (await readdir(join(home, 'data'))).filter((n) => n.startsWith('serving.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(await readFile(join(home, 'data', kept[0]), 'utf8')).toBe(text.slice(0, Math.floor(text.length / 2)));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(PROMOTED);
  });

  it('serving.json and its .bak both lost: serving is rebuilt from data/promotions.json, with a warning', async () => {
    const home = await homeWithPromotions();
    const file = join(home, 'data', 'serving.json');
    await writeFile(file, '{"BTC/US');
    await rm(`${file}.bak`);
    const { versions, warnings } = await served(home);
    expect(versions).toEqual(PROMOTED);
    expect(warnings.filter((w) => /rebuilt serving from .*promotions\.json \(the last gate decision per symbol: BTC\/USDT 1\.6, ETH\/USDT 1\.5, SOL\/USDT 1\.2\)/.test(w))).toHaveLength(1);
  });
});
