// Replicated data into a policy instance: the cost of one object change applied in place
// (applyData: opa_value_add_path / opa_value_remove_path) against the SDK's way (setData of
// the whole document, re-stringified and re-parsed), at 10,000 and 100,000 objects of ~1 KB;
// and the seed (initial load: data.inventory text built from stored bytes, parsed in WASM),
// the instance's WASM memory, and compaction. Bounded: a fixed number of changes per size,
// and only a few whole setData calls at 100k.
//   npx tsx bench/inventory.ts [--sizes 10000,100000] [--changes 2000]
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { createEvaluator } from '../src/engine/evaluator.js';
import type { DataChange } from '../src/engine/data-change.js';
import { createInventoryFeed } from '../src/inventory/data-feed.js';
import { objectPath } from '../src/inventory/layout.js';
import { kindKey, type GroupVersionKind, type InventoryView, type StoredObject } from '../src/inventory/types.js';
import { buildInventoryPolicy } from '../test/support/inventory-policy.js';

const { values } = parseArgs({ options: { sizes: { type: 'string' }, changes: { type: 'string' } } });
const sizes = (values.sizes ?? '10000,100000').split(',').map(Number);
const changesPerSize = Number(values.changes ?? 2000);
const encoder = new TextEncoder();
const CM: GroupVersionKind = { group: '', version: 'v1', kind: 'ConfigMap' };
// Enough for 100k objects and a compaction beside them (the default is 4096 pages, 256 MiB).
const limits = { maxMemoryPages: 32768 };
const MiB = 1024 * 1024;

/** A ConfigMap of about 1 KB of JSON, like a small real one after projection. */
function configMap(ns: string, name: string, generation: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: ns,
      uid: `0b6a1a52-5d7e-4c51-9a4f-${String(generation).padStart(12, '0')}`,
      resourceVersion: `${1000 + generation}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: name, team: ns, 'app.kubernetes.io/part-of': 'bench', tier: 'backend' },
      annotations: { owner: `${ns}-owners@example.com`, note: 'x'.repeat(300) },
    },
    data: { 'config.yaml': `key: value\nlevel: ${generation}\n${'setting: on\n'.repeat(25)}` },
  };
}

/** The opa-wasm SDK itself (CommonJS; its named exports are not visible to an ESM import). */
interface SdkPolicy {
  setData(data: object): void;
  readonly mem: WebAssembly.Memory;
}
const sdk = () => createRequire(import.meta.url)('@open-policy-agent/opa-wasm') as { loadPolicySync(m: WebAssembly.Module, d: object): SdkPolicy };

const ms = (t0: number) => performance.now() - t0;
const fmt = (n: number, d = 3) => n.toFixed(d);

const opa = requireTool(ensureTools('opa'), 'OPA');
const policy = await buildInventoryPolicy(opa, limits);
const names = policy.entry('names');
const input = encoder.encode('{}');

for (const size of sizes) {
  const objects = new Map<string, StoredObject>();
  const docs = new Map<string, Record<string, unknown>>();
  const key = (i: number) => ({ ns: `ns${i % 100}`, name: `cm${i}` });
  let bytes = 0;
  for (let i = 0; i < size; i++) {
    const { ns, name } = key(i);
    const doc = configMap(ns, name, 0);
    const json = encoder.encode(JSON.stringify(doc));
    bytes += json.byteLength;
    objects.set(`${ns}/${name}`, { namespace: ns, name, json });
    docs.set(`${ns}/${name}`, doc);
  }
  const view: InventoryView = { objects: (k) => (kindKey(k) === kindKey(CM) ? objects.values() : []), health: () => ({ state: 'synced' }) };
  const evaluator = createEvaluator(policy.wasm, policy.data, limits);
  const feed = createInventoryFeed({ view, backend: { updateData: (_k, changes) => evaluator.applyData(changes) } });
  const seed = feed.attach('bench', { kinds: [{ ...CM, status: false, readers: { policies: ['p'], templates: [] } }] });

  let t0 = performance.now();
  const seedChanges = seed();
  const textMs = ms(t0);
  t0 = performance.now();
  evaluator.applyData(seedChanges);
  const parseMs = ms(t0);
  const stats = evaluator.dataStats();
  if (stats.failure) throw new Error(stats.failure.message);
  const check = evaluator.evaluate(input, [names])[0];
  if (!check?.ok || (check.value as unknown[]).length !== size) throw new Error('seed not seen');
  console.log(
    `\n${size} objects (${fmt(bytes / MiB, 1)} MiB of JSON, ${fmt(bytes / size, 0)} B each)` +
      `\n  seed: text ${fmt(textMs, 1)} ms + parse in WASM ${fmt(parseMs, 1)} ms; data region ${fmt(stats.regionBytes / MiB, 1)} MiB; WASM memory ${fmt(evaluator.memoryBytes() / MiB, 1)} MiB`,
  );

  // Incremental: each change its own applyData (one event per watch notification, the worst
  // case: no reuse of freed blocks within a batch), compaction included when it falls due.
  const put = (i: number, generation: number): DataChange => {
    const { ns, name } = key(i);
    return { op: 'put', path: objectPath(CM, ns, name), value: encoder.encode(JSON.stringify(configMap(ns, name, generation))) };
  };
  const puts = Array.from({ length: changesPerSize }, (_, i) => put((i * 7919) % size, i + 1));
  const compactionsBefore = evaluator.dataStats().compactions;
  const each: number[] = [];
  t0 = performance.now();
  for (const change of puts) {
    const t = performance.now();
    evaluator.applyData([change]);
    each.push(ms(t));
  }
  const putMs = ms(t0) / puts.length;
  each.sort((a, b) => a - b);
  const p50 = each[Math.floor(each.length / 2)] as number;
  const slowest = each[each.length - 1] as number;
  const compactions = evaluator.dataStats().compactions - compactionsBefore;
  const removes: DataChange[] = Array.from({ length: changesPerSize }, (_, i) => {
    const { ns, name } = key((i * 104729) % size);
    return { op: 'remove', path: objectPath(CM, ns, name) };
  });
  t0 = performance.now();
  for (const change of removes) evaluator.applyData([change]);
  const removeMs = ms(t0) / removes.length;
  const after = evaluator.dataStats();
  // One compaction on its own (dump + parse into a fresh instance), by replacing many objects in one go.
  console.log(
    `  incremental: put ${fmt(putMs)} ms/change, remove ${fmt(removeMs)} ms/change (${changesPerSize} each)` +
      `\n  puts: median ${fmt(p50)} ms, slowest ${fmt(slowest, 1)} ms; ${compactions} compaction(s) during them (the slowest put when there was one)` +
      `\n  after churn: data region ${fmt(after.regionBytes / MiB, 1)} MiB (live at last load ${fmt(after.loadedBytes / MiB, 1)} MiB), WASM memory ${fmt(evaluator.memoryBytes() / MiB, 1)} MiB`,
  );
  t0 = performance.now();
  const trap = evaluator.evaluate(encoder.encode('{"boom": true}'), [policy.entry('conflict')]);
  const rebuildMs = ms(t0);
  if (trap[0]?.ok) throw new Error('expected a trap');
  const kept = evaluator.evaluate(input, [names])[0];
  if (!kept?.ok) throw new Error('data lost in the rebuild');
  console.log(`  trap rebuild (region copied into a fresh instance): ${fmt(rebuildMs, 1)} ms`);

  // The SDK's way: setData of the whole document per change.
  const sdkPolicy = sdk().loadPolicySync(policy.wasm.module, { initial: 16, maximum: limits.maxMemoryPages });
  const namespace: Record<string, { v1: { ConfigMap: Record<string, unknown> } }> = {};
  for (const [k, doc] of docs) {
    const [ns, name] = k.split('/') as [string, string];
    ((namespace[ns] ??= { v1: { ConfigMap: {} } }).v1.ConfigMap)[name] = doc;
  }
  const whole = { ...(JSON.parse(new TextDecoder().decode(policy.data)) as object), inventory: { namespace } };
  const rounds = size >= 100_000 ? 3 : 10;
  t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const { ns, name } = key((r * 7919) % size);
    (namespace[ns] as { v1: { ConfigMap: Record<string, unknown> } }).v1.ConfigMap[name] = configMap(ns, name, 10_000 + r);
    sdkPolicy.setData(whole);
  }
  const setDataMs = ms(t0) / rounds;
  console.log(
    `  SDK setData of the whole document: ${fmt(setDataMs, 1)} ms/change (${rounds} changes); WASM memory ${fmt(sdkPolicy.mem.buffer.byteLength / MiB, 1)} MiB` +
      `\n  in place is ${fmt(setDataMs / putMs, 0)}x cheaper per put`,
  );
  console.log(`  process RSS ${fmt(process.memoryUsage().rss / MiB, 0)} MiB`);
}
