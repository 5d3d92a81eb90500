// In-place data changes (applyData) against real OPA-built WASM: after any sequence of puts,
// removes and replacements the policy sees what `opa eval` sees over the same document
// loaded whole; compaction and trap-rebuilds keep it; a change past the memory limit fails
// the instance loudly and a whole put brings it back.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildInventoryPolicy, opaEvalRules, type InventoryPolicy } from '../../test/support/inventory-policy.js';
import { createEvaluator, type EvalOutcome, type Evaluator } from './evaluator.js';
import type { DataChange } from './data-change.js';

const encoder = new TextEncoder();
const RULES = ['all', 'names', 'duplicate_hosts', 'config'] as const;
const put = (path: string[], value: unknown): DataChange => ({ op: 'put', path, value: encoder.encode(JSON.stringify(value)) });
const remove = (path: string[]): DataChange => ({ op: 'remove', path });
const input = encoder.encode('{"request": {}}');

/** A small deterministic generator (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sets are arrays in both outputs, in different orders. */
function normalize(rule: string, value: unknown): unknown {
  return Array.isArray(value) && rule !== 'all' ? [...(value as string[])].sort() : value;
}

function seen(policy: InventoryPolicy, evaluator: Evaluator): Record<string, unknown> {
  const outcomes = evaluator.evaluate(
    input,
    RULES.map((r) => policy.entry(r)),
  );
  const result: Record<string, unknown> = {};
  outcomes.forEach((o: EvalOutcome, i) => {
    if (!o.ok) throw new Error(`${RULES[i]} failed: ${o.failure.message}`);
    if (o.value !== undefined) result[RULES[i] as string] = normalize(RULES[i] as string, o.value);
  });
  return result;
}

function expected(opa: string, document: unknown): Record<string, unknown> {
  const result = opaEvalRules(opa, document, RULES);
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, normalize(k, v)]));
}

/** Applies `change` to a plain JS document, as the engine must. */
function model(doc: Record<string, unknown>, change: DataChange): void {
  let node = doc;
  for (const key of change.path.slice(0, -1)) {
    if (change.op === 'remove' && !(key in node)) return;
    node = (node[key] ??= {}) as Record<string, unknown>;
  }
  const last = change.path[change.path.length - 1] as string;
  if (change.op === 'put') node[last] = JSON.parse(new TextDecoder().decode(change.value));
  else delete node[last];
}

function ingress(host: string, size: number): unknown {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { labels: { pad: 'x'.repeat(size) } }, spec: { rules: [{ host }] } };
}

describe('applyData', () => {
  let opa: string;
  let policy: InventoryPolicy;
  let bundleData: Record<string, unknown>;

  beforeAll(async () => {
    opa = inject('opa');
    policy = await buildInventoryPolicy(opa);
    bundleData = JSON.parse(new TextDecoder().decode(policy.data)) as Record<string, unknown>;
  });

  it('sees, after puts, replacements and removes, what opa eval sees over the same document loaded whole', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data);
    const doc = structuredClone(bundleData);
    const next = random(14);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
    const seed = put(['inventory'], { cluster: { v1: { Namespace: { a: { metadata: { name: 'a' } } } } } });
    evaluator.applyData([seed]);
    model(doc, seed);
    for (let round = 0; round < 4; round++) {
      const batch: DataChange[] = [];
      for (let i = 0; i < 60; i++) {
        const ns = pick(['a', 'b', 'c']);
        const name = pick(['x', 'y', 'z', 'w']);
        const r = next();
        if (r < 0.45) batch.push(put(['inventory', 'namespace', ns, 'networking.k8s.io/v1', 'Ingress', name], ingress(pick(['h1', 'h2', 'h3', 'h4', 'h5']), 10)));
        else if (r < 0.7) batch.push(put(['inventory', 'namespace', ns, 'v1', 'ConfigMap', name], { data: { n: i, f: 1.5e3, s: "é\u0000\"" } }));
        else if (r < 0.9) batch.push(remove(['inventory', 'namespace', ns, pick(['v1', 'networking.k8s.io/v1']), pick(['ConfigMap', 'Ingress']), name]));
        else batch.push(remove(['inventory', 'namespace', ns]));
      }
      // Applied one at a time in some rounds and as one batch in others: the same result.
      if (round % 2 === 0) evaluator.applyData(batch);
      else for (const c of batch) evaluator.applyData([c]);
      for (const c of batch) model(doc, c);
      expect(seen(policy, evaluator)).toEqual(expected(opa, doc));
    }
  });

  it('treats a remove of what is not there as done, and creates missing parents on put', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data);
    evaluator.applyData([remove(['inventory', 'namespace', 'nope', 'v1', 'ConfigMap', 'x']), put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'a'], {})]);
    expect(seen(policy, evaluator)).toMatchObject({ names: ['a'], all: { namespace: { n: { v1: { ConfigMap: { a: {} } } } } } });
  });

  it('compacts the region when garbage grows it, keeping the data identical', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data);
    const doc = structuredClone(bundleData);
    const changes: DataChange[] = [];
    // A replaced ~4 KiB object is freed, but its blocks are reused only by later changes of
    // the same batch (the next evaluation's heap reset empties OPA's free lists): one change
    // per batch leaves all of it behind, ~40 MiB here.
    for (let i = 0; i < 5_000; i++) changes.push(put(['inventory', 'namespace', 'a', 'networking.k8s.io/v1', 'Ingress', `i${i % 50}`], ingress(`h${i}`, 4000)));
    for (const c of changes) evaluator.applyData([c]);
    for (const c of changes) model(doc, c);
    const stats = evaluator.dataStats();
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.regionBytes).toBeLessThan(stats.loadedBytes * 1.5 + 16 * 1024 * 1024 + 1024 * 1024);
    expect(seen(policy, evaluator)).toEqual(expected(opa, doc));
  });

  it('keeps the replicated data over the rebuild after a trap', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data);
    evaluator.applyData([put(['inventory'], { namespace: { n: { v1: { ConfigMap: { kept: { data: { a: '1' } } } } } } })]);
    const [trapped] = evaluator.evaluate(encoder.encode('{"boom": true}'), [policy.entry('conflict')]);
    expect(trapped).toMatchObject({ ok: false, failure: { class: 'runtime' } });
    expect(seen(policy, evaluator)).toMatchObject({ names: ['kept'], config: bundleData['config'] });
    // And later changes apply to the rebuilt instance.
    evaluator.applyData([put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'more'], {})]);
    expect(seen(policy, evaluator)).toMatchObject({ names: ['kept', 'more'] });
  });

  it('fails every evaluation with INVENTORY_OVER_BUDGET when a change does not fit, until a whole put fits', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data, { maxMemoryPages: 48 });
    evaluator.applyData([put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'small'], {})]);
    expect(() => evaluator.applyData([put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'huge'], { data: { blob: 'x'.repeat(4 * 1024 * 1024) } })])).not.toThrow();
    const outcomes = evaluator.evaluate(input, [policy.entry('config'), policy.entry('names')]);
    const failure = { class: 'memory', code: 'INVENTORY_OVER_BUDGET', message: expect.stringContaining('memory limit (48 pages)') };
    expect(outcomes).toEqual([
      { ok: false, failure },
      { ok: false, failure },
    ]);
    // A change below the lost document is ignored; a whole put restores evaluation.
    evaluator.applyData([put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'other'], {})]);
    expect(evaluator.evaluate(input, [policy.entry('names')])[0]).toMatchObject({ ok: false, failure: { code: 'INVENTORY_OVER_BUDGET' } });
    evaluator.applyData([put(['inventory'], { namespace: { n: { v1: { ConfigMap: { back: {} } } } } }), put(['inventory', 'namespace', 'n', 'v1', 'ConfigMap', 'after'], {})]);
    expect(seen(policy, evaluator)).toMatchObject({ names: ['after', 'back'], config: bundleData['config'] });
  });

  it('fails the instance with INVENTORY_DATA_INVALID on a put that is not JSON, and never throws', () => {
    const evaluator = createEvaluator(policy.wasm, policy.data);
    expect(() => evaluator.applyData([{ op: 'put', path: ['inventory', 'x'], value: encoder.encode('{"a": ') }])).not.toThrow();
    expect(evaluator.evaluate(input, [policy.entry('config')])[0]).toMatchObject({ ok: false, failure: { code: 'INVENTORY_DATA_INVALID' } });
  });
});
