import { describe, expect, it } from 'vitest';
import { createAdmittedOverlay, type OverlayStore } from './admitted-overlay.js';
import type { GroupVersionKind, StoredObject } from './types.js';
import { kindKey } from './types.js';

const INGRESS: GroupVersionKind = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' };
const encoder = new TextEncoder();

function mapStore(): OverlayStore & { map: Map<string, StoredObject> } {
  const map = new Map<string, StoredObject>();
  const key = (k: GroupVersionKind, ns: string, n: string) => `${kindKey(k)}/${ns}/${n}`;
  return {
    map,
    put: (k, namespace, name, json) => (map.set(key(k, namespace, name), { namespace, name, json }), true),
    delete: (k, ns, n) => void map.delete(key(k, ns, n)),
    get: (k, ns, n) => map.get(key(k, ns, n)),
  };
}

function setup(ttlMs = 1000) {
  let t = 0;
  const store = mapStore();
  const overlay = createAdmittedOverlay({
    store,
    replicated: (k) => (kindKey(k) === kindKey(INGRESS) ? { status: false } : undefined),
    project: (o, _kind, _status) => encoder.encode(JSON.stringify(o)),
    ttlMs,
    now: () => t,
  });
  return { store, overlay, advance: (ms: number) => (t += ms) };
}

const write = (name: string, extra: Partial<{ operation: string; dryRun: boolean; kind: GroupVersionKind }> = {}) => ({
  kind: INGRESS,
  namespace: 'a',
  name,
  operation: 'CREATE',
  dryRun: false,
  object: { metadata: { name, namespace: 'a' }, spec: { rules: [{ host: 'x' }] } },
  ...extra,
});

describe('admitted overlay', () => {
  it('makes an allowed write visible at once, and withdraws it when no watch event came within the ttl', () => {
    const { store, overlay, advance } = setup();
    overlay.admitted(write('one'));
    expect(store.map.size).toBe(1);
    advance(999);
    expect(overlay.expire()).toBe(0);
    advance(1);
    expect(overlay.expire()).toBe(1);
    expect(store.map.size).toBe(0);
  });

  it('keeps what the watch reported since: only its own bytes are withdrawn', () => {
    const { store, overlay, advance } = setup();
    overlay.admitted(write('one'));
    store.put(INGRESS, 'a', 'one', encoder.encode('{"from":"watch"}'));
    advance(5000);
    expect(overlay.expire()).toBe(0);
    expect(new TextDecoder().decode(store.map.get(`${kindKey(INGRESS)}/a/one`)?.json)).toBe('{"from":"watch"}');
  });

  it('ignores dry runs, deletes, unnamed objects and kinds that are not replicated', () => {
    const { store, overlay } = setup();
    overlay.admitted(write('dry', { dryRun: true }));
    overlay.admitted(write('gone', { operation: 'DELETE' }));
    overlay.admitted(write(''));
    overlay.admitted(write('svc', { kind: { group: '', version: 'v1', kind: 'Service' } }));
    expect(store.map.size).toBe(0);
    expect(overlay.pending()).toBe(0);
  });

  it('a re-admission restarts its time', () => {
    const { overlay, advance, store } = setup();
    overlay.admitted(write('one'));
    advance(800);
    overlay.admitted(write('one', { operation: 'UPDATE' }));
    advance(800);
    expect(overlay.expire()).toBe(0);
    advance(200);
    expect(overlay.expire()).toBe(1);
    expect(store.map.size).toBe(0);
  });
});
