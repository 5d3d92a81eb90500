import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import { thrown } from '../../test/support/thrown.js';

type Json = Record<string, unknown>;

const policyA = { id: 'a', package: 'policies.a', entrypoints: { validate: 'policies/a/validate' } };
const policyB = { id: 'b', package: 'policies.b', enforcement: 'warn', entrypoints: { validate: 'policies/b/validate', mutate: 'policies/b/mutate' } };

function manifest(over: Json = {}, policies: unknown[] = [policyA, policyB]): Json {
  return {
    revision: 'rev-7',
    roots: ['policies'],
    wasm: [
      { entrypoint: 'policies/a/validate', module: '/policy.wasm' },
      { entrypoint: 'policies/b/validate', module: '/policy.wasm' },
      { entrypoint: 'policies/b/mutate', module: '/policy.wasm' },
    ],
    metadata: { bouncer: { schema: 1, policies } },
    ...over,
  };
}

const text = (value: unknown): string => JSON.stringify(value);


describe('parseManifest', () => {
  it('reads a valid manifest', () => {
    const m = parseManifest(text(manifest()));
    expect(m.revision).toBe('rev-7');
    expect(m.roots).toEqual(['policies']);
    expect(m.wasm).toEqual([
      { entrypoint: 'policies/a/validate', module: '/policy.wasm' },
      { entrypoint: 'policies/b/validate', module: '/policy.wasm' },
      { entrypoint: 'policies/b/mutate', module: '/policy.wasm' },
    ]);
    expect(m.policies.map((p) => [p.id, p.enforcement, p.failure])).toEqual([
      ['a', 'deny', 'fail-closed'],
      ['b', 'warn', 'fail-closed'],
    ]);
    expect(m.policies[1]?.entrypoints).toEqual({ validate: 'policies/b/validate', mutate: 'policies/b/mutate' });
  });

  it.each<{ name: string; over: Json; roots: string[] }>([
    { name: 'no roots means the whole tree', over: { roots: undefined }, roots: [''] },
    { name: 'an explicit empty root', over: { roots: [''] }, roots: [''] },
    { name: 'an entrypoint equal to a root', over: { roots: ['policies/a/validate', 'policies/b'] }, roots: ['policies/a/validate', 'policies/b'] },
  ])('accepts $name', ({ over, roots }) => {
    expect(parseManifest(text(manifest(over))).roots).toEqual(roots);
  });

  it('accepts a manifest with no policies', () => {
    expect(parseManifest(text(manifest({}, []))).policies).toEqual([]);
  });

  it.each<{ name: string; input: string; message: string }>([
    { name: 'text that is not JSON', input: 'revision: 1', message: '.manifest is not JSON' },
    { name: 'a JSON array', input: text([manifest()]), message: '.manifest must be a JSON object' },
    { name: 'JSON null', input: 'null', message: '.manifest must be a JSON object' },
    { name: 'a missing revision', input: text(manifest({ revision: undefined })), message: '.manifest has no revision' },
    { name: 'an empty revision', input: text(manifest({ revision: '' })), message: '.manifest has no revision' },
    { name: 'a numeric revision', input: text(manifest({ revision: 7 })), message: '.manifest has no revision' },
    { name: 'no wasm section', input: text(manifest({ wasm: undefined })), message: '.manifest lists no wasm module' },
    { name: 'an empty wasm section', input: text(manifest({ wasm: [] })), message: '.manifest lists no wasm module' },
    { name: 'a wasm entry without module', input: text(manifest({ wasm: [{ entrypoint: 'policies/a/validate' }] })), message: 'wasm entries need entrypoint and module' },
    { name: 'a null wasm entry', input: text(manifest({ wasm: [null] })), message: 'wasm entries need entrypoint and module' },
    { name: 'no metadata', input: text(manifest({ metadata: undefined })), message: 'has no metadata.bouncer' },
    { name: 'metadata without bouncer', input: text(manifest({ metadata: { other: {} } })), message: 'has no metadata.bouncer' },
    { name: 'an unknown metadata schema', input: text(manifest({ metadata: { bouncer: { schema: 2, policies: [] } } })), message: 'has no metadata.bouncer (schema 1)' },
    { name: 'policies that are not a list', input: text(manifest({ metadata: { bouncer: { schema: 1, policies: {} } } })), message: 'has no metadata.bouncer' },
    { name: 'roots that are not a list of strings', input: text(manifest({ roots: 'policies' })), message: 'roots must be a list of strings' },
    { name: 'a duplicated policy id', input: text(manifest({}, [policyA, policyA])), message: 'policy a appears twice' },
    {
      name: 'an entrypoint not listed in wasm',
      input: text(manifest({}, [policyA, { ...policyB, entrypoints: { validate: 'policies/b/check' } }])),
      message: 'policy b names entrypoint policies/b/check, which the wasm section does not list',
    },
    {
      name: 'an entrypoint outside the roots',
      input: text(manifest({ roots: ['policies/a'] })),
      message: 'entrypoint policies/b/validate is outside the bundle roots',
    },
    {
      name: 'an entrypoint sharing only a name prefix with a root',
      input: text(manifest({ roots: ['policies/a', 'policies/bb'] })),
      message: 'entrypoint policies/b/validate is outside the bundle roots',
    },
    { name: 'invalid policy metadata', input: text(manifest({}, [{ ...policyA, enforcement: 'block' }])), message: 'policy a: enforcement must be one of' },
  ])('rejects $name with BUNDLE_MANIFEST_INVALID', ({ input, message }) => {
    const err = thrown(() => parseManifest(input));
    expect(err.code).toBe('BUNDLE_MANIFEST_INVALID');
    expect(err.message).toContain(message);
  });
});
