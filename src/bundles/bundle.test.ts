import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { editBundle, packBundle } from '../../test/support/bundle-files.js';
import { loadBundle } from './bundle.js';

const basic = (): string => inject('bundles').basic as string;

describe('loadBundle', () => {
  it('loads a bundle built by bouncer build, with its revision, digest and policies', async () => {
    const bundle = await loadBundle('basic', readFileSync(basic()));
    expect(bundle.name).toBe('basic');
    expect(bundle.revision).toBe('test-basic-1');
    expect(bundle.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle.policies.map((p) => p.meta.id)).toEqual(['broken-closed', 'broken-open', 'deny-label', 'dryrun-label', 'patch-a', 'patch-b', 'warn-label']);
    const patchB = bundle.policies.find((p) => p.meta.id === 'patch-b');
    expect(patchB?.meta).toMatchObject({ failure: 'fail-open', scope: { operations: ['CREATE'] } });
    expect(patchB?.mutate).toBeTypeOf('number');
    expect(patchB?.validate).toBeUndefined();
    expect(Object.isFrozen(bundle)).toBe(true);
  });

  it.each([
    ['bytes that are not gzip', async () => Buffer.from('definitely not a bundle'), 'BUNDLE_CORRUPT'],
    ['gzip that is not a tar', async () => (await import('node:zlib')).gzipSync(Buffer.from('x'.repeat(2000))), 'BUNDLE_CORRUPT'],
    ['an entry escaping the root', async () => packBundle(new Map([['../../etc/passwd', 'x']])), 'BUNDLE_CORRUPT'],
    ['no manifest', async () => editBundle(basic(), (f) => f.delete('/.manifest')), 'BUNDLE_MANIFEST_INVALID'],
    ['a manifest that is not JSON', async () => editBundle(basic(), (f) => f.set('/.manifest', Buffer.from('{'))), 'BUNDLE_MANIFEST_INVALID'],
    [
      'a manifest without bouncer metadata',
      async () => editBundle(basic(), (f) => f.set('/.manifest', Buffer.from(JSON.stringify({ revision: 'r', wasm: [{ entrypoint: 'a/b', module: '/policy.wasm' }] })))),
      'BUNDLE_MANIFEST_INVALID',
    ],
    ['invalid WASM', async () => editBundle(basic(), (f) => f.set('/policy.wasm', Buffer.from('\0asm garbage'))), 'BUNDLE_WASM_INVALID'],
    ['no policy.wasm', async () => editBundle(basic(), (f) => f.delete('/policy.wasm')), 'BUNDLE_WASM_INVALID'],
    ['data.json that does not parse', async () => editBundle(basic(), (f) => f.set('/data.json', Buffer.from('{"a": [1,'))), 'BUNDLE_DATA_INVALID'],
    ['data.json that is not an object', async () => editBundle(basic(), (f) => f.set('/data.json', Buffer.from('[1, 2]'))), 'BUNDLE_DATA_INVALID'],
    ['data outside the bundle roots', async () => editBundle(basic(), (f) => f.set('/data.json', Buffer.from('{"system": {"authz": true}}'))), 'BUNDLE_DATA_INVALID'],
  ])('refuses %s', async (_name, make, code) => {
    await expect(loadBundle('x', await make())).rejects.toMatchObject({ code });
  });

  it('refuses WASM that calls a builtin the runtime does not implement (built by plain opa, bypassing bouncer build)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bouncer-test-'));
    try {
      mkdirSync(join(dir, 'policies', 'sizes'), { recursive: true });
      writeFileSync(join(dir, 'policies', 'sizes', 'p.rego'), 'package policies.sizes\ndeny contains "big" if count(net.lookup_ip_addr(input.request.object.host)) > 10\n');
      const policies = [{ id: 'sizes', package: 'policies.sizes', entrypoints: { validate: 'policies/sizes/deny' } }];
      writeFileSync(join(dir, '.manifest'), JSON.stringify({ roots: ['policies'], metadata: { bouncer: { schema: 1, policies } } }));
      execFileSync(inject('opa'), ['build', '-b', '-t', 'wasm', '-r', 'r1', '-e', 'policies/sizes/deny', '-o', join(dir, 'b.tar.gz'), '.'], { cwd: dir });
      await expect(loadBundle('x', readFileSync(join(dir, 'b.tar.gz')))).rejects.toMatchObject({
        code: 'BUNDLE_BUILTIN_UNSUPPORTED',
        message: expect.stringContaining('net.lookup_ip_addr'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bundle whose policy fails on the self-check probe', async () => {
    await expect(loadBundle('x', readFileSync(inject('bundles')['self-check-fails'] as string))).rejects.toMatchObject({
      code: 'BUNDLE_SELF_CHECK_FAILED',
      message: expect.stringContaining('always-fails'),
    });
  });
});
