// bouncer's rule for what a bundle replicates: the union of native requires, template
// requirements (each resolved to one kind) and the sync configuration's kinds; status only when
// a reader asks; warnings for undeclared reads and unsatisfied requirements.
import { describe, expect, it } from 'vitest';
import type { SyncConfiguration } from '../gatekeeper/parse-sync-config.js';
import type { ConstraintTemplate } from '../gatekeeper/types.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { parseRequires, resolveInventory, resolveRequirement } from './inventory-requirements.js';
import type { RegoReads } from './rego-reads.js';

const none: RegoReads = { requestFields: [], inventory: false, inventoryStatus: [] };
const reading: RegoReads = { ...none, inventory: true };
const ingressV1 = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' };
const ingressExt = { group: 'extensions', version: 'v1beta1', kind: 'Ingress' };
const ingressBeta = { group: 'networking.k8s.io', version: 'v1beta1', kind: 'Ingress' };
const namespace = { group: '', version: 'v1', kind: 'Namespace' };

function template(name: string, requirements?: { alternatives: { group: string; version: string; kind: string }[] }[]): ConstraintTemplate {
  return { name: name.toLowerCase(), kind: name, file: `${name}.yaml`, rego: '', libs: [], regoVersion: 'v0', source: {}, ...(requirements ? { syncRequirements: requirements } : {}) };
}

const syncSet = (...gvks: { group: string; version: string; kind: string }[]): SyncConfiguration => ({ kind: 'SyncSet', name: 's', file: 'sync.yaml', gvks });

describe('parseRequires', () => {
  it('reads entries, "" or no group as the core group, status and resource optional', () => {
    expect(parseRequires([{ group: null, version: 'v1', kind: 'Service' }, { group: 'stable.example.com', version: 'v1', kind: 'CronTab', status: true, resource: 'crontabs' }])).toEqual([
      { group: '', version: 'v1', kind: 'Service', status: false },
      { group: 'stable.example.com', version: 'v1', kind: 'CronTab', status: true, resource: 'crontabs' },
    ]);
    expect(parseRequires(undefined)).toEqual([]);
  });

  it.each([
    ['not a list', { kind: 'Pod' }, /custom\.requires must be a list/],
    ['a string entry', ['v1/Pod'], /custom\.requires\[0\]/],
    ['an unknown field', [{ version: 'v1', kind: 'Pod', namespace: 'x' }], /unknown field namespace/],
    ['no version', [{ kind: 'Pod' }], /version must be an API version/],
    ['a lowercase kind', [{ version: 'v1', kind: 'pods' }], /kind must be a kind such as Ingress/],
    ['a status that is not boolean', [{ version: 'v1', kind: 'Pod', status: 'yes' }], /status must be true or false/],
    ['a kind twice', [{ version: 'v1', kind: 'Pod' }, { group: '', version: 'v1', kind: 'Pod' }], /lists v1\/Pod twice/],
  ])('refuses %s', (_, raw, message) => {
    expect(() => parseRequires(raw)).toThrow(message);
  });
});

describe('resolveRequirement', () => {
  const alternatives = [ingressExt, ingressBeta, ingressV1];
  it('takes the first alternative the sync configuration lists', () => {
    expect(resolveRequirement(alternatives, [ingressBeta, ingressV1], BUILTIN_RESOURCES)).toEqual({ kind: ingressBeta, satisfied: true });
  });
  it('else the first one the pinned Kubernetes serves', () => {
    expect(resolveRequirement(alternatives, [], BUILTIN_RESOURCES)).toEqual({ kind: ingressV1, satisfied: false });
  });
  it('else the first', () => {
    const custom = [{ group: 'a.example.com', version: 'v1', kind: 'A' }, { group: 'b.example.com', version: 'v1', kind: 'B' }];
    expect(resolveRequirement(custom, [], BUILTIN_RESOURCES).kind).toEqual(custom[0]);
  });
});

describe('resolveInventory', () => {
  it('is the union of native requires, resolved template requirements and the sync configuration, by kind key', () => {
    const { inventory, warnings } = resolveInventory(
      [{ id: 'p', requires: parseRequires([{ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' }, { group: 'apps', version: 'v1', kind: 'Deployment', status: true }]), reads: reading }],
      [{ template: template('Unique', [{ alternatives: [ingressExt, ingressV1] }, { alternatives: [namespace] }]), reads: { ...reading, inventoryStatus: ['Namespace'] } }],
      [syncSet(ingressV1, namespace, { group: '', version: 'v1', kind: 'ConfigMap' })],
      BUILTIN_RESOURCES,
    );
    expect(warnings).toEqual([]);
    expect(inventory.kinds).toEqual([
      { group: 'apps', version: 'v1', kind: 'Deployment', status: true, resource: 'deployments', readers: { policies: ['p'], templates: [] } },
      { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', status: false, resource: 'ingresses', readers: { policies: ['p'], templates: ['Unique'] } },
      { group: '', version: 'v1', kind: 'ConfigMap', status: false, resource: 'configmaps', readers: { policies: [], templates: [] } },
      { group: '', version: 'v1', kind: 'Namespace', status: true, resource: 'namespaces', readers: { policies: [], templates: ['Unique'] } },
    ]);
  });

  it('keeps status for every kind of a template when the status ref does not name the kind', () => {
    const { inventory } = resolveInventory([], [{ template: template('T', [{ alternatives: [ingressV1] }]), reads: { ...reading, inventoryStatus: [null] } }], [], BUILTIN_RESOURCES);
    expect(inventory.kinds.map((k) => k.status)).toEqual([true]);
  });

  it('warns about readers of data.inventory that declare nothing', () => {
    const { inventory, warnings } = resolveInventory([{ id: 'p', requires: [], reads: reading }], [{ template: template('T'), reads: reading }], [], BUILTIN_RESOURCES);
    expect(inventory.kinds).toEqual([]);
    expect(warnings).toEqual([
      'policy p reads data.inventory but declares no kinds (custom.requires in its METADATA): bouncer replicates only declared kinds, so what it reads there is empty',
      'T.yaml: ConstraintTemplate t reads data.inventory but declares no kinds (the metadata.gatekeeper.sh/requires-sync-data annotation): bouncer replicates only declared kinds for it',
    ]);
  });

  it('warns about a native policy reading status of a kind it requires without status', () => {
    const requires = parseRequires([{ version: 'v1', kind: 'Node' }]);
    const { warnings } = resolveInventory([{ id: 'p', requires, reads: { ...reading, inventoryStatus: ['Node'] } }], [], [], BUILTIN_RESOURCES);
    expect(warnings).toEqual(['policy p reads status of replicated Node objects, which custom.requires v1/Node drops: add status: true to keep it']);
    const kept = parseRequires([{ version: 'v1', kind: 'Node', status: true }]);
    expect(resolveInventory([{ id: 'p', requires: kept, reads: { ...reading, inventoryStatus: ['Node'] } }], [], [], BUILTIN_RESOURCES).warnings).toEqual([]);
  });

  it('warns about a requirement no sync configuration satisfies, only when there is one', () => {
    const templates = [{ template: template('T', [{ alternatives: [ingressExt, ingressV1] }]), reads: reading }];
    expect(resolveInventory([], templates, [], BUILTIN_RESOURCES).warnings).toEqual([]);
    expect(resolveInventory([], templates, [syncSet(namespace)], BUILTIN_RESOURCES).warnings).toEqual([
      'T.yaml: ConstraintTemplate t: no sync configuration (SyncSet, Config) satisfies the requirement extensions/v1beta1:Ingress OR networking.k8s.io/v1:Ingress; bouncer replicates networking.k8s.io/v1:Ingress for it',
    ]);
  });

  it.each([
    ['an unknown built-in kind', { group: 'apps', version: 'v1', kind: 'Deployments' }, /policy p: custom\.requires apps\/v1\/Deployments: Kubernetes v[\d.]+ has no kind apps\/Deployments \(did you mean apps\/Deployment\?\)/],
    ['a version not served', { group: 'apps', version: 'v1beta1', kind: 'Deployment' }, /serves apps\/Deployment as v1, not v1beta1/],
    ['a wrong resource', { group: '', version: 'v1', kind: 'Service', resource: 'svc' }, /the resource of v1\/Service is services, not svc/],
  ])('refuses %s', (_, requirement, message) => {
    expect(() => resolveInventory([{ id: 'p', requires: parseRequires([requirement]), reads: reading }], [], [], BUILTIN_RESOURCES)).toThrow(message);
  });

  it('keeps a custom kind with the resource it is given, or none', () => {
    const { inventory } = resolveInventory([{ id: 'p', requires: parseRequires([{ group: 'stable.example.com', version: 'v1', kind: 'CronTab', resource: 'crontabs' }, { group: 'x.example.com', version: 'v1', kind: 'X' }]), reads: reading }], [], [], BUILTIN_RESOURCES);
    expect(inventory.kinds.map((k) => [k.kind, k.resource])).toEqual([['CronTab', 'crontabs'], ['X', undefined]]);
  });
});
