import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

describe('kilo without a terminal', () => {
  it('says so, points to `kilo run --headless`, exits 2 and writes nothing', () => {
    const home = mkdtempSync(join(tmpdir(), 'kilo-notty-'));
    try {
      for (const args of [[], ['setup']]) {
        const r = spawnSync(process.execPath, [join(repo, 'bin', 'kilo.js'), '--home', home, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
        expect(r.status).toBe(2);
        expect(r.stderr).toContain('kilo run --headless');
        expect(existsSync(join(home, 'config.yaml'))).toBe(false);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a bad config.yaml is reported with its key before any UI, and left untouched', () => {
    const home = mkdtempSync(join(tmpdir(), 'kilo-badcfg-'));
    try {
      const bad = '# my settings\nmodel:\n  window: "wide"\n';
      writeFileSync(join(home, 'config.yaml'), bad);
      const r = spawnSync(process.execPath, [join(repo, 'bin', 'kilo.js'), '--home', home], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('config.yaml');
      expect(r.stderr).toContain('model.window');
      expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toBe(bad);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
