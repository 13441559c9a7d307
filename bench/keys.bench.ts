/**
 * Keystroke-to-screen latency of the console while two trainings run in the real engine.
 * The console is rendered by Ink exactly as `kilo` renders it (throttled output, same providers),
 * into an in-memory terminal; a key alternates the panel (1/2) and the time until a frame showing
 * the new panel is written is recorded. The same measurement with the engine idle is the baseline.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import React from 'react';
import { render } from 'ink';
import { createEngine } from '../src/engine.js';
import { configSchema } from '../src/config/schema.js';
import type { EngineApi } from '../src/engine-api.js';
import { Providers } from '../tui/providers.js';
import { App } from '../tui/app.js';

class Term extends EventEmitter {
  columns = 120;
  rows = 32;
  isTTY = true;
  onFrame: ((frame: string) => void) | null = null;
  write = (frame: string): boolean => {
    this.onFrame?.(frame);
    return true;
  };
}

class Keys extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(d: string): void {
    this.data = d;
    this.emit('readable');
  }
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function measure(engine: EngineApi, n: number, label: string, whileCond: () => boolean = () => true): Promise<number[]> {
  const term = new Term();
  const keys = new Keys();
  const inst = render(React.createElement(Providers, { engine, theme: { noColor: true } }, React.createElement(App, {})), {
    stdout: term as unknown as NodeJS.WriteStream,
    stdin: keys as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const lat: number[] = [];
  let updates = 0;
  const off = engine.subscribe(() => updates++);
  // The main thread's own stalls, to tell the console's cost from the engine's.
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < n && whileCond(); i++) {
    const [key, want] = i % 2 === 0 ? ['2', '[2 Models]'] : ['1', '[1 Heartbeat]'];
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      term.onFrame = (f) => {
        if (f.includes(want)) {
          term.onFrame = null;
          resolve();
        }
      };
      keys.write(key);
    });
    lat.push(performance.now() - t0);
    // A human's pace between keys; the figure is the latency, not the rate.
    await new Promise((r) => setTimeout(r, 40));
  }
  inst.unmount();
  off();
  lag.disable();
  const rate = updates / ((performance.now() - started) / 1000);
  const f = (x: number) => x.toFixed(1).padStart(6);
  console.log(
    `${label.padEnd(40)} n=${String(lat.length).padStart(3)}  p50 ${f(pct(lat, 50))} ms  p95 ${f(pct(lat, 95))} ms  max ${f(Math.max(...lat))} ms  (store updates ${rate.toFixed(1)}/s; event-loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, max ${(lag.max / 1e6).toFixed(0)} ms)`,
  );
  return lat;
}

const home = mkdtempSync(join(tmpdir(), 'kilo-keys-bench-'));
try {
  const config = configSchema.parse({
    data: { source: 'sim' },
    universe: { symbols: ['BTC/USDT', 'ETH/USDT'], core_symbols: ['BTC/USDT', 'ETH/USDT'] },
    resources: { max_concurrent_trainings: 2 },
  });
  const engine = await createEngine({ home, config, configPath: join(home, 'config.yaml'), roundIntervalMs: 1000 });
  await engine.start();
  const running = () => engine.getSnapshot().jobs.filter((j) => j.state === 'running').length;
  const deadline = Date.now() + 60_000;
  while (running() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  console.log(`engine: ${engine.getSnapshot().dataSource}, backend ${engine.getSnapshot().backend}, trainings running: ${running()}`);
  if (running() === 2) await measure(engine, 60, 'two trainings running (worker threads)', () => running() === 2);
  else console.log('could not get two trainings running within 60 s');
  await engine.idle();
  await measure(engine, 60, 'engine idle (baseline)');
  await engine.stop();
} finally {
  rmSync(home, { recursive: true, force: true });
}
