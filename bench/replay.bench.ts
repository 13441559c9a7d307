/**
 * Replay speed (issue 16): the same engine as `kilo replay` over real hourly candles from
 * ../shared/data/ohlcv, default config, every training and retrain it decides on, waited for in
 * simulated time. Prints wall time, rounds/s, process CPU (worker threads included) and model decisions
 * (a second run with auto-training off and no models gives the floor). Target: 2 symbols x 20 months
 * <= 5 min wall on 2 cores.
 *
 * KILO_REPLAY_FROM / KILO_REPLAY_TO (ISO dates) and KILO_REPLAY_SYMBOLS (comma list) narrow it;
 * KILO_REPLAY_SKIP_FLOOR=1 skips the no-model run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type Config } from '../src/config/schema.js';
import { runReplay } from '../src/cli/replay.js';
import { DATA, requireData } from './data.js';

requireData();
const from = Date.parse(process.env.KILO_REPLAY_FROM ?? '2022-01-01T00:00:00Z');
const to = Date.parse(process.env.KILO_REPLAY_TO ?? '2023-09-01T00:00:00Z');
const symbols = (process.env.KILO_REPLAY_SYMBOLS ?? 'BTC/USDT,ETH/USDT').split(',');
const months = (to - from) / (30.44 * 86_400_000);

async function once(label: string, tweak: (c: Config) => void): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'kilo-replay-bench-'));
  const config = defaultConfig();
  config.logging.file = 'data/trading.log';
  tweak(config);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    const s = await runReplay({ config, configPath: join(home, 'config.yaml'), csvDir: DATA, stateDir: home, from, to, speed: 0, symbols, keepState: false });
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const trainings = s.decisions.length;
    console.log(
      `${label.padEnd(22)} ${symbols.length} symbols x ${months.toFixed(1)} months: ${s.rounds} rounds in ${wall.toFixed(1)} s wall (${(s.rounds / wall).toFixed(1)} rounds/s), ` +
        `process CPU (all threads, trainings included) ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, model decisions ${trainings} (promoted ${s.promoted}), retrains queued ${s.retrains.length}, ` +
        `PnL after fees ${s.pnlPct.toFixed(2)} % vs buy-and-hold ${s.buyAndHoldPct.toFixed(2)} %`,
    );
    // Where the wall time went: the wait for trainings (simulated time stands still), the rounds by phase, the rest.
    const ms = Object.entries(s.wallMs).sort((a, b) => b[1] - a[1]);
    console.log(`${''.padEnd(22)} wall by part (s): ${ms.map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

console.log(`replay bench on ${DATA}, ${new Date(from).toISOString().slice(0, 10)} .. ${new Date(to).toISOString().slice(0, 10)}, load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
await once('default config', () => undefined);
if (process.env.KILO_REPLAY_SKIP_FLOOR !== '1') {
  await once('no models (floor)', (c) => {
    c.auto_training.enabled = false;
    c.model.auto_train_new_symbols = false;
    c.model.block_untrained_symbols = false;
  });
}
console.log('target: default config <= 300 s wall for 2 symbols x 20 months on 2 cores');
