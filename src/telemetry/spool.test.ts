import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSpool } from './spool.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('openSpool keeps the spool private', () => {
  let base: string;
  let umask: number;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'bouncer-spool-test-'));
    // The most permissive umask: privacy must not depend on the environment's.
    umask = process.umask(0);
  });
  afterEach(() => {
    process.umask(umask);
    rmSync(base, { recursive: true, force: true });
  });

  /** Every file the spool wrote, and the directory, with their modes. */
  const modes = (dir: string) => ({ dir: mode(dir), files: Object.fromEntries(readdirSync(dir).map((f) => [f, mode(join(dir, f))])) });

  it('creates the directory (and missing parents) 0700 and every file 0600', () => {
    const dir = join(base, 'a', 'spool');
    const spool = openSpool(dir, 1024 * 1024);
    spool.append(['{"secret":"x"}', '{"n":2}']);
    spool.ack(1);
    expect(mode(join(base, 'a'))).toBe(0o700);
    expect(modes(dir)).toEqual({ dir: 0o700, files: { '0000000000000001.jsonl': 0o600, 'acked.json': 0o600 } });
  });

  it('makes an existing directory and the files an earlier run left private', () => {
    const dir = join(base, 'spool');
    mkdirSync(dir, { mode: 0o777 });
    writeFileSync(join(dir, '0000000000000001.jsonl'), '{"n":1}\n', { mode: 0o644 });
    writeFileSync(join(dir, 'acked.json'), '{"segment":"0000000000000001.jsonl","lines":0}', { mode: 0o666 });
    writeFileSync(join(dir, 'acked.json.tmp'), '', { mode: 0o666 });
    const spool = openSpool(dir, 1024 * 1024);
    expect(spool.peek(10, 1024)).toEqual(['{"n":1}']);
    spool.append(['{"n":2}']);
    spool.ack(1);
    expect(modes(dir)).toEqual({ dir: 0o700, files: { '0000000000000001.jsonl': 0o600, 'acked.json': 0o600 } });
  });

  it('refuses a directory that is a symbolic link', () => {
    const target = join(base, 'elsewhere');
    mkdirSync(target, { mode: 0o777 });
    chmodSync(target, 0o777);
    symlinkSync(target, join(base, 'link'));
    expect(() => openSpool(join(base, 'link'), 1024)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('symbolic link') }));
    expect(mode(target)).toBe(0o777);
  });

  it.skipIf(process.getuid?.() !== 0)('refuses a directory owned by another user', async () => {
    const { chownSync } = await import('node:fs');
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o777 });
    chownSync(dir, 12345, 12345);
    expect(() => openSpool(dir, 1024)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('belongs to uid 12345') }));
  });
});
