// Memory of the inventory store alone, without an API server: N ConfigMaps shaped as the API
// server sends them (managedFields and all) are projected and stored as the replicator does,
// and the store's bytes are set against the process's RSS and heap.
//   node --expose-gc --import tsx bench/inventory-memory.ts [N ...]   (default 10000 100000)
// Each N runs in a fresh store; the numbers are deltas from just before filling it, after a GC.
// With BENCH_POLICY_WASM=<a policy.wasm built by opa build -t wasm>, the store's objects are also
// loaded as that instance's data (Gatekeeper's data.inventory layout) and the instance's linear
// memory is reported: the parsed copy each WASM instance reading the kind holds, per worker.
import { readFileSync } from 'node:fs';
import { projectObject } from '../src/cluster/inventory-projection.js';
import { loadPolicySync } from '../src/engine/sdk.js';
import { createInventoryStore } from '../src/inventory/store.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mib = (b: number) => (b / (1 << 20)).toFixed(1);
const CM = { group: '', version: 'v1', kind: 'ConfigMap' };

function received(i: number): unknown {
  const name = `cm-${i}`;
  return {
    metadata: {
      name,
      namespace: `ns-${i % 100}`,
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(1000 + i),
      creationTimestamp: '2026-12-01T15:00:00Z',
      labels: { app: `app-${i % 50}` },
      managedFields: [{ manager: 'bench', operation: 'Update', apiVersion: 'v1', time: '2026-12-01T15:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:key': {} } } }],
    },
    data: { key: `value-of-${name}` },
  };
}

for (const n of process.argv.slice(2).map(Number).concat(process.argv.length > 2 ? [] : [10_000, 100_000])) {
  gc();
  const before = process.memoryUsage();
  const store = createInventoryStore({ maxBytes: 4 * 2 ** 30, maxStalenessMs: 60_000 });
  const t0 = performance.now();
  const page: { namespace: string; name: string; json: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) {
    const p = projectObject(received(i), CM, false);
    if (p) page.push({ namespace: p.namespace, name: p.name, json: p.json });
  }
  store.replaceAll(CM, page);
  page.length = 0;
  const fillMs = performance.now() - t0;
  gc();
  const after = process.memoryUsage();
  const stats = store.stats();
  // A parsed copy of every object (what a reader that holds the kind parsed keeps, in JS terms).
  const parsed = [...store.objects(CM)].map((o) => JSON.parse(new TextDecoder().decode(o.json)) as unknown);
  gc();
  const withParsed = process.memoryUsage();
  console.log(
    `${n} objects: stored in ${fillMs.toFixed(0)} ms; store ${stats.bytes} JSON bytes (${mib(stats.bytes)} MiB, ${(stats.bytes / n).toFixed(0)} B/object); ` +
      `RSS +${mib(after.rss - before.rss)} MiB, heap +${mib(after.heapUsed - before.heapUsed)} MiB, arrayBuffers +${mib(after.arrayBuffers - before.arrayBuffers)} MiB ` +
      `(${((after.rss - before.rss) / stats.bytes).toFixed(2)}x the JSON bytes); a parsed JS copy of all: heap +${mib(withParsed.heapUsed - after.heapUsed)} MiB ` +
      `(${((withParsed.heapUsed - after.heapUsed) / stats.bytes).toFixed(2)}x the JSON bytes, ${parsed.length} objects)`,
  );
  parsed.length = 0;
  const wasm = process.env.BENCH_POLICY_WASM;
  if (wasm) {
    // data.inventory.namespace[ns][v1][ConfigMap][name], spliced from the stored bytes.
    const byNs = new Map<string, string[]>();
    const decoder = new TextDecoder();
    for (const o of store.objects(CM)) {
      const list = byNs.get(o.namespace) ?? [];
      list.push(`${JSON.stringify(o.name)}:${decoder.decode(o.json)}`);
      byNs.set(o.namespace, list);
    }
    const text = `{"inventory":{"cluster":{},"namespace":{${[...byNs].map(([ns, objs]) => `${JSON.stringify(ns)}:{"v1":{"ConfigMap":{${objs.join(',')}}}}`).join(',')}}}}`;
    const policy = loadPolicySync(new WebAssembly.Module(readFileSync(wasm)), { initial: 16 });
    const empty = policy.mem.buffer.byteLength;
    const t1 = performance.now();
    policy.setData(new TextEncoder().encode(text).buffer as ArrayBuffer);
    const setDataMs = performance.now() - t1;
    const heapBytes = policy.dataHeapPtr - policy.baseHeapPtr;
    console.log(
      `  a WASM instance with them as data: setData ${setDataMs.toFixed(0)} ms; OPA heap used by the data ${mib(heapBytes)} MiB ` +
        `(${(heapBytes / stats.bytes).toFixed(2)}x the JSON bytes, incl. the JSON text copied in); linear memory ${mib(empty)} -> ${mib(policy.mem.buffer.byteLength)} MiB`,
    );
  }
  store.forget(CM);
}
