/**
 * data/serving.json is state like any other (issue 17 item 2): atomic writes with a .bak, recovery
 * from the .bak with a warning and the bad copy kept, and when both are lost a rebuild from
 * data/promotions.json (the record of decisions) with a warning.
 */
import { describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readServingMap, servingFromDecisions, updateServingMap } from '../../src/registry/serving.js';
import { PromotionHistory } from '../../src/trading/promotion-history.js';
import type { PromotionDecision } from '../../src/engine-api.js';
import { tempHome } from '../helpers/artifact-fixtures.js';

const decision = (symbol: string, champion: string | null, challenger: string, promoted: boolean, at: number): PromotionDecision => ({
  at, symbol, kind: promoted ? 'promoted' : challenger === '-' ? 'failed' : 'kept', championVersion: champion, challengerVersion: challenger, championScore: 0.4, challengerScore: 0.5, reason: 'test',
});

async function files(home: string) {
  const file = join(home, 'data', 'serving.json');
  const promotionsFile = join(home, 'data', 'promotions.json');
  const warnings: string[] = [];
  return { file, promotionsFile, warnings, opts: { promotionsFile, onWarn: (w: string) => warnings.push(w) } };
}

describe('serving.json', () => {
  it('is written with a .bak; a truncated file is recovered from the .bak with a warning and the bad copy kept', async () => {
    const { file, warnings, opts } = await files(await tempHome());
    await updateServingMap(file, (m) => Object.assign(m, { 'BTC/USDT': '1.6', 'ETH/USDT': '1.5', 'SOL/USDT': '1.2' }), opts);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ 'BTC/USDT': '1.6', 'ETH/USDT': '1.5', 'SOL/USDT': '1.2' });
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, Math.floor(text.length / 2)));
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.6', 'ETH/USDT': '1.5', 'SOL/USDT': '1.2' });
    expect(warnings).toEqual([expect.stringMatching(/serving\.json was corrupt \(.*JSON.*\); recovered the last good copy from .*serving\.json\.bak, bad file kept as .*serving\.json\.corrupt-/)]);
    const kept = (await readdir(dirname(file))).filter((n) => n.startsWith('serving.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(await readFile(join(dirname(file), kept[0]), 'utf8')).toBe(text.slice(0, Math.floor(text.length / 2)));
    // Repaired on disk: the next read is silent.
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.6', 'ETH/USDT': '1.5', 'SOL/USDT': '1.2' });
    expect(warnings).toHaveLength(1);
  });

  it('both copies unreadable: rebuilt from promotions.json (the last decision per symbol), with a warning, bad copies kept', async () => {
    const { file, promotionsFile, warnings, opts } = await files(await tempHome());
    const history = await PromotionHistory.open(promotionsFile);
    await history.add(decision('BTC/USDT', null, '1.0', true, 1));
    await history.add(decision('BTC/USDT', '1.0', '1.3', true, 2));
    await history.add(decision('BTC/USDT', '1.3', '1.4', false, 3)); // kept 1.3
    await history.add(decision('ETH/USDT', null, '1.1', true, 4));
    await history.add(decision('ETH/USDT', '1.1', '-', false, 5)); // a failed retrain keeps 1.1
    await writeFile(file, '{"BTC/USDT": "1.');
    await writeFile(`${file}.bak`, '');
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.3', 'ETH/USDT': '1.1' });
    expect(warnings).toEqual([
      expect.stringMatching(/serving\.json and its \.bak are both unreadable; rebuilt serving from .*promotions\.json \(the last gate decision per symbol: BTC\/USDT 1\.3, ETH\/USDT 1\.1\); bad copies kept as .*serving\.json\.corrupt-.*, .*serving\.json\.bak\.corrupt-/),
    ]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'BTC/USDT': '1.3', 'ETH/USDT': '1.1' });
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ 'BTC/USDT': '1.3', 'ETH/USDT': '1.1' });
    // Deleted outright (both copies): the same rebuild.
    await rm(file);
    await rm(`${file}.bak`);
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.3', 'ETH/USDT': '1.1' });
    expect(warnings[1]).toMatch(/serving\.json and its \.bak are missing; rebuilt serving from/);
  });

  it('a fresh home (no file, no decisions) reads empty, silently, and creates nothing', async () => {
    const home = await tempHome();
    const { file, warnings, opts } = await files(home);
    expect(await readServingMap(file, opts)).toEqual({});
    expect(warnings).toEqual([]);
    expect(await readdir(home)).toEqual([]);
  });

  it('concurrent writers (engine and kilo train) lose no symbol', async () => {
    const { file, opts } = await files(await tempHome());
    const symbols = Array.from({ length: 12 }, (_, i) => `S${i}/USDT`);
    await Promise.all(symbols.map((s, i) => updateServingMap(file, (m) => void (m[s] = `1.${i}`), opts)));
    expect(Object.keys(await readServingMap(file, opts)).sort()).toEqual([...symbols].sort());
  });

  it('servingFromDecisions replays decisions in order, old (promoted: boolean) and typed (kind) alike', () => {
    expect(servingFromDecisions([decision('A/USDT', null, '1.0', true, 1), decision('A/USDT', '1.0', '1.1', false, 2), decision('B/USDT', null, '1.0', false, 3)])).toEqual({ 'A/USDT': '1.0' });
    const typed = (symbol: string, kind: string, championVersion: string | null, challengerVersion: string | null) => ({ symbol, kind, championVersion, challengerVersion });
    expect(
      servingFromDecisions([
        typed('A/USDT', 'promoted', null, '1.0'),
        typed('A/USDT', 'promoted', '1.0', '1.2'),
        typed('A/USDT', 'rollback', '1.2', '1.0'),
        typed('B/USDT', 'promoted', null, '1.1'),
        typed('B/USDT', 'failed', '1.1', null),
        typed('B/USDT', 'no_edge', '1.1', '1.3'),
      ]),
    ).toEqual({ 'A/USDT': '1.0', 'B/USDT': '1.1' });
  });
});
