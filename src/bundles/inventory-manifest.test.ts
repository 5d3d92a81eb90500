// metadata.bouncer.inventory and the audit marks, as a loaded bundle's manifest is checked:
// absent is no replicated kinds (bundles built before it), anything malformed is refused.
import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseManifest } from './manifest.js';

type Json = Record<string, unknown>;

const ingress = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', status: false, resource: 'ingresses', readers: { policies: ['a'], templates: ['K8sUnique'] } };
const service = { group: '', version: 'v1', kind: 'Service', status: true, readers: { policies: [], templates: [] } };

function manifest(bouncer: Json = {}, policy: Json = {}, template: Json = {}): string {
  return JSON.stringify({
    revision: 'r',
    roots: ['policies', 'bouncer', 'gatekeeper'],
    wasm: [
      { entrypoint: 'policies/a/validate', module: '/policy.wasm' },
      { entrypoint: 'bouncer/gatekeeper/k8sunique/validate', module: '/policy.wasm' },
    ],
    metadata: {
      bouncer: {
        schema: 1,
        policies: [{ id: 'a', package: 'policies.a', entrypoints: { validate: 'policies/a/validate' }, ...policy }],
        gatekeeper: {
          key: 'k1',
          templates: [{ name: 'k8sunique', kind: 'K8sUnique', entrypoint: 'bouncer/gatekeeper/k8sunique/validate', operations: ['CREATE', 'UPDATE'], ...template }],
          constraints: [],
        },
        ...bouncer,
      },
    },
  });
}

describe('metadata.bouncer.inventory', () => {
  it('is no kinds when absent (a bundle built before it)', () => {
    expect(parseManifest(manifest()).inventory).toEqual({ kinds: [] });
  });

  it('reads each kind with its status, resource and readers', () => {
    const m = parseManifest(manifest({ inventory: { kinds: [ingress, service] } }));
    expect(m.inventory.kinds).toEqual([ingress, service]);
  });

  it.each([
    ['not an object', []],
    ['an unknown member', { kinds: [], extra: 1 }],
    ['kinds not a list', { kinds: {} }],
    ['an unknown field of a kind', { kinds: [{ ...service, namespaced: true }] }],
    ['no status', { kinds: [{ ...service, status: undefined }] }],
    ['a group with capitals', { kinds: [{ ...service, group: 'Apps' }] }],
    ['an empty version', { kinds: [{ ...service, version: '' }] }],
    ['a kind that is not a name', { kinds: [{ ...service, kind: 'my kind' }] }],
    ['a resource with capitals', { kinds: [{ ...service, resource: 'Services' }] }],
    ['readers without templates', { kinds: [{ ...service, readers: { policies: [] } }] }],
    ['a reader named twice', { kinds: [{ ...service, readers: { policies: ['a', 'a'], templates: [] } }] }],
    ['a reader policy not in the bundle', { kinds: [{ ...service, readers: { policies: ['b'], templates: [] } }] }],
    ['a reader template not in the bundle', { kinds: [{ ...service, readers: { policies: [], templates: ['Other'] } }] }],
    ['a kind twice', { kinds: [service, service] }],
  ])('refuses %s', (_, inventory) => {
    const err = thrown(() => parseManifest(manifest({ inventory })));
    expect(err.code).toBe('BUNDLE_MANIFEST_INVALID');
    expect(err.message).toMatch(/^metadata\.bouncer\.inventory: /);
  });
});

describe('audit marks', () => {
  const mark = { auditable: false, reason: 'reads input.request.operation (p.rego:3)' };

  it('are carried on policies and templates, absent when auditable', () => {
    const m = parseManifest(manifest({}, { audit: mark }, { audit: mark }));
    expect(m.policies[0]?.audit).toEqual(mark);
    expect(m.gatekeeper?.templates[0]?.audit).toEqual(mark);
    const plain = parseManifest(manifest());
    expect(plain.policies[0]).not.toHaveProperty('audit');
    expect(plain.gatekeeper?.templates[0]).not.toHaveProperty('audit');
  });

  it.each([
    ['auditable true', { auditable: true, reason: 'x' }],
    ['no reason', { auditable: false }],
    ['an empty reason', { auditable: false, reason: '' }],
    ['an extra field', { ...{ auditable: false, reason: 'x' }, since: 1 }],
    ['a string', 'no'],
  ])('refuses %s', (_, audit) => {
    expect(thrown(() => parseManifest(manifest({}, { audit }))).message).toMatch(/policy a: audit must be/);
    expect(thrown(() => parseManifest(manifest({}, {}, { audit }))).message).toMatch(/template k8sunique: audit must be/);
  });
});
