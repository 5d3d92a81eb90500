// The candidate half of reconciling a pointer, with real compiled bundles: a shadow or canary
// staged beside the active set in one snapshot, a candidate that does not load leaving the
// active set serving alone, a promotion reusing the loaded candidate, a rollback unstaging
// it, and a cold start (a replica restarted mid-canary) taking the candidate from the pointer.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleDigest, loadBundle } from '../bundles/bundle.js';
import { createPolicyRegistry } from '../bundles/registry.js';
import { BUNDLE_KEY, revisionName, type Pointer } from '../cluster/bundle-objects.js';
import { DEFAULT_PROMOTION_POLICY } from '../cluster/rollout-objects.js';
import { createMetrics } from '../telemetry/metrics.js';
import { capturingLogger } from '../../test/support/reviewing.js';
import { editBundle } from '../../test/support/bundle-files.js';
import { createBundleReconciler } from './bundle-reconciler.js';

const colorOf = (data: Uint8Array | undefined) => (data ? (JSON.parse(Buffer.from(data).toString()) as { policies: { color_gate: { denied: string[] } } }).policies.color_gate.denied[0] : 'none');

describe('candidate revisions beside the active one', () => {
  const content: Record<number, Uint8Array> = {};
  beforeAll(async () => {
    const colors = inject('bundles').colors as string;
    content[1] = await editBundle(colors, (f) => f.set('/data.json', Buffer.from(JSON.stringify({ policies: { color_gate: { denied: ['blue'] } } }))));
    content[2] = await editBundle(colors, (f) => f.set('/data.json', Buffer.from(JSON.stringify({ policies: { color_gate: { denied: ['red'] } } }))));
    content[3] = Buffer.from('not a bundle');
  });

  const setup = () => {
    const events: string[] = [];
    const loads: number[] = [];
    const registry = createPolicyRegistry();
    const metrics = createMetrics({ defaultMetrics: false });
    const reconciler = createBundleReconciler({
      store: {
        history: async () => ({ revisions: [] }),
        readRevision: async (bundle, sequence) => ({ metadata: { name: revisionName(bundle, sequence) }, binaryData: { [BUNDLE_KEY]: Buffer.from(content[sequence] as Uint8Array).toString('base64') } }),
        reportStatus: async () => undefined,
        event: async (_b, _t, reason) => void events.push(reason),
      },
      registry,
      load: async (name, bytes) => {
        loads.push(Number(Object.entries(content).find(([, c]) => Buffer.compare(Buffer.from(c), Buffer.from(bytes)) === 0)?.[0] ?? 0));
        return loadBundle(name, bytes);
      },
      replica: 'r1',
      log: capturingLogger().logger,
      metrics,
      rolloutMetrics: metrics.rollout,
    });
    const ref = (sequence: number) => ({ sequence, revision: `r${sequence}`, digest: bundleDigest(content[sequence] as Uint8Array), startedAt: 1000 });
    const base = (sequence: number): Pointer => ({ bundle: 'colors', sequence, revision: `r${sequence}`, digest: bundleDigest(content[sequence] as Uint8Array), publishedAt: 0, action: 'push' });
    const send = async (p: Pointer) => {
      reconciler.pointer(p);
      await reconciler.idle();
    };
    return { reconciler, registry, events, loads, ref, base, send, metrics };
  };

  it('stages a shadow beside the active set, in one snapshot, the active set untouched', async () => {
    const { registry, ref, base, send, reconciler } = setup();
    await send(base(1));
    const before = registry.current();
    await send({ ...base(1), shadow: ref(2) });
    const snap = registry.snapshot();
    expect(snap.active).toBe(before);
    expect(snap.candidates).toHaveLength(1);
    expect(snap.candidates[0]).toMatchObject({ mode: 'shadow', sequence: 2 });
    expect(colorOf(snap.candidates[0]?.alone.bundles[0]?.data)).toBe('red');
    expect(colorOf(snap.candidates[0]?.set.bundles[0]?.data)).toBe('red');
    expect(colorOf(snap.active?.bundles[0]?.data)).toBe('blue');
    expect(reconciler.candidates().get('colors')).toMatchObject({ mode: 'shadow', sequence: 2, state: 'loaded' });
  });

  it('a candidate that does not load keeps the active set serving alone and is reported', async () => {
    const { registry, ref, base, send, reconciler, events, metrics } = setup();
    await send(base(1));
    await send({ ...base(1), canary: { ...ref(3), slice: { percent: 10 }, policy: DEFAULT_PROMOTION_POLICY } });
    expect(registry.snapshot().candidates).toEqual([]);
    expect(colorOf(registry.current()?.bundles[0]?.data)).toBe('blue');
    expect(reconciler.candidates().get('colors')).toMatchObject({ mode: 'canary', sequence: 3, state: 'refused', code: 'BUNDLE_CORRUPT' });
    expect(events).toContain('CandidateRefused');
    expect(await metrics.registry.getSingleMetricAsString('bouncer_rollout_candidate_refusals_total')).toMatch(/bundle="colors",code="BUNDLE_CORRUPT"} 1/);
  });

  it('a promotion activates the loaded candidate without loading it again and unstages it', async () => {
    const { registry, ref, base, send, loads, events } = setup();
    await send(base(1));
    await send({ ...base(1), canary: { ...ref(2), slice: { percent: 10 }, policy: DEFAULT_PROMOTION_POLICY } });
    expect(loads).toEqual([1, 2]);
    await send({ ...base(2), action: 'promote' });
    expect(loads).toEqual([1, 2]);
    expect(colorOf(registry.current()?.bundles[0]?.data)).toBe('red');
    expect(registry.snapshot().candidates).toEqual([]);
    expect(events).toContain('BundlePromoted');
  });

  it('a rollback of the candidate unstages it; the active revision stays', async () => {
    const { registry, ref, base, send } = setup();
    await send(base(1));
    await send({ ...base(1), canary: { ...ref(2), slice: { percent: 10 }, policy: DEFAULT_PROMOTION_POLICY } });
    const active = registry.current();
    await send({ ...base(1), action: 'rollback' });
    expect(registry.snapshot().candidates).toEqual([]);
    expect(registry.current()).toBe(active);
  });

  it('a replica starting mid-canary takes the canary, its slice compiled, from the pointer', async () => {
    const { registry, ref, base, send } = setup();
    await send({ ...base(1), canary: { ...ref(2), slice: { namespaces: 'env=canary' }, policy: DEFAULT_PROMOTION_POLICY } });
    const [candidate] = registry.snapshot().candidates;
    expect(colorOf(registry.current()?.bundles[0]?.data)).toBe('blue');
    expect(candidate?.mode).toBe('canary');
    expect(candidate?.slice?.({ namespace: 'a', name: 'x', namespaceLabels: { env: 'canary' } })).toBe(true);
    expect(candidate?.slice?.({ namespace: 'b', name: 'x', namespaceLabels: { env: 'prod' } })).toBe(false);
  });

  it('a re-delivered pointer does not load the candidate again', async () => {
    const { ref, base, send, loads } = setup();
    const p = { ...base(1), shadow: ref(2) };
    await send(p);
    await send(p);
    expect(loads).toEqual([1, 2]);
  });
});
