// The reconciler as tables of pointer events over an in-memory revision history, with real
// compiled bundles: ordering, rollback, dedupe, removal, the digest check and the
// cold-start fallback.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleDigest, loadBundle } from '../bundles/bundle.js';
import { createPolicyRegistry } from '../bundles/registry.js';
import { BUNDLE_KEY, revisionName, type Pointer, type ReplicaStatus, type RevisionInfo } from '../cluster/bundle-objects.js';
import { createMetrics } from '../telemetry/metrics.js';
import { capturingLogger } from '../../test/support/reviewing.js';
import { editBundle } from '../../test/support/bundle-files.js';
import { createBundleReconciler } from './bundle-reconciler.js';

type Revision = 'blue' | 'red' | 'bad';

describe('createBundleReconciler', () => {
  const content: Record<Revision, Uint8Array> = { blue: new Uint8Array(), red: new Uint8Array(), bad: Buffer.from('not a bundle') };
  beforeAll(async () => {
    const colors = inject('bundles').colors as string;
    for (const color of ['blue', 'red'] as const) {
      content[color] = await editBundle(colors, (f) => f.set('/data.json', Buffer.from(JSON.stringify({ policies: { color_gate: { denied: [color] } } }))));
    }
  });

  /** A reconciler over the history `revisions` (sequence → content). */
  const setup = (revisions: Record<number, Revision>) => {
    const statuses: ReplicaStatus[] = [];
    const events: { type: string; reason: string }[] = [];
    const loads: string[] = [];
    const registry = createPolicyRegistry();
    const bytesOf = (sequence: number) => content[revisions[sequence] as Revision];
    const reconciler = createBundleReconciler({
      store: {
        history: async (bundle) => ({
          revisions: Object.keys(revisions).map((s): RevisionInfo => ({ bundle, sequence: Number(s), revision: `r${s}`, digest: bundleDigest(bytesOf(Number(s))), sizeBytes: 0 })),
        }),
        readRevision: async (bundle, sequence) =>
          revisions[sequence] ? { metadata: { name: revisionName(bundle, sequence) }, binaryData: { [BUNDLE_KEY]: Buffer.from(bytesOf(sequence)).toString('base64') } } : undefined,
        reportStatus: async (_bundle, _replica, status) => void statuses.push(status),
        event: async (_bundle, type, reason) => void events.push({ type, reason }),
      },
      registry,
      load: async (name, bytes) => {
        loads.push(bundleDigest(bytes));
        return loadBundle(name, bytes);
      },
      replica: 'r1',
      log: capturingLogger().logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    const pointer = (sequence: number, action: Pointer['action'] = 'push', digest?: string): void =>
      reconciler.pointer({ bundle: 'colors', sequence, revision: `r${sequence}`, digest: digest ?? (revisions[sequence] ? bundleDigest(bytesOf(sequence)) : ''), publishedAt: 0, action });
    /** Which color the active set denies, or 'none'. */
    const denies = () => {
      const data = registry.current()?.bundles[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString()) as { policies: { color_gate: { denied: string[] } } }).policies.color_gate.denied[0] : 'none';
    };
    return { reconciler, pointer, statuses, events, loads, registry, denies };
  };

  it.each([
    ['a newer revision replaces the active one', { 1: 'blue', 2: 'red' }, [[1], [2]], 'red', { state: 'active', sequence: 2 }],
    ['an older revision without a rollback is refused, the newer keeps serving', { 1: 'blue', 2: 'red' }, [[2], [1]], 'red', { state: 'refused', sequence: 1, code: 'BUNDLE_REVISION_OLDER', serving: 2 }],
    ['an older revision through a rollback is activated', { 1: 'blue', 2: 'red' }, [[2], [1, 'rollback']], 'blue', { state: 'active', sequence: 1 }],
    ['a refused revision keeps the last good one serving', { 1: 'blue', 2: 'bad' }, [[1], [2]], 'blue', { state: 'refused', sequence: 2, code: 'BUNDLE_CORRUPT', serving: 1 }],
    ['cold start on a refused revision: the newest older one that loads serves', { 1: 'blue', 2: 'red', 3: 'bad' }, [[3]], 'red', { state: 'refused', sequence: 3, code: 'BUNDLE_CORRUPT', serving: 2 }],
    ['cold start: refused older revisions are skipped', { 1: 'blue', 2: 'bad', 3: 'bad' }, [[3]], 'blue', { state: 'refused', sequence: 3, serving: 1 }],
    ['cold start on a rollback to a refused revision: never a newer one', { 1: 'bad', 2: 'red' }, [[1, 'rollback']], 'none', { state: 'refused', sequence: 1 }],
  ] as [string, Record<number, Revision>, [number, Pointer['action']?][], string, Partial<ReplicaStatus>][])('%s', async (_name, revisions, pointers, denied, last) => {
    const { reconciler, pointer, statuses, denies } = setup(revisions);
    for (const [sequence, action] of pointers) pointer(sequence, action);
    await reconciler.idle();
    expect(denies()).toBe(denied);
    expect(statuses.at(-1)).toMatchObject(last);
  });

  it('applies and reports a re-delivered pointer once', async () => {
    const { reconciler, pointer, events } = setup({ 1: 'blue', 2: 'bad' });
    pointer(1);
    pointer(1);
    pointer(2);
    pointer(2);
    await reconciler.idle();
    expect(events.map((e) => e.reason)).toEqual(['BundleActivated', 'BundleRefused']);
  });

  it('refuses bytes that are not the published digest without loading them', async () => {
    const { reconciler, pointer, statuses, loads } = setup({ 1: 'blue' });
    pointer(1, 'push', bundleDigest(content.red));
    await reconciler.idle();
    expect(loads).toEqual([]);
    expect(statuses.at(-1)).toMatchObject({ state: 'refused', code: 'BUNDLE_CORRUPT', reason: expect.stringContaining('is not the published') });
  });

  it('reports a rollback to the revision serving as a fallback as active', async () => {
    const { reconciler, pointer, statuses, denies } = setup({ 1: 'blue', 2: 'bad' });
    pointer(2);
    await reconciler.idle();
    expect(statuses.at(-1)).toMatchObject({ state: 'refused', sequence: 2, serving: 1 });
    pointer(1, 'rollback');
    await reconciler.idle();
    expect(statuses.at(-1)).toMatchObject({ state: 'active', sequence: 1 });
    expect(denies()).toBe('blue');
  });

  it('names a bundle kept out by a refusal with no older revision that loads, and forgets a removed one', async () => {
    const { reconciler, pointer, registry } = setup({ 1: 'bad' });
    pointer(1);
    await reconciler.idle();
    expect(reconciler.missing(['colors', 'other'])).toEqual(['colors (revision 1 refused: BUNDLE_CORRUPT, and no older revision loads)', 'other']);
    const fresh = setup({ 1: 'blue' });
    fresh.pointer(1);
    await fresh.reconciler.idle();
    expect(fresh.reconciler.active()).toEqual(new Map([['colors', 1]]));
    fresh.reconciler.removed('colors');
    await fresh.reconciler.idle();
    expect(fresh.reconciler.active()).toEqual(new Map());
    expect(fresh.registry.current()).toBeUndefined();
    expect(registry.current()).toBeUndefined();
  });
});
