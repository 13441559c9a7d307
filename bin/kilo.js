#!/usr/bin/env node
// Entry for `npx kilo`. Runs the TypeScript sources through tsx so a fresh `npm ci` needs no
// build step; KILO_DIST=1 runs the tsc output in dist/ instead (after `npm run build`).
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (process.env.KILO_DIST === '1') {
  await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'main.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href);
}
