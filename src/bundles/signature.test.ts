import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { bundleFiles, editBundle } from '../../test/support/bundle-files.js';
import { loadBundle } from './bundle.js';
import { canonicalJson } from './canonical-json.js';
import { createBundleVerifier } from './signature.js';

const bundles = () => inject('bundles');
const keys = () => inject('signingKeys');
const rs256 = () => createBundleVerifier({ publicKeyPem: keys().signerPublic, algorithm: 'RS256' });

describe('bundle signatures made by the real OPA CLI', () => {
  it('accepts an RS256-signed bundle and loads it', async () => {
    const bundle = await loadBundle('signed', readFileSync(bundles()['signed-rs256'] as string), { verify: rs256() });
    expect(bundle.revision).toBe('test-signed-rs256-1');
  });

  it('accepts an ES256-signed bundle with its key', async () => {
    const verify = createBundleVerifier({ publicKeyPem: bundles()['signed-es256-public'] as string, algorithm: 'ES256' });
    await expect(verify(await bundleFiles(bundles()['signed-es256'] as string))).resolves.toBeUndefined();
  });

  it.each([
    ['an unsigned bundle', async () => bundleFiles(bundles().basic as string), 'not signed'],
    ['a bundle signed by another key', async () => bundleFiles(bundles()['signed-rs256'] as string), 'does not verify', () => keys().otherPublic],
    [
      'a changed policy.wasm',
      async () => bundleFiles(bundles()['signed-rs256'] as string).then((f) => f.set('/policy.wasm', Buffer.concat([Buffer.from(f.get('/policy.wasm') as Uint8Array), Buffer.from([0])]))),
      '/policy.wasm: digest mismatch',
    ],
    [
      'changed data',
      async () => bundleFiles(bundles()['signed-rs256'] as string).then((f) => f.set('/data.json', Buffer.from('{"policies": {"x": 1}}'))),
      '/data.json: digest mismatch',
    ],
    [
      'an added file',
      async () => bundleFiles(bundles()['signed-rs256'] as string).then((f) => f.set('/policies/extra/policy.rego', Buffer.from('package policies.extra'))),
      'not included in the bundle signature',
    ],
    [
      'a removed file',
      async () => bundleFiles(bundles()['signed-rs256'] as string).then((f) => (f.delete('/policies/deny_label/policy.rego'), f)),
      'missing from the bundle',
    ],
    [
      'a tampered payload',
      async () =>
        bundleFiles(bundles()['signed-rs256'] as string).then((f) => {
          const sig = JSON.parse(Buffer.from(f.get('/.signatures.json') as Uint8Array).toString()) as { signatures: string[] };
          const [h, , s] = (sig.signatures[0] as string).split('.');
          f.set('/.signatures.json', Buffer.from(JSON.stringify({ signatures: [`${h}.${Buffer.from('{"files":[]}').toString('base64url')}.${s}`] })));
          return f;
        }),
      'does not verify',
    ],
  ])('refuses %s', async (_name, files, message, key?: () => string) => {
    const verify = createBundleVerifier({ publicKeyPem: key ? key() : keys().signerPublic, algorithm: 'RS256' });
    const value = await files();
    await expect(verify(value instanceof Map ? value : await bundleFiles(bundles()['signed-rs256'] as string))).rejects.toMatchObject({
      code: 'BUNDLE_SIGNATURE_INVALID',
      message: expect.stringContaining(message),
    });
  });

  it('refuses a re-formatted data.json only if its canonical form changes', async () => {
    // Whitespace and key order do not matter to OPA's structured-file hash; values do.
    const reformatted = await editBundle(bundles()['signed-rs256'] as string, (f) => {
      const data = JSON.parse(Buffer.from(f.get('/data.json') as Uint8Array).toString()) as unknown;
      f.set('/data.json', Buffer.from(JSON.stringify(data, null, 4)));
    });
    await expect(loadBundle('x', reformatted, { verify: rs256() })).resolves.toBeTruthy();
  });
});

describe('canonicalJson', () => {
  it.each([
    ['sorts keys and drops whitespace', '{ "b": 1,\n "a": [true, null] }', '{"a":[true,null],"b":1}'],
    ['keeps number literals verbatim', '{"n": 1.50, "e": 1e2, "big": 9007199254740993}', '{"big":9007199254740993,"e":1e2,"n":1.50}'],
    ['does not escape HTML characters', '{"h": "<a&b>"}', '{"h":"<a&b>"}'],
    ['escapes U+2028 like Go', '"a\u2028b"', '"a\\u2028b"'],
    ['sorts keys by UTF-8 bytes', '{"é": 1, "z": 2, "Z": 3}', '{"Z":3,"z":2,"é":1}'],
    ['nested objects', '{"o": {"y": {}, "x": []}}', '{"o":{"x":[],"y":{}}}'],
  ])('%s', (_name, input, expected) => {
    expect(canonicalJson(input)).toBe(expected);
  });

  it.each([['{"a" 1}'], ['[1,'], ['{"a": 1} x'], ['nope']])('rejects %s', (input) => {
    expect(() => canonicalJson(input)).toThrow(expect.objectContaining({ code: 'BUNDLE_SIGNATURE_INVALID' }));
  });
});
