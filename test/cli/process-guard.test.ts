/**
 * The process guard of long-running kilo processes, in a real child process with the real tfjs
 * WebAssembly backend loaded (it installs an 'uncaughtException' handler that rethrows): a stray
 * error ends the process with exit 1 and one short line, not exit 7 and a dump of minified source;
 * a closed stdout is reported once to the caller.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '../..');

function runScript(body: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kilo-guard-'));
  try {
    const file = join(dir, 'script.mts');
    writeFileSync(file, body);
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadWasm = `
const { initTf } = await import(${JSON.stringify(join(repo, 'src/models/tf-backend.ts'))});
const tf = await initTf({ prefer: 'wasm' });
if (tf.backend !== 'wasm') throw new Error('wasm backend not loaded: ' + tf.backend);
`;

describe('process guard', () => {
  it('without it, the wasm backend turns a stray error into exit 7 (the behaviour it removes)', () => {
    const r = runScript(`${loadWasm}\nsetTimeout(() => { throw new Error('boom'); }, 10);\n`);
    expect(r.status).toBe(7);
  }, 150_000);

  it('with it, a stray error after the wasm backend loaded exits 1 with one short line', () => {
    const r = runScript(`
const { guardProcess } = await import(${JSON.stringify(join(repo, 'src/cli/process-guard.ts'))});
guardProcess({ onStdoutClosed: () => undefined });
${loadWasm}
setTimeout(() => { throw new Error('boom'); }, 10);
`);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('kilo: boom\n');
  }, 150_000);

  it('reports a closed stdout once and keeps running to stop cleanly', () => {
    const r = runScript(`
const { guardProcess } = await import(${JSON.stringify(join(repo, 'src/cli/process-guard.ts'))});
let n = 0;
guardProcess({ onStdoutClosed: () => { n++; } });
${loadWasm}
// An EPIPE on stdout, as a closed pipe raises it.
process.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
process.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
setTimeout(() => { process.stderr.write('closed reported ' + n + '\\n'); process.exitCode = 0; }, 20);
`);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('closed reported 1\n');
  }, 150_000);
});
