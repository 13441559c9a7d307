import { mkdtemp, readFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuardedStore, StoreCorruptError } from '../../src/trading/guarded-store.js';

interface Doc {
  items: number[];
}
const parse = (raw: unknown): Doc => {
  const r = raw as Doc;
  if (!r || !Array.isArray(r.items) || !r.items.every((n) => typeof n === 'number')) throw new Error('invalid at "items"');
  return { items: [...r.items] };
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kilo-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = (file: string, warnings: string[] = []) =>
  GuardedStore.open<Doc>(file, { defaults: () => ({ items: [] }), parse, onWarn: (m) => warnings.push(m) });

describe('GuardedStore', () => {
  it('starts from defaults, writes the file and a .bak copy', async () => {
    const file = join(dir, 'sub', 'x.json');
    const s = await open(file);
    expect(s.data).toEqual({ items: [] });
    s.data.items.push(1, 2);
    await s.write();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ items: [1, 2] });
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8'))).toEqual({ items: [1, 2] });
    const again = await open(file);
    expect(again.data).toEqual({ items: [1, 2] });
  });

  it('serialises concurrent writes so the last data wins in both files', async () => {
    const file = join(dir, 'x.json');
    const s = await open(file);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      s.data.items.push(i);
      writes.push(s.write());
    }
    await Promise.all(writes);
    const want = Array.from({ length: 20 }, (_, i) => i);
    expect(JSON.parse(await readFile(file, 'utf8')).items).toEqual(want);
    expect(JSON.parse(await readFile(`${file}.bak`, 'utf8')).items).toEqual(want);
  });

  it('recovers a corrupt file from the .bak with a warning and keeps the bad file', async () => {
    const file = join(dir, 'x.json');
    const s = await open(file);
    s.data.items.push(7);
    await s.write();
    await writeFile(file, '{"items": [7, ');
    const warnings: string[] = [];
    const r = await open(file, warnings);
    expect(r.data).toEqual({ items: [7] });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toContain('.bak');
    const aside = warnings[0].match(/bad file kept as (\S+)$/)![1];
    expect(aside).toMatch(/x\.json\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(await readFile(aside, 'utf8')).toBe('{"items": [7, ');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ items: [7] });
  });

  it('a second recovery keeps the first corrupt copy (each under its own name)', async () => {
    const file = join(dir, 'x.json');
    const s = await open(file);
    s.data.items.push(1);
    await s.write();
    const kept: string[] = [];
    for (const bad of ['{"items": [1, ', 'not json at all']) {
      await writeFile(file, bad);
      const warnings: string[] = [];
      expect((await open(file, warnings)).data).toEqual({ items: [1] });
      kept.push(warnings[0].match(/bad file kept as (\S+)$/)![1]);
    }
    expect(new Set(kept).size).toBe(2);
    expect(await readFile(kept[0], 'utf8')).toBe('{"items": [1, ');
    expect(await readFile(kept[1], 'utf8')).toBe('not json at all');
  });

  it('treats a well-formed file with a bad shape as corrupt too', async () => {
    const file = join(dir, 'x.json');
    const s = await open(file);
    s.data.items.push(3);
    await s.write();
    await writeFile(file, '{"items": ["three"]}');
    const warnings: string[] = [];
    expect((await open(file, warnings)).data).toEqual({ items: [3] });
    expect(warnings[0]).toMatch(/invalid at "items"/);
  });

  it('refuses when both copies are bad, naming the file, and changes nothing on disk', async () => {
    const file = join(dir, 'x.json');
    await writeFile(file, 'not json');
    await writeFile(`${file}.bak`, 'also not json');
    await expect(open(file)).rejects.toThrow(StoreCorruptError);
    await expect(open(file)).rejects.toThrow(file);
    expect(await readFile(file, 'utf8')).toBe('not json');
    expect(await readFile(`${file}.bak`, 'utf8')).toBe('also not json');
    await expect(access(`${file}.corrupt`)).rejects.toThrow();
  });

  it('refuses a corrupt file with no .bak instead of emptying it', async () => {
    const file = join(dir, 'x.json');
    await writeFile(file, '{');
    await expect(open(file)).rejects.toThrow(/no .*\.bak to recover from/);
    expect(await readFile(file, 'utf8')).toBe('{');
  });
});
