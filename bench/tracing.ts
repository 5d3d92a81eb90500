// The cost of tracing: `npx tsx bench/tracing.ts [bench options]` (run `npm run -s build`
// first) runs the harness's main comparison for bouncer alone three times: tracing off,
// sampled at 1 % and at 100 % (parentbased_traceidratio; the load carries no traceparent,
// so the ratio decides), exporting over OTLP/HTTP to a receiver on 127.0.0.1 that counts
// and discards. Prints one Markdown table (the one in docs/performance.md, "Tracing").
// Options after the script name go to bench/run.ts (default: --rates 250,500,1000 --reps 3).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runBench, type SystemResult } from './run.js';

interface Row {
  readonly label: string;
  readonly system: SystemResult;
  readonly exportedBytes: number;
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

async function main(argv: readonly string[]): Promise<void> {
  let exportedBytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (exportedBytes += c.byteLength));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  const passed = argv.length > 0 ? [...argv] : ['--rates', '250,500,1000', '--reps', '3'];
  const modes: { label: string; args: string[] }[] = [
    { label: 'off', args: [] },
    { label: 'on, 1 % sampled', args: [`--bouncer-arg=--otlp-traces-endpoint=${url}`, '--bouncer-arg=--trace-sampler-arg=0.01'] },
    { label: 'on, 100 % sampled', args: [`--bouncer-arg=--otlp-traces-endpoint=${url}`, '--bouncer-arg=--trace-sampler-arg=1'] },
  ];
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
