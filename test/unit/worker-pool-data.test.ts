// Replicated data in the worker pool: every worker and spare gets the seed, changes reach
// them in order with evaluations, a worker replaced after a timeout boots with the data as it
// is then, and changes posted while workers boot are not lost.
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildInventoryPolicy, inventoryLoadable, type InventoryPolicy } from '../support/inventory-policy.js';
import { inProcessBackend, type EvalBackend, type Loadable } from '../../src/engine/backend.js';
import type { DataChange } from '../../src/engine/data-change.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';

const encoder = new TextEncoder();
const log = { warn: () => undefined, error: () => undefined };
const input = encoder.encode('{"request": {}}');
const cm = (name: string): DataChange => ({ op: 'put', path: ['inventory', 'namespace', 'n', 'v1', 'ConfigMap', name], value: encoder.encode('{}') });

/** The bundle's replicated data, as a feed keeps it: a whole put of what is there now. */
function store(): { names: Set<string>; seed: () => readonly DataChange[]; seeds: number } {
  const s = {
    names: new Set<string>(),
    seeds: 0,
    seed: (): readonly DataChange[] => {
      s.seeds++;
      const cms = Object.fromEntries([...s.names].map((n) => [n, {}]));
      return [{ op: 'put', path: ['inventory'], value: encoder.encode(JSON.stringify({ namespace: { n: { v1: { ConfigMap: cms } } } })) }];
    },
  };
  return s;
}

describe('worker pool data', () => {
  let policy: InventoryPolicy;
  let pool: EvalBackend | undefined;
  let bundle: Loadable;
  const names = async (backend: EvalBackend) => {
    const [[outcome]] = (await backend.evaluate(input, [{ bundle, entrypoints: [policy.entry('names')] }], Date.now() + 10_000)) as [[unknown]];
    return (outcome as { ok: boolean; value?: string[] }).value?.slice().sort();
  };

  beforeAll(async () => {
    policy = await buildInventoryPolicy(inject('opa'));
  });
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('seeds every worker, and a worker replaced after a timeout boots with the data as it is then', async () => {
    bundle = inventoryLoadable(policy);
    const data = store();
    data.names.add('seeded');
    pool = createWorkerPool({ size: 2, maxQueue: 8, policyTimeoutMs: 300, log, spares: 1 });
    await pool.prepare(bundle, data.seed);
    const update = (change: DataChange, name: string) => {
      data.names.add(name);
      pool?.updateData('inv', [change]);
    };
    update(cm('a'), 'a');
    // Both workers answer the same (two reviews at once land on both).
    expect(await Promise.all([names(pool), names(pool)])).toEqual([
      ['a', 'seeded'],
      ['a', 'seeded'],
    ]);
    const seedsBefore = data.seeds;
    const [[spun]] = (await pool.evaluate(encoder.encode('{"spin": true}'), [{ bundle, entrypoints: [policy.entry('spin')] }], Date.now() + 10_000)) as [[unknown]];
    expect(spun).toMatchObject({ ok: false, failure: { class: 'timeout' } });
    // The spare took over and a new spare was started, reading the seed at its boot.
    expect(data.seeds).toBe(seedsBefore + 1);
    update(cm('b'), 'b');
    for (let i = 0; i < 4; i++) expect(await names(pool)).toEqual(['a', 'b', 'seeded']);
  });

  it('loses no change posted while workers boot', async () => {
    bundle = inventoryLoadable(policy);
    const data = store();
    pool = createWorkerPool({ size: 2, maxQueue: 8, policyTimeoutMs: 300, log, spares: 1 });
    // Not awaited: the workers are still booting when the changes are posted.
    const prepared = pool.prepare(bundle, data.seed);
    for (let i = 0; i < 20; i++) {
      data.names.add(`c${i}`);
      pool.updateData('inv', [cm(`c${i}`)]);
    }
    await prepared;
    const expected = [...data.names].sort();
    expect(await Promise.all([names(pool), names(pool)])).toEqual([expected, expected]);
  });

  it('applies seed and changes to the bundle evaluator in process', async () => {
    bundle = inventoryLoadable(policy);
    const backend = inProcessBackend();
    const data = store();
    data.names.add('s');
    await backend.prepare(bundle, data.seed);
    backend.updateData('inv', [cm('t')]);
    backend.updateData('other', [cm('ignored')]);
    expect(await names(backend)).toEqual(['s', 't']);
  });
});
