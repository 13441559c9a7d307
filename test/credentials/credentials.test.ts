import { describe, it, expect, beforeEach } from 'vitest';
import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../src/config/schema.js';
import { loadCredentials, scrubSecrets, CredentialsError, describeCredentials } from '../../src/credentials/index.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'kilo-creds-'));
});

const withFile = (name: string) => {
  const c = defaultConfig();
  c.exchange.credentials_file = name;
  return c;
};

describe('loadCredentials', () => {
  it('none configured: public market data only', async () => {
    const c = await loadCredentials(defaultConfig(), {}, home);
    expect(c).toEqual({ source: 'none' });
    expect(describeCredentials(c)).toContain('public market data only');
  });

  it('reads the env variables named in the config', async () => {
    const cfg = defaultConfig();
    cfg.exchange.api_key_env = 'MY_KEY';
    const c = await loadCredentials(cfg, { MY_KEY: 'k-123456', KILO_API_SECRET: 's-654321' }, home);
    expect(c).toEqual({ apiKey: 'k-123456', secret: 's-654321', source: 'env' });
    await expect(loadCredentials(cfg, { MY_KEY: 'k' }, home)).rejects.toThrow(/set KILO_API_SECRET too/);
  });

  it('refuses a 0644 file with the chmod hint, accepts it at 0600 (yaml and json)', async () => {
    const file = join(home, 'creds.yaml');
    await writeFile(file, 'apiKey: abcdef123\nsecret: zyxw9876\n');
    await chmod(file, 0o644);
    const err = await loadCredentials(withFile('creds.yaml'), {}, home).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect((err as Error).message).toContain(`chmod 600 ${file}`);
    expect((err as Error).message).not.toContain('abcdef123');
    await chmod(file, 0o600);
    expect(await loadCredentials(withFile('creds.yaml'), {}, home)).toEqual({ apiKey: 'abcdef123', secret: 'zyxw9876', source: 'file', file });
    const json = join(home, 'creds.json');
    await writeFile(json, JSON.stringify({ apiKey: 'jkey-1', secret: 'jsec-2' }), { mode: 0o600 });
    expect((await loadCredentials(withFile('creds.json'), {}, home)).apiKey).toBe('jkey-1');
  });

  it('a malformed file is refused without echoing its content', async () => {
    const file = join(home, 'bad.yaml');
    await writeFile(file, 'apiKey: [topsecretvalue\n', { mode: 0o600 });
    const err = (await loadCredentials(withFile('bad.yaml'), {}, home).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(file);
    expect(err.message).not.toContain('topsecretvalue');
    await writeFile(join(home, 'partial.yaml'), 'apiKey: only\n', { mode: 0o600 });
    await expect(loadCredentials(withFile('partial.yaml'), {}, home)).rejects.toThrow(/must contain string keys apiKey and secret/);
  });
});

describe('scrubSecrets', () => {
  it('replaces key and secret, including URL-encoded forms', () => {
    const creds = { apiKey: 'KEY+abc/123', secret: 'SEC=xyz&789' };
    const text = `GET /x?apiKey=${encodeURIComponent(creds.apiKey)} failed: key ${creds.apiKey} secret ${creds.secret}`;
    const out = scrubSecrets(text, creds);
    expect(out).toBe('GET /x?apiKey=***apiKey*** failed: key ***apiKey*** secret ***secret***');
    expect(scrubSecrets('nothing here', creds)).toBe('nothing here');
    expect(scrubSecrets('abc', undefined)).toBe('abc');
  });
});
