/**
 * One read model: for the same home, the console's models panel (a real engine rendered in
 * ink-testing-library) and `kilo models --json` (the real CLI in a child process, answering from
 * the files) show the same version serving each symbol - and the one the files say. Symbols are
 * served by different versions here: BTC by its promoted 1.0, ETH by the selection's 1.1, SOL by none.
 */
import React from 'react';
import { afterAll, describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEngine } from '../../src/engine.js';
import { loadConfig } from '../../src/config/load.js';
import { Providers } from '../../tui/providers.js';
import { App } from '../../tui/app.js';
import { DAY, runKilo, tempHome, writeArtifact } from '../helpers/artifact-fixtures.js';
import { press, waitForFrame } from './helpers.js';

let home = '';
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

/** "Serving: BTC/USDT 1.0  ETH/USDT 1.1  SOL/USDT none" -> {symbol: version | null}. */
function servingFromFrame(frame: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const start = frame.indexOf('Serving:');
  expect(start, frame).toBeGreaterThanOrEqual(0);
  for (const line of frame.slice(start).split('\n')) {
    if (!/^(Serving:| {9})/.test(line)) break;
    for (const m of line.matchAll(/([A-Z0-9]+\/[A-Z0-9]+) (\d+\.\d+|none)/g)) out[m[1]] = m[2] === 'none' ? null : m[2];
  }
  return out;
}

describe('the read model is the only view builder', () => {
  it('the console models panel and kilo models --json show the same per-symbol serving versions', async () => {
    home = await tempHome('kilo-readmodel-');
    const models = join(home, 'models');
    const now = Date.now();
    await writeArtifact(models, { version: '1.0', symbols: ['BTC/USDT'], trainingEnd: now - 30 * DAY });
    await writeArtifact(models, { version: '1.1', symbols: ['BTC/USDT'], trainingEnd: now - 2 * DAY });
    await writeArtifact(models, { version: '1.1', key: 'ETH-USDT', symbols: ['ETH/USDT'], trainingEnd: now - 2 * DAY });
    await mkdir(join(home, 'data'), { recursive: true });
    // The gate kept 1.0 for BTC when 1.1 was trained: serving.json says so.
    await writeFile(join(home, 'data', 'serving.json'), JSON.stringify({ 'BTC/USDT': '1.0' }));
    const configPath = join(home, 'config.yaml');
    await writeFile(configPath, 'data:\n  source: sim\nuniverse:\n  symbols: [BTC/USDT, ETH/USDT, SOL/USDT]\n  core_symbols: []\nmodel:\n  auto_train_new_symbols: false\n');

    const { config } = await loadConfig(configPath);
    const engine = await createEngine({ home, config, configPath });
    await engine.start({ loop: false });
    const r = render(
      <Providers engine={engine} theme={{ noColor: true }}>
        <App size={{ columns: 120, rows: 30 }} />
      </Providers>,
    );
    await waitForFrame(r, 'BTC/USDT');
    await press(r, '2');
    const frame = await waitForFrame(r, 'Serving:');
    const panel = servingFromFrame(frame);
    const engineModels = engine.getSnapshot().models.map((m) => [m.version, m.servingSymbols, m.verdict.kind]);
    r.unmount();
    await engine.stop();

    const cli = await runKilo(home, ['models', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const out = JSON.parse(cli.stdout) as { serving: Record<string, string | null>; versions: { version: string; serving_symbols: string[]; verdict: { kind: string } }[] };

    expect(panel).toEqual({ 'BTC/USDT': '1.0', 'ETH/USDT': '1.1', 'SOL/USDT': null });
    expect(out.serving).toEqual(panel);
    // Not only the per-symbol map: every version's serving set and verdict agree as well.
    expect(out.versions.map((m) => [m.version, m.serving_symbols, m.verdict.kind])).toEqual(engineModels);
  }, 180_000);
});
