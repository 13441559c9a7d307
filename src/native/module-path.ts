/**
 * Where kilo's native addon is: build/native/kilo_rnn.node under the package root (native/build.mjs
 * builds it on `npm ci`). Shared by the recurrent kernels (rnn.ts) and the allocator calls
 * (memory.ts), which must not pull tfjs in to find it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (holds package.json), from src/native or dist/src/native. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'native'))) return dir;
    dir = dirname(dir);
  }
  return dirname(dirname(dirname(fileURLToPath(import.meta.url))));
}

/** KILO_NATIVE_MODULE overrides the path (the tests load a deliberately stale build through it). */
export const NATIVE_MODULE_PATH = process.env.KILO_NATIVE_MODULE || join(packageRoot(), 'build', 'native', 'kilo_rnn.node');
