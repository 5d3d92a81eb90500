// The cost of tracing: `npx tsx bench/tracing.ts [bench options]` (run `npm run -s build`
// first) runs the harness's main comparison for bouncer alone three times: tracing off,
// sampled at 1 % and at 100 % (parentbased_traceidratio; the load carries no traceparent,
// so the ratio decides), exporting over OTLP/HTTP to a receiver on 127.0.0.1 that counts
// and discards. Prints one Markdown table (the one in docs/performance.md, "Tracing").
// Options after the script name go to bench/run.ts (default: --rates 250,500,1000 --reps 3).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOtelTracing } from '../src/telemetry/otel-tracing.js';
import type { TracedDecision, TracedRequest } from '../src/telemetry/tracing.js';
import { runBench, type SystemResult } from './run.js';

interface Row {
  readonly label: string;
  readonly system: SystemResult;
  readonly exportedBytes: number;
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

const REQUEST: TracedRequest = {
  uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
  kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
  resource: { group: 'apps', version: 'v1', resource: 'deployments' },
  name: 'web',
  namespace: 'team-a',
  operation: 'CREATE',
  userInfo: { username: 'system:serviceaccount:team-a:deployer', uid: 'u-1', groups: ['system:serviceaccounts', 'system:authenticated'] },
};
const DECISION: TracedDecision = {
  allowed: true,
  warnings: [],
  revision: 'starter@abc123',
  outcomes: Array.from({ length: 7 }, (_, i) => ({ policy: `policy-${i}`, bundle: 'starter', action: 'pass', enforcement: 'deny', failure: 'fail' })),
};

/** µs of main-thread time per traced request for the spans alone (server, review, 7 policies), in process. */
async function spanCost(url: string, ratio: number, requests: number): Promise<number> {
  const tracing = createOtelTracing({ config: { tracesUrl: url, sampler: 'parentbased_traceidratio', ratio, serviceName: 'bench', resourceAttributes: {} } });
  const one = async () => {
    const trace = tracing.startRequest({ method: 'POST', path: '/validate' });
    trace.admission(REQUEST);
    const run = async () => {
      const span = tracing.current()?.review();
      await (span ? span.evaluation(async () => undefined) : undefined);
      span?.end(DECISION);
    };
    await (trace.sampledTraceId ? tracing.run(trace, run) : run());
    trace.response(REQUEST.uid, DECISION);
    trace.end(200);
  };
  for (let i = 0; i < 2000; i++) await one();
  const start = process.cpuUsage();
  // In batches of 500 with a pause, so the batch processor exports (and drops nothing) as it would at ~500 reviews/s.
  for (let done = 0; done < requests; done += 500) {
    for (let i = 0; i < 500; i++) await one();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const used = process.cpuUsage(start);
  await tracing.shutdown();
  return (used.user + used.system) / requests;
}

async function main(argv: readonly string[]): Promise<void> {
  let exportedBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (exportedBytes += c.byteLength));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  if (argv.includes('--spans-only')) {
    for (const ratio of [0, 0.01, 1]) process.stdout.write(`spans alone, ratio ${ratio}: ${(await spanCost(url, ratio, 20_000)).toFixed(1)} µs CPU per request\n`);
    sink.close();
    return;
  }
  // --modes off,1,100 (default all three): which of the runs to make.
  const at = argv.indexOf('--modes');
  const wanted = at >= 0 ? (argv[at + 1] ?? '').split(',') : ['off', '1', '100'];
  const rest = at >= 0 ? [...argv.slice(0, at), ...argv.slice(at + 2)] : [...argv];
  const passed = rest.length > 0 ? rest : ['--rates', '250,500,1000', '--reps', '3'];
  const modes: { id: string; label: string; args: string[] }[] = [
    { id: 'off', label: 'off', args: [] },
    { id: '1', label: 'on, 1 % sampled', args: [`--bouncer-arg=--otlp-traces-endpoint=${url}`, '--bouncer-arg=--trace-sampler-arg=0.01'] },
    { id: '100', label: 'on, 100 % sampled', args: [`--bouncer-arg=--otlp-traces-endpoint=${url}`, '--bouncer-arg=--trace-sampler-arg=1'] },
  ].filter((m) => wanted.includes(m.id));
  const rows: Row[] = [];
  try {
    for (const mode of modes) {
      const before = exportedBytes;
      const { results } = await runBench(['--only', 'bouncer', '--sections', 'main', '--no-docs', ...passed, ...mode.args]);
      const system = results.configs.find((c) => c.id === 'main')?.systems.find((s) => s.system === 'bouncer');
      if (!system) throw new Error('the main comparison has no bouncer result');
      rows.push({ label: mode.label, system, exportedBytes: exportedBytes - before });
    }
  } finally {
    sink.close();
  }
  const rates = rows[0]?.system.open.map((o) => o.rate) ?? [];
  const lines = [
    `| tracing | ${rates.map((r) => `p50 / p99 ms at ${r}/s`).join(' | ')} | CPU µs/review at ${rates.at(-1)}/s | saturation reviews/s | RSS after start MB | exported KB |`,
    `|---|${rates.map(() => '---|').join('')}---|---|---|---|`,
    ...rows.map((row) => {
      const cells = row.system.open.map((o) => `${fmt(o.summary?.p50)} / ${fmt(o.summary?.p99.median)}`);
      const last = row.system.open.at(-1)?.summary;
      const sat = row.system.saturation.summary?.throughput.median;
      return `| ${row.label} | ${cells.join(' | ')} | ${fmt(last?.cpuPerDecisionUs, 0)} | ${fmt(sat, 0)} | ${fmt((row.system.rssAfterStartKb ?? NaN) / 1024, 0)} | ${fmt(row.exportedBytes / 1024, 0)} |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
