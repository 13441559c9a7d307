#!/usr/bin/env node
/**
 * Builds kilo's native tree grower (native/kilo_gbdt*.c) into build/native/kilo_gbdt.node; imported
 * by native/build.mjs, so it runs on `npm ci` / `npm install` (postinstall) and `npm run build:native`.
 * Plain C (no AVX2/FMA: the trees must match the TypeScript grower bit for bit) with pthreads, so it
 * builds on any architecture with a C compiler and Node's headers. Without them the gradient-boosted
 * trees train on the TypeScript grower (same trees, slower) and `kilo doctor` says why
 * (build/native/gbdt-build-error.txt). Never fails `npm ci`; with --strict a failure sets exit code 1.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sources = ['kilo_gbdt.c', 'kilo_gbdt_grow.c', 'kilo_gbdt_hist.c'].map((f) => join(root, 'native', f));
const outDir = join(root, 'build', 'native');
const out = join(outDir, 'kilo_gbdt.node');
const errFile = join(outDir, 'gbdt-build-error.txt');

/** Same search as build.mjs: where node_api.h is. */
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

function build() {
  if (process.env.KILO_NATIVE_BUILD === '0') return 'KILO_NATIVE_BUILD=0';
  const inc = headerDir();
  if (!inc) return "Node's headers (node_api.h) not found; set KILO_NODE_HEADERS to their folder";
  const cc = process.env.CC || 'cc';
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  // fp-contract=off: a fused a*b+c rounds differently from JavaScript, and the trees must match.
  const flags = ['-O3', '-std=gnu11', '-fPIC', '-shared', '-pthread', '-Wall', '-ffp-contract=off', '-fvisibility=hidden'];
  const args = [...flags, '-DNODE_GYP_MODULE_NAME=kilo_gbdt', `-I${inc}`, '-o', tmp, ...sources];
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    return `compile failed: ${r.error ? `${cc}: ${r.error.message}` : (r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`;
  }
  if (r.stderr.trim()) console.warn(r.stderr.trim());
  renameSync(tmp, out);
  return null;
}

const why = build();
if (why) {
  mkdirSync(outDir, { recursive: true });
  // An older build left in place could be loaded against newer sources; without one the reason shows.
  rmSync(out, { force: true });
  writeFileSync(errFile, why + '\n');
  console.warn(`kilo: native tree grower not built (${why}); gradient-boosted trees will train on the TypeScript grower.`);
  if (process.argv.includes('--strict')) process.exitCode = 1;
} else {
  rmSync(errFile, { force: true });
  console.log(`kilo: native tree grower built (${out})`);
}
