#!/usr/bin/env node
/**
 * Builds kilo's native recurrent kernels (native/kilo_rnn.c) into build/native/kilo_rnn.node.
 * Runs on `npm ci` / `npm install` (postinstall). Needs a C compiler (cc, or $CC) and Node's own
 * headers (node_api.h): both are on a stock Debian/Node machine; nothing is downloaded.
 * Without them kilo still works: training uses the tfjs (wasm) path, and `kilo doctor` says why.
 * Exit code is 0 either way unless --strict is given (used by the tests to surface the reason).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The tree grower (native/kilo_gbdt.c) builds first, on its own terms: it never ends this script.
import './build-gbdt.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, 'native', 'kilo_rnn.c');
const outDir = join(root, 'build', 'native');
const out = join(outDir, 'kilo_rnn.node');
const strict = process.argv.includes('--strict');

function headerDir() {
  const candidates = [
    process.env.KILO_NODE_HEADERS,
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

function fail(why) {
  // One line, so an operator sees it in the npm ci output; the reason is also kept for `kilo doctor`.
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'build-error.txt'), why + '\n');
  console.warn(`kilo: native RNN kernels not built (${why}); training will use the tfjs wasm path.`);
  process.exit(strict ? 1 : 0);
}

if (process.env.KILO_NATIVE_BUILD === '0') fail('KILO_NATIVE_BUILD=0');
if (process.arch !== 'x64') fail(`no kernels for ${process.arch} (they use AVX2/FMA)`);
const inc = headerDir();
if (!inc) fail("Node's headers (node_api.h) not found; set KILO_NODE_HEADERS to their folder");
const cc = process.env.CC || 'cc';
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
const args = ['-O3', '-std=gnu11', '-fPIC', '-shared', '-Wall', '-DNODE_GYP_MODULE_NAME=kilo_rnn', `-I${inc}`, '-o', tmp, src];
const r = spawnSync(cc, args, { encoding: 'utf8' });
if (r.error || r.status !== 0) {
  rmSync(tmp, { force: true });
  const msg = r.error ? `${cc}: ${r.error.message}` : (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
  fail(`compile failed: ${msg}`);
}
if (r.stderr.trim()) console.warn(r.stderr.trim());
renameSync(tmp, out);
rmSync(join(outDir, 'build-error.txt'), { force: true });
console.log(`kilo: native RNN kernels built (${out})`);
