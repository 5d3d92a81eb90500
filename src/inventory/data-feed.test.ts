// The inventory feed: only declared kinds reach a bundle, in Gatekeeper's layout; a policy
// instance fed incrementally sees what one loaded whole from the store sees.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildInventoryPolicy, opaEvalRules, type InventoryPolicy } from '../../test/support/inventory-policy.js';
import { createEvaluator, type Evaluator } from '../engine/evaluator.js';
import type { DataChange } from '../engine/data-change.js';
import { createInventoryFeed } from './data-feed.js';
import { inventoryText, objectPath } from './layout.js';
import { kindKey, type GroupVersionKind, type InventoryEvent, type InventoryView, type StoredObject } from './types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CM: GroupVersionKind = { group: '', version: 'v1', kind: 'ConfigMap' };
const ING: GroupVersionKind = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' };
const NS: GroupVersionKind = { group: '', version: 'v1', kind: 'Namespace' };
const SECRET: GroupVersionKind = { group: '', version: 'v1', kind: 'Secret' };
const requires = (...kinds: GroupVersionKind[]) => ({ kinds: kinds.map((k) => ({ ...k, status: false, readers: { policies: ['p'], templates: [] } })) });

/** A store as the replicator keeps one: objects by kind, then namespace/name. */
function memoryStore(): InventoryView & { apply(e: InventoryEvent): void } {
  const kinds = new Map<string, Map<string, StoredObject>>();
  return {
    objects: (kind) => kinds.get(kindKey(kind))?.values() ?? [],
    health: () => ({ state: 'synced' }),
    apply(e) {
      if (e.type === 'reset') return;
      let objects = kinds.get(kindKey(e.kind));
      if (!objects) kinds.set(kindKey(e.kind), (objects = new Map()));
      if (e.type === 'put') objects.set(`${e.namespace}/${e.name}`, { namespace: e.namespace, name: e.name, json: e.json });
      else objects.delete(`${e.namespace}/${e.name}`);
    },
  };
}

function recorder(): { updateData(key: string, changes: readonly DataChange[]): void; sent: { key: string; changes: readonly DataChange[] }[] } {
  const sent: { key: string; changes: readonly DataChange[] }[] = [];
  return { sent, updateData: (key, changes) => sent.push({ key, changes }) };
}

const putEvent = (kind: GroupVersionKind, namespace: string, name: string, object: unknown): InventoryEvent => ({
  type: 'put',
  kind,
  namespace,
  name,
  json: encoder.encode(JSON.stringify(object)),
});

describe('layout', () => {
  it('builds data.inventory in Gatekeeper layout from stored bytes, one level per group-version, kind and namespace', () => {
    const store = memoryStore();
    store.apply(putEvent(CM, 'a', 'x', { data: { k: 'v' } }));
    store.apply(putEvent(CM, 'b', 'y', {}));
    store.apply(putEvent(ING, 'a', 'i', { spec: {} }));
    store.apply(putEvent(NS, '', 'a', { metadata: { name: 'a' } }));
    store.apply(putEvent(SECRET, 'a', 's', { not: 'declared' }));
    expect(JSON.parse(decoder.decode(inventoryText([CM, ING, NS, CM], store)))).toEqual({
      cluster: { v1: { Namespace: { a: { metadata: { name: 'a' } } } } },
      namespace: { a: { v1: { ConfigMap: { x: { data: { k: 'v' } } } }, 'networking.k8s.io/v1': { Ingress: { i: { spec: {} } } } }, b: { v1: { ConfigMap: { y: {} } } } },
    });
    expect(JSON.parse(decoder.decode(inventoryText([SECRET], memoryStore())))).toEqual({});
    expect(objectPath(ING, 'a', 'i')).toEqual(['inventory', 'namespace', 'a', 'networking.k8s.io/v1', 'Ingress', 'i']);
    expect(objectPath(NS, '', 'a')).toEqual(['inventory', 'cluster', 'v1', 'Namespace', 'a']);
  });
});

describe('createInventoryFeed', () => {
  it('sends a bundle changes for the kinds it declared only, and nothing to a bundle that declared none', () => {
    const store = memoryStore();
    const backend = recorder();
    const feed = createInventoryFeed({ view: store, backend });
    expect(feed.attach('none', { kinds: [] })()).toEqual([]);
    feed.attach('cms', requires(CM));
    const events = [putEvent(CM, 'a', 'x', {}), putEvent(SECRET, 'a', 's', {}), { type: 'delete', kind: CM, namespace: 'a', name: 'y' } as const];
    events.forEach((e) => store.apply(e));
    feed.apply(events);
    expect(backend.sent).toEqual([
      {
        key: 'cms',
        changes: [
          { op: 'put', path: ['inventory', 'namespace', 'a', 'v1', 'ConfigMap', 'x'], value: encoder.encode('{}') },
          { op: 'remove', path: ['inventory', 'namespace', 'a', 'v1', 'ConfigMap', 'y'] },
        ],
      },
    ]);
    feed.detach('cms');
    feed.apply([putEvent(CM, 'a', 'z', {})]);
    expect(backend.sent).toHaveLength(1);
  });

  it('answers a reset with one whole put of the bundle inventory as the store has it', () => {
    const store = memoryStore();
    const backend = recorder();
    const feed = createInventoryFeed({ view: store, backend });
    feed.attach('b', requires(CM, NS));
    const events: InventoryEvent[] = [putEvent(CM, 'a', 'x', {}), { type: 'reset', kind: NS }, putEvent(NS, '', 'n', {})];
    events.forEach((e) => store.apply(e));
    feed.apply(events);
    expect(backend.sent).toHaveLength(1);
    expect(backend.sent[0]?.changes).toHaveLength(1);
    const [change] = backend.sent[0]?.changes ?? [];
    expect(change?.op === 'put' && change.path).toEqual(['inventory']);
    expect(change?.op === 'put' && JSON.parse(decoder.decode(change.value))).toEqual({ cluster: { v1: { Namespace: { n: {} } } }, namespace: { a: { v1: { ConfigMap: { x: {} } } } } });
  });

  describe('into a real policy instance', () => {
    let policy: InventoryPolicy;
    beforeAll(async () => {
      policy = await buildInventoryPolicy(inject('opa'));
    });
    const RULES = ['names', 'duplicate_hosts', 'all'] as const;
    /** Emptied parents (left by removes) dropped, as a whole load has none. */
    const prune = (v: unknown): unknown => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
      const out = Object.entries(v).flatMap(([k, c]) => {
        const p = prune(c);
        return typeof c === 'object' && c !== null && !Array.isArray(c) && Object.keys(p as object).length === 0 ? [] : [[k, p]];
      });
      return Object.fromEntries(out);
    };
    const seen = (evaluator: Evaluator) =>
      Object.fromEntries(
        evaluator.evaluate(encoder.encode('{}'), RULES.map((r) => policy.entry(r))).map((o, i) => {
          if (!o.ok) throw new Error(o.failure.message);
          const v = Array.isArray(o.value) ? [...(o.value as string[])].sort() : prune(o.value);
          return [RULES[i], v];
        }),
      );

    it('sees after a stream of events what an instance loaded whole from the store sees, and what opa eval sees', () => {
      const store = memoryStore();
      const fed = createEvaluator(policy.wasm, policy.data);
      const feed = createInventoryFeed({ view: store, backend: { updateData: (_key, changes) => fed.applyData(changes) } });
      store.apply(putEvent(ING, 'pre', 'existing', { spec: { rules: [{ host: 'h0' }] } }));
      fed.applyData(feed.attach('b', requires(CM, ING))());
      for (let round = 0; round < 30; round++) {
        const events: InventoryEvent[] = [];
        for (let i = 0; i < 10; i++) {
          const ns = `ns${(round * 7 + i) % 3}`;
          const name = `o${(round + i * 3) % 5}`;
          if ((round + i) % 4 === 3) events.push({ type: 'delete', kind: (round + i) % 2 ? CM : ING, namespace: ns, name });
          else if ((round + i) % 2) events.push(putEvent(CM, ns, name, { data: { round: `${round}` } }));
          else events.push(putEvent(ING, ns, name, { spec: { rules: [{ host: `h${(round * i) % 4}` }] } }));
        }
        if (round === 20) events.push({ type: 'reset', kind: CM });
        events.forEach((e) => store.apply(e));
        feed.apply(events);
      }
      const whole = createEvaluator(policy.wasm, policy.data);
      whole.applyData(feed.attach('fresh', requires(CM, ING))());
      const incremental = seen(fed);
      expect((incremental['names'] as string[]).length).toBeGreaterThan(0);
      expect((incremental['duplicate_hosts'] as string[]).length).toBeGreaterThan(0);
      expect(incremental).toEqual(seen(whole));
      const document = { ...(JSON.parse(decoder.decode(policy.data)) as object), inventory: JSON.parse(decoder.decode(inventoryText([CM, ING], store))) as unknown };
      const oracle = opaEvalRules(inject('opa'), document, ['names', 'duplicate_hosts']);
      expect({ names: incremental['names'], duplicate_hosts: incremental['duplicate_hosts'] }).toEqual({
        names: [...(oracle['names'] as string[])].sort(),
        duplicate_hosts: [...(oracle['duplicate_hosts'] as string[])].sort(),
      });
    });
  });
});
