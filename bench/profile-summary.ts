// Where bouncer's main thread spends its time, from a .cpuprofile written under
// `npm run bench -- --cpu-prof DIR`: self time by area (TLS, HTTP, JSON, WASM, ...) and
// the heaviest functions, inclusive time for bouncer's own stages.
//   npx tsx bench/profile-summary.ts DIR/bouncer-<pid>.cpuprofile
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The area a function belongs to, from where it is defined. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName: fn } = frame;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.startsWith('wasm://')) return 'policy WASM';
  if (url.includes('internal/modules/') || url.includes('cjs-module-lexer') || fn === 'compileFunction' || fn === 'compileFunctionForCJSLoader' || fn === 'ModuleWrap') return 'module loading';
  if (url.includes('@open-policy-agent/opa-wasm')) return 'opa-wasm SDK (builtins, JS side)';
  if (url.includes('/dist/engine/')) return 'bouncer engine';
  if (url.includes('/dist/review/') || url.includes('/dist/bundles/')) return 'bouncer review';
  if (url.includes('/dist/admission/')) return 'bouncer admission (decode/respond)';
  if (url.includes('/dist/http/')) return 'bouncer http';
  if (url.includes('/dist/telemetry/') || url.includes('/prom-client/') || url.includes('/pino')) return 'telemetry (metrics, logging)';
  if (url.includes('/fastify') || url.includes('/find-my-way/') || url.includes('/avvio/') || url.includes('/light-my-request/') || url.includes('fast-json-stringify')) return 'fastify';
  if (url.includes('_tls') || url.includes('node:tls') || url.includes('internal/tls') || fn === 'TLSWrap' || fn.startsWith('TLS')) return 'TLS (node)';
  if (url.includes('_http') || url.includes('node:http') || url.includes('internal/http')) return 'HTTP (node)';
  if (url.includes('node:net') || url.includes('stream') || url.includes('node:events') || url.includes('internal/')) return 'node core (streams, net, events)';
  if (url === '' && (fn === 'parse' || fn === 'stringify')) return `JSON.${fn}`;
  if (url === '') return `native: ${fn || '(anonymous)'}`;
  return 'other JS';
}

export function summarize(profile: Profile): { totalMs: number; areas: [string, number][]; top: [string, number][]; inclusive: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  let totalMs = 0;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const STAGES: Record<string, string> = {
    parseBody: 'decode: parseBody (UTF-8 check, envelope scan + JSON.parse)',
    checkReview: 'decode: checkReview',
    evaluatePolicies: 'review: evaluatePolicies (WASM)',
    loadInput: 'engine: copy + parse input in WASM',
    run: 'engine: run entrypoints',
    decide: 'review: decide',
    toReview: 'respond: toReview',
    toDecisionEvent: 'decision log: toDecisionEvent',
    decision: 'metrics: decision()',
  };
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const area = areaOf(node.callFrame);
    if (area !== 'idle') totalMs += ms;
    areas.set(area, (areas.get(area) ?? 0) + ms);
    if (area === 'idle') continue;
    const key = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${node.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + ms);
    // Charge the sample once to every bouncer stage on its stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (!frame || !frame.url.includes('/dist/')) continue;
      const stage = STAGES[frame.functionName];
      if (stage && !seen.has(stage)) {
        seen.add(stage);
        inclusive.set(stage, (inclusive.get(stage) ?? 0) + ms);
      }
    }
  }
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { totalMs, areas: sorted(areas), top: sorted(fns).slice(0, 25), inclusive: sorted(inclusive) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile\n');
    process.exit(2);
  }
  const { totalMs, areas, top, inclusive } = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.on('error', () => process.exit(0));
  process.stdout.write(`busy time sampled: ${(totalMs / 1000).toFixed(2)} s\n\nself time by area:\n`);
  let small = 0;
  for (const [area, ms] of areas) {
    if (area === 'idle') continue;
    if (ms / totalMs < 0.005) small += ms;
    else process.stdout.write(`  ${pct(ms)}  ${area}\n`);
  }
  if (small > 0) process.stdout.write(`  ${pct(small)}  (areas under 0.5 % each)\n`);
  process.stdout.write('\ninclusive time of bouncer stages:\n');
  for (const [stage, ms] of inclusive) process.stdout.write(`  ${pct(ms)}  ${stage}\n`);
  process.stdout.write('\nheaviest functions (self):\n');
  for (const [fn, ms] of top) process.stdout.write(`  ${pct(ms)}  ${fn}\n`);
}
