/**
 * Crash trials: the real `kilo run --headless --json` on the simulator is killed with SIGKILL at
 * random moments (startup, mid-round, during a training, during the model save), while `kilo queue
 * add` and config edits run in other processes and are killed too; then it restarts. After every
 * kill the home folder must load: no torn or unlisted artifact visible or served, no acknowledged
 * queue entry lost or duplicated, performance stats never below what was committed, config.yaml
 * parses. KILO_CRASH_TRIALS sets the count (30 in CI; `KILO_CRASH_TRIALS=200 npm run test:reliability`).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { readdir, rm } from 'node:fs/promises';
import { envInt, freshHome, pollUntil, seededRandom, simConfig, startKilo, startTsScript, writeConfig, REPO, type KiloChild } from './helpers.js';
import { checkConfig, checkEngineState, checkModels, checkPerformance, checkQueue, signalsBySymbol } from './crash-state.js';

const TRIALS = envInt('KILO_CRASH_TRIALS', 30);
const SEED = envInt('KILO_CRASH_SEED', 20261121);
const EDIT_SCRIPT = join(REPO, 'test/reliability/fixtures/edit-config.ts');
const ADD_SYMBOLS = ['LINK/USDT', 'DOT/USDT', 'AVAX/USDT'];
const QUEUE_KEEP_FINISHED = 200;

type Target = 'startup' | 'round' | 'training' | 'save';
const TARGETS: [Target, number][] = [
  ['startup', 0.2],
  ['round', 0.35],
  ['training', 0.25],
  ['save', 0.2],
];

type Ev = Record<string, unknown>;
/** Rounds completed so far: distinct candle times of the signals (heartbeats follow wall time, not rounds). */
const roundsOf = (events: Ev[]): number => new Set(events.filter((e) => e.type === 'signal').map((e) => e.at)).size;
const isJob = (e: Ev, pred: (phase: string) => boolean): boolean =>
  e.type === 'job' && e.state === 'running' && pred(String((e.progress as { phase?: string } | undefined)?.phase ?? ''));

/** Where the engine was when it died, from the last event it printed. */
function phaseOf(events: Ev[]): string {
  const e = events[events.length - 1];
  if (!e) return 'startup';
  if (e.type === 'job') return isJob(e, (p) => p === 'save') ? 'model save' : 'training';
  if (e.type === 'promotion' || (e.type === 'log' && /artifact written|now serves|keeps model/.test(String(e.message)))) return 'model publish / serving write';
  if (e.type === 'log' && /queued|queue/.test(String(e.message))) return 'queue write';
  if (e.type === 'heartbeat') return 'stats / state write';
  return 'round';
}

function pick<T>(rand: () => number, weighted: [T, number][]): T {
  let u = rand() * weighted.reduce((s, [, w]) => s + w, 0);
  for (const [v, w] of weighted) if ((u -= w) <= 0) return v;
  return weighted[weighted.length - 1][0];
}

let home = '';
afterAll(async () => {
  if (home && !process.env.KILO_KEEP_HOME) await rm(home, { recursive: true, force: true });
});

describe('crash trials: kill -9 at random moments, restart, nothing lost or torn', () => {
  it(`survives ${TRIALS} kills`, async () => {
    home = await freshHome('crash');
    const rand = seededRandom(SEED);
    const configPath = await writeConfig(home, simConfig({ paper_trading: { entry_threshold: 0.55 } }));
    // Seed the home with trained models (a clean bounded run) so later kills land in retrains and model saves too.
    const seedRun = startKilo(['--home', home, 'run', '--headless', '--iterations', '2', '--finish-jobs', '--json']);
    expect((await seedRun.exited).code, seedRun.stderr().slice(-2000)).toBe(0);
    const kills: Record<string, number> = {};
    const sideKills = { queueAdd: 0, configEdit: 0 };
    const acked = { queueAdds: 0, configEdits: 0 };
    const corruptions: string[] = [];
    let committed: Record<string, number> = {};
    let restartChecks = 0;
    let tmpLeft = 0;
    let artifacts = 0;
    let rounds = 0;
    let ackedQueue = new Map<string, string>();
    let possibleThreshold = new Set([0.55]);
    let addSeq = 0;

    const t0 = Date.now();
    for (let trial = 1; trial <= TRIALS; trial++) {
      const target = pick(rand, TARGETS);
      const engine = startKilo(['--home', home, 'run', '--headless', '--json']);
      const side: Promise<void>[] = [];

      // A concurrent `kilo queue add` (sometimes killed mid-way): only an exit 0 with JSON counts as acknowledged.
      if (rand() < 0.4) {
        const symbol = ADD_SYMBOLS[addSeq++ % ADD_SYMBOLS.length];
        const killAfter = rand() < 0.4 ? 300 + rand() * 2500 : null;
        const add = startKilo(['--home', home, 'queue', 'add', symbol, '--json']);
        side.push(runSide(add, killAfter, () => sideKills.queueAdd++, (out) => {
          const r = JSON.parse(out) as { entry: { id: string; symbol: string } };
          ackedQueue.set(r.entry.id, r.entry.symbol);
          acked.queueAdds++;
        }));
      }
      // A concurrent config edit through updateConfigFile (sometimes killed mid-way).
      if (rand() < 0.35) {
        const value = Math.round((0.5 + rand() * 0.1) * 10_000) / 10_000;
        possibleThreshold.add(value);
        const killAfter = rand() < 0.5 ? 300 + rand() * 2000 : null;
        const edit = startTsScript(EDIT_SCRIPT, [configPath, String(value)]);
        side.push(runSide(edit, killAfter, () => sideKills.configEdit++, (out) => {
          if (out.trim() !== `ok ${value}`) throw new Error(`config edit child printed ${out}`);
          possibleThreshold = new Set([value]);
          acked.configEdits++;
        }));
      }

      // The restarted engine must start from at least what was committed before the kill.
      let restartOk: boolean | null = null;
      const checkRestart = (): void => {
        if (restartOk !== null) return;
        const hb = engine.events.find((e) => e.type === 'heartbeat') as { symbols?: { symbol: string; signals: number }[] } | undefined;
        if (!hb?.symbols) return;
        restartOk = true;
        for (const s of hb.symbols) {
          if ((committed[s.symbol] ?? 0) > s.signals) {
            restartOk = false;
            corruptions.push(`trial ${trial}: restarted engine shows ${s.signals} signals for ${s.symbol}, ${committed[s.symbol]} were committed`);
          }
        }
      };

      const waitMs = target === 'startup' ? 200 + rand() * 2200 : 30_000;
      const roundsWanted = 1 + Math.floor(rand() * 8);
      // Kill a random moment after the save starts: before, during or after the artifact rename.
      const saveGrace = rand() * 400;
      let saveSeenAt = 0;
      await pollUntil(() => {
        checkRestart();
        if (engine.child.exitCode !== null) return true;
        if (target === 'round') return roundsOf(engine.events) >= roundsWanted;
        if (target === 'training') return engine.events.some((e) => isJob(e, (p) => p !== 'save' && p !== ''));
        if (target === 'save') {
          if (!saveSeenAt && engine.events.some((e) => isJob(e, (p) => p === 'save'))) saveSeenAt = Date.now();
          return saveSeenAt > 0 && Date.now() - saveSeenAt >= saveGrace;
        }
        return false;
      }, waitMs, 5);
      checkRestart();
      if (restartOk !== null) restartChecks++;
      expect(engine.child.exitCode, `engine exited on its own in trial ${trial}: ${engine.stderr().slice(-2000)}`).toBeNull();
      const phase = phaseOf(engine.events);
      engine.child.kill('SIGKILL');
      await engine.exited;
      kills[phase] = (kills[phase] ?? 0) + 1;
      rounds += roundsOf(engine.events);
      await Promise.all(side);

      // ---- after the kill: read everything the way the next start will ----
      const conf = await checkConfig(configPath, possibleThreshold);
      const cfg = conf.config ?? null;
      const models = cfg ? await checkModels(home, cfg, Date.now()) : { artifacts: 0, tmpFolders: 0, problems: [] };
      const queue = await checkQueue(home, ackedQueue);
      const perf = await checkPerformance(home, committed);
      const state = await checkEngineState(home);
      for (const p of [...conf.problems, ...models.problems, ...queue.problems, ...perf.problems, ...state.problems]) corruptions.push(`trial ${trial} (${phase}): ${p}`);
      committed = { ...committed, ...signalsBySymbol(perf.data) };
      artifacts = models.artifacts;
      tmpLeft = models.tmpFolders;
      // Every entry seen now must survive later kills (finished ones may age out past the history cap).
      const finished = queue.entries.filter((e) => e.state !== 'queued' && e.state !== 'running').length;
      ackedQueue = new Map(
        queue.entries.filter((e) => finished < QUEUE_KEEP_FINISHED - 20 || e.state === 'queued' || e.state === 'running').map((e) => [e.id, e.symbol]),
      );
    }

    // After all of it, a bounded clean run still works from this home.
    const final = startKilo(['--home', home, 'run', '--headless', '--iterations', '2', '--json']);
    const { code } = await final.exited;
    expect(code, final.stderr().slice(-2000)).toBe(0);
    const summary = final.events.find((e) => e.type === 'summary') as { rounds: number } | undefined;
    expect(summary?.rounds).toBe(2);

    const totalSignals = Object.values(committed).reduce((a, b) => a + b, 0);
    // Temp files of writes cut short by SIGKILL (never read, never renamed; nothing removes them).
    const orphanTemps = (await readdir(join(home, 'data'))).filter((f) => f.startsWith('.kilo-tmp-')).length;
    console.log(
      [
        `[crash] trials ${TRIALS} (seed ${SEED}) in ${((Date.now() - t0) / 1000).toFixed(0)} s, engine rounds seen ${rounds}, restarts checked against committed stats ${restartChecks}`,
        `[crash] kills by phase: ${Object.entries(kills).map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `[crash] side processes killed: queue add ${sideKills.queueAdd}, config edit ${sideKills.configEdit}; acknowledged: queue adds ${acked.queueAdds}, config edits ${acked.configEdits}`,
        `[crash] artifacts on disk ${artifacts} (all verified), leftover .tmp-* folders ignored ${tmpLeft}, orphaned data/.kilo-tmp-* files ${orphanTemps}, committed scored signals ${totalSignals}`,
        `[crash] corruptions found: ${corruptions.length}`,
        ...corruptions.slice(0, 20).map((c) => `[crash]   ${c}`),
      ].join('\n'),
    );
    expect(corruptions).toEqual([]);
    expect(Object.values(kills).reduce((a, b) => a + b, 0)).toBe(TRIALS);
  }, 3_600_000); // sized by KILO_CRASH_TRIALS; also runs under plain `npm test` (default timeout 120 s)
});

/** Let a side process finish (calling onOk with its stdout when it exits 0) or kill it after `killAfter` ms. */
async function runSide(k: KiloChild, killAfter: number | null, onKilled: () => void, onOk: (stdout: string) => void): Promise<void> {
  if (killAfter !== null) {
    await pollUntil(() => k.child.exitCode !== null, killAfter, 10);
    if (k.child.exitCode === null) {
      k.child.kill('SIGKILL');
      onKilled();
    }
  }
  const { code, signal } = await k.exited;
  if (signal === 'SIGKILL') return;
  if (code !== 0) throw new Error(`side process exited ${code}: ${k.stderr().slice(-1500)}`);
  onOk(k.stdout());
}
