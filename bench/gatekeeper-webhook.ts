// Gatekeeper's own webhook and bouncer side by side, in the same run, on the same
// ConstraintTemplates and Constraints (bench/gatekeeper-constraints.ts), the same
// AdmissionReviews, over HTTPS, driven by vegeta (open loop). Not part of `npm run bench`.
//   npm run -s build && npx tsx bench/gatekeeper-webhook.ts [--duration 5s] [--reps 3]
//       [--variants 1x1,1x10,1x100,10x10] [--corpus pod,mix] [--rates 25,50,100,250,500,1000]
//       [--without-regex]   (the constraints give no allowedRegex: regex.match's share of the cost)
//
// Per variant (templates × constraints per template), with a fresh local control plane:
//   1. Gatekeeper: its CRDs from the module cache, the manager started on CPU 1
//      (bench/gatekeeper-manager.ts), the templates applied, their constraint CRDs awaited, the
//      constraints applied; bouncer: `bouncer build` of the same files, `bouncer serve` on CPU 1.
//      Gatekeeper is probed until it names every constraint in its denial of a probe review.
//   2. Decisions first: every review of every corpus goes to both; `allowed` and the set of
//      violation messages must be equal, or the run fails.
//   3. Per corpus, with only the measured server running (the other is SIGSTOPped) and vegeta
//      on CPU 0: warm-up; saturation = correct answers/s of a closed loop of --connections
//      workers and connections; then open-loop p50/p99 at each rate of --rates that both
//      sustain (≤ --sustain-fraction, 60 %, of the lower median saturation; at most --max-rates,
//      the highest; each run at least 500 requests long). Each measurement --reps times, the
//      servers' order alternating between repetitions. An answer counts only if it is HTTP 200
//      with the `allowed` the comparison established for its uid. CPU per review is the
//      server's CPU time (/proc, all threads) over the correct answers.
// This process, and the control plane it starts, stay on CPU 0 with vegeta.
// vegeta negotiates HTTP/2 where the server offers it (Gatekeeper, via controller-runtime) and
// HTTP/1.1 otherwise (bouncer), as the API server's webhook client does.
// Results go to bench/results/gatekeeper-webhook-<time>.json, Markdown tables to stdout.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBouncer, type BouncerProcess } from '../hack/lib/bouncer-process.js';
import { startControlPlane, stopControlPlane, type ControlPlaneState } from '../hack/lib/control-plane.js';
import { ensureTools, requireTool } from '../hack/lib/tools.js';
import { parseDuration } from '../src/config/settings.js';
import { generateCorpus, type CorpusItem } from './corpus.js';
import { constraintSet, writePoliciesDir, type ConstraintSet } from './gatekeeper-constraints.js';
import { markdown, median, type CorpusResult, type Measurement, type VariantResult } from './gatekeeper-webhook-report.js';
import { GATEKEEPER_NAMESPACE, gatekeeperCrds, pinnedGatekeeperVersion, startGatekeeper, type GatekeeperProcess } from './gatekeeper-manager.js';
import { describeMachine, loadAverage, pin, planPinning, treeCpuMs, type Pinning } from './proc.js';
import { attack, ensureVegeta, type AttackResult } from './vegeta.js';
import { compareDecisions, uidOf, waitIngested, type Server } from './webhook-decisions.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** `bouncer build`, from the built dist/ as the CLI runs it. */
const { buildBundle } = (await import(new URL('../dist/authoring/build.js', import.meta.url).href)) as typeof import('../src/authoring/build.js');

const USAGE = 'usage: npm run -s build && npx tsx bench/gatekeeper-webhook.ts [--duration 5s] [--reps 3] [--variants 1x1,1x10,1x100,10x10] [--corpus pod,mix] [--rates 25,50,100,250,500,1000] [--max-rates 4] [--sustain-fraction 0.6] [--connections 64] [--mix-count 100] [--without-regex]';

interface Corpus {
  readonly name: 'pod' | 'mix';
  readonly items: readonly CorpusItem[];
}

// --- corpora ----------------------------------------------------------------------------

/** The ~4 KB Pod CREATE review (compliant, with an owner) nearest to 4,096 bytes. */
function podCorpus(): Corpus {
  const pods = [...generateCorpus({ profile: 'small', count: 300, violating: 0 }), ...generateCorpus({ profile: 'medium', count: 300, violating: 0 })].filter((i) => i.kind === 'Pod' && i.operation === 'CREATE' && i.intent === 'compliant');
  pods.sort((a, b) => Math.abs(a.body.byteLength - 4096) - Math.abs(b.body.byteLength - 4096));
  if (!pods[0]) throw new Error('the corpus has no compliant Pod');
  return { name: 'pod', items: [pods[0]] };
}

/**
 * The realistic mix (2–100 KB; Pods, Deployments, CronJobs, ConfigMaps, PrometheusRules) and one
 * large Deployment UPDATE (~90–100 KB: the largest of the `large` profile's), sent in turn.
 */
function mixCorpus(count: number): Corpus {
  const items = generateCorpus({ profile: 'mixed', count });
  const large = generateCorpus({ profile: 'large', count: 30 }).filter((i) => i.kind === 'Deployment' && i.operation === 'UPDATE').sort((a, b) => b.body.byteLength - a.body.byteLength)[0];
  if (!large) throw new Error('the large corpus has no Deployment UPDATE');
  return { name: 'mix', items: [...items, { ...large, index: items.length }] };
}


// --- the control plane and the two servers -----------------------------------------------

function kubectl(cp: ControlPlaneState, args: string[], input?: string): string {
  return execFileSync(cp.kubectl, ['--kubeconfig', cp.kubeconfig, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

async function waitFor(what: string, timeoutMs: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(500);
  }
}

/** Applies the set's templates, waits until Gatekeeper has created each one's constraint CRD, then applies the constraints. */
async function applyToCluster(cp: ControlPlaneState, set: ConstraintSet): Promise<void> {
  kubectl(cp, ['apply', '-f', '-'], set.templateDocs.join('---\n'));
  const names = set.templateDocs.map((d) => /^ {2}name: (\S+)$/m.exec(d)?.[1] as string);
  await waitFor('the constraint CRDs', 120_000, () =>
    names.every((n) => {
      try {
        return kubectl(cp, ['get', 'constrainttemplate', n, '-o', 'jsonpath={.status.created}']).trim() === 'true';
      } catch {
        return false;
      }
    }),
  );
  await waitFor('the constraint kinds to be served', 60_000, () => {
    try {
      kubectl(cp, ['apply', '-f', '-'], set.constraintDocs.join('---\n'));
      return true;
    } catch {
      return false;
    }
  });
}

/** Starts `bouncer serve` with every thread on the server CPU (it inherits this process's affinity while it starts). */
async function startPinnedBouncer(bundleFile: string, pinning: Pinning | undefined): Promise<BouncerProcess> {
  if (pinning) pin(process.pid, pinning.server);
  const proc = await startBouncer({ bench: bundleFile }, ['--log-level', 'warn']).finally(() => {
    if (pinning) pin(process.pid, pinning.client);
  });
  if (pinning) pin(proc.pid, pinning.server);
  return proc;
}

// --- measuring ---------------------------------------------------------------------------

async function measureCorpus(
  corpus: Corpus,
  servers: readonly Server[],
  expected: Map<string, boolean>,
  o: { vegeta: string; pinning: Pinning | undefined; durationMs: number; reps: number; connections: number; candidateRates: readonly number[]; maxRates: number; sustainFraction: number; log: (l: string) => void },
): Promise<CorpusResult> {
  const check = (answer: Buffer) => {
    try {
      const r = (JSON.parse(answer.toString('utf8')) as { response?: { uid?: string; allowed?: boolean } }).response;
      return r?.uid !== undefined && r.allowed === expected.get(r.uid);
    } catch {
      return false;
    }
  };
  const targetsFor = (s: Server) =>
    corpus.items.map((i) => ({ method: 'POST', url: s.url, header: { 'Content-Type': ['application/json'] }, body: i.body.toString('base64') }));
  const cpus = o.pinning ? { cpus: o.pinning.client } : {};
  /** Continues `server` and stops the other, so only the measured one runs on the server CPU. */
  const activate = async (server: Server) => {
    for (const s of servers) process.kill(s.pid, s === server ? 'SIGCONT' : 'SIGSTOP');
    await sleep(1500);
  };
  const run = async (server: Server, rep: number, rate: number): Promise<Measurement> => {
    const before = treeCpuMs(server.pid);
    const load = loadAverage();
    const closed = rate === 0 ? { workers: o.connections, maxConnections: o.connections } : {};
    // At low rates a run lasts long enough for 500 answers, so that p99 is not the maximum.
    const durationMs = rate === 0 ? o.durationMs : Math.max(o.durationMs, Math.ceil(500_000 / rate));
    const result: AttackResult = await attack({ vegeta: o.vegeta, targets: targetsFor(server), rate, durationMs, timeoutMs: 10_000, ...closed, ...cpus }, check);
    const cpuMs = treeCpuMs(server.pid) - before;
    const m: Measurement = {
      server: server.name,
      rep,
      rate,
      durationMs,
      requests: result.requests,
      correct: result.correct,
      throughput: (result.correct * 1000) / durationMs,
      p50Ms: result.correctP50Ms,
      p99Ms: result.correctP99Ms,
      cpuUsPerReview: result.correct > 0 ? (cpuMs * 1000) / result.correct : NaN,
      codes: result.codes,
      errors: result.errors,
      loadAverage: load,
    };
    o.log(`  ${corpus.name} ${server.name} rep ${rep} ${rate === 0 ? `closed loop ×${o.connections}` : `${rate}/s`}: ${m.correct}/${m.requests} correct, ${m.throughput.toFixed(0)}/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, ${m.cpuUsPerReview.toFixed(0)} µs CPU/review (load ${load})`);
    return m;
  };
  const order = (rep: number) => (rep % 2 === 0 ? servers : [...servers].reverse());
  const measurements: Measurement[] = [];
  for (const s of servers) {
    await activate(s);
    await attack({ vegeta: o.vegeta, targets: targetsFor(s), rate: 0, workers: o.connections, maxConnections: o.connections, durationMs: 2000, timeoutMs: 10_000, ...cpus }, check);
  }
  for (let rep = 0; rep < o.reps; rep++) {
    for (const s of order(rep)) {
      await activate(s);
      measurements.push(await run(s, rep, 0));
    }
  }
  const lowest = Math.min(...servers.map((s) => median(measurements.filter((m) => m.server === s.name).map((m) => m.throughput))));
  const rates = o.maxRates > 0 ? o.candidateRates.filter((r) => r <= o.sustainFraction * lowest).slice(-o.maxRates) : [];
  for (let rep = 0; rep < o.reps; rep++) {
    for (const rate of rates) {
      for (const s of order(rep)) {
        await activate(s);
        measurements.push(await run(s, rep, rate));
      }
    }
  }
  for (const s of servers) process.kill(s.pid, 'SIGCONT');
  const sizes = corpus.items.map((i) => i.body.byteLength);
  return {
    corpus: corpus.name,
    reviews: corpus.items.length,
    bytes: { min: Math.min(...sizes), max: Math.max(...sizes), mean: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length) },
    denied: corpus.items.filter((i) => expected.get(uidOf(i.body)) === false).length,
    rates,
    measurements,
  };
}

// --- main --------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '5s' },
      reps: { type: 'string', default: '3' },
      variants: { type: 'string', default: '1x1,1x10,1x100,10x10' },
      corpus: { type: 'string', default: 'pod,mix' },
      rates: { type: 'string', default: '25,50,100,250,500,1000' },
      'max-rates': { type: 'string', default: '4' },
      'sustain-fraction': { type: 'string', default: '0.6' },
      connections: { type: 'string', default: '64' },
      'mix-count': { type: 'string', default: '100' },
      'without-regex': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = new Date();
  const durationMs = parseDuration(values.duration);
  const shapes = values.variants.split(',').map((v) => {
    const [t, c] = v.split('x').map(Number);
    if (!t || !c) throw new Error(`--variants: ${v} is not TEMPLATESxCONSTRAINTS`);
    return { templates: t, constraintsPerTemplate: c, allowedRegex: !values['without-regex'] };
  });
  const tools = ensureTools('opa');
  const opa = requireTool(tools, 'OPA');
  const gatekeeperBin = requireTool(ensureTools('gatekeeper'), 'GATEKEEPER');
  const vegeta = ensureVegeta(log);
  const version = pinnedGatekeeperVersion();
  const crds = gatekeeperCrds(version);
  const corpora: Corpus[] = values.corpus.split(',').map((name) => {
    if (name === 'pod') return podCorpus();
    if (name === 'mix') return mixCorpus(Number(values['mix-count']));
    throw new Error(`--corpus: unknown ${name}`);
  });
  const namespaces = [...new Set(corpora.flatMap((c) => c.items.map((i) => (JSON.parse(i.body.toString('utf8')) as { request: { namespace: string } }).request.namespace)))];
  const pinning = planPinning();
  if (pinning) pin(process.pid, pinning.client);
  log(`Gatekeeper ${version} (${gatekeeperBin}); load average ${loadAverage()}; pinning ${JSON.stringify(pinning)}`);

  const work = mkdtempSync(join(tmpdir(), 'bouncer-bench-gkweb-'));
  const variants: VariantResult[] = [];
  let gatekeeperArgs: readonly string[] = [];
  try {
    for (const shape of shapes) {
      const set = constraintSet(shape);
      const dir = join(work, `${shape.templates}x${shape.constraintsPerTemplate}`);
      log(`${set.label}: control plane, Gatekeeper, bouncer`);
      const cp = await startControlPlane({ dir: join(dir, 'control-plane'), log });
      let gk: GatekeeperProcess | undefined;
      let bouncer: BouncerProcess | undefined;
      try {
        kubectl(cp, ['apply', '--server-side', '-f', '-'], crds);
        for (const ns of [GATEKEEPER_NAMESPACE, ...namespaces.filter((n) => n !== 'default')]) kubectl(cp, ['create', 'namespace', ns]);
        writePoliciesDir(set, join(dir, 'policies'));
        const bundleFile = join(dir, 'bundle.tar.gz');
        await buildBundle({ policiesDir: join(dir, 'policies'), output: bundleFile, opa, revision: `${shape.templates}x${shape.constraintsPerTemplate}` });
        gk = await startGatekeeper({ binary: gatekeeperBin, kubeconfig: cp.kubeconfig, dir: join(dir, 'gatekeeper'), ...(pinning ? { cpus: pinning.server } : {}) });
        gatekeeperArgs = gk.args;
        const ingestStarted = Date.now();
        await applyToCluster(cp, set);
        bouncer = await startPinnedBouncer(bundleFile, pinning);
        const servers: Server[] = [
          { name: 'gatekeeper', pid: gk.pid, url: gk.admitUrl, caPem: gk.caPem },
          { name: 'bouncer', pid: bouncer.pid, url: `${bouncer.url}/validate`, caPem: bouncer.caPem },
        ];
        await waitIngested(servers[0] as Server, set, namespaces[0] as string, 180_000);
        const gatekeeperIngestMs = Date.now() - ingestStarted;
        // bouncer serves its bundle once ready (startBouncer waits for /readyz); its denial of
        // the probe (100 lines at 100 constraints) would also be cut at its 4 KiB message bound.
        log(`  Gatekeeper has all ${set.constraintNames.length} constraints ${gatekeeperIngestMs} ms after the templates were applied`);
        const expected = await compareDecisions(servers, corpora.flatMap((c) => c.items));
        log(`  decisions agree on all ${expected.size} reviews (${[...expected.values()].filter((a) => !a).length} denied)`);
        const results: CorpusResult[] = [];
        for (const corpus of corpora) {
          results.push(
            await measureCorpus(corpus, servers, expected, {
              vegeta,
              pinning,
              durationMs,
              reps: Number(values.reps),
              connections: Number(values.connections),
              candidateRates: values.rates.split(',').map(Number),
              maxRates: Number(values['max-rates']),
              sustainFraction: Number(values['sustain-fraction']),
              log,
            }),
          );
        }
        variants.push({ label: set.label, templates: shape.templates, constraintsPerTemplate: shape.constraintsPerTemplate, gatekeeperIngestMs, corpora: results });
      } finally {
        await bouncer?.stop();
        await gk?.stop();
        await stopControlPlane(cp.dir);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const report = {
    benchmark: 'gatekeeper-webhook',
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: describeMachine(),
    loadAverageEnd: loadAverage(),
    gatekeeper: { version, args: gatekeeperArgs, env: { POD_NAMESPACE: GATEKEEPER_NAMESPACE } },
    pinning,
    durationMs,
    reps: Number(values.reps),
    connections: Number(values.connections),
    variants,
  };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `gatekeeper-webhook-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`Gatekeeper ${version} and bouncer, ${started.toISOString()}; ${durationMs / 1000} s per measurement, ${values.reps} repetitions; load average at the end ${loadAverage()}\n\n${markdown(variants)}\nresults: ${file}\n`);
}

await main(process.argv.slice(2));
