/**
 * Symbols read back from data/serving.json and data/promotions.json get the same check as typed
 * ones (issue 17 item 4): a planted `X/../../` key is dropped, named with the file and entry once,
 * never served, and gone from the file at the next write; the good entries keep serving.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readServingMap, servingFromDecisions, updateServingMap } from '../../src/registry/serving.js';
import { tempHome } from '../helpers/artifact-fixtures.js';

describe('serving.json symbols', () => {
  it('a bad key is rejected naming file and entry, once; good ones serve; the next write drops it', async () => {
    const home = await tempHome();
    await mkdir(join(home, 'data'));
    const file = join(home, 'data', 'serving.json');
    await writeFile(file, JSON.stringify({ 'BTC/USDT': '1.1', 'X/../../planted': '1.0', 'eth/usdt': '1.0' }));
    const warnings: string[] = [];
    const opts = { onWarn: (w: string) => warnings.push(w) };
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.1' });
    expect(await readServingMap(file, opts)).toEqual({ 'BTC/USDT': '1.1' });
    expect(warnings).toEqual([
      `${file}: entry "X/../../planted": expected a symbol like BTC/USDT, got "X/../../planted"; entry rejected, never served`,
      `${file}: entry "eth/usdt": expected a symbol like BTC/USDT, got "eth/usdt"; entry rejected, never served`,
    ]);
    await updateServingMap(file, (m) => Object.assign(m, { 'ETH/USDT': '1.2' }), opts);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ 'BTC/USDT': '1.1', 'ETH/USDT': '1.2' });
    expect(warnings).toHaveLength(2);
  });

  it('a rebuild from promotions.json skips a decision whose symbol is not a symbol', () => {
    const d = (symbol: string, v: string) => ({ symbol, kind: 'promoted', championVersion: null, challengerVersion: v });
    expect(servingFromDecisions([d('BTC/USDT', '1.1'), d('../../x', '1.0')])).toEqual({ 'BTC/USDT': '1.1' });
  });
});
