// The three systems under test, behind one interface: send an AdmissionReview, get the
// decision's `allowed` back.
//   bouncer: `bouncer serve` from dist/ in its own process (hack/lib/bouncer-process.ts),
//            HTTPS with keep-alive, POST /validate.
//   opa:     `opa run --server` in its own process, HTTPS with keep-alive, POST / (the
//            default decision, system.main) with the AdmissionReview as input.
//   floor:   the same bundle loaded in this process (loadBundle + createReviewer) and
//            the review decoded, decided and answered without HTTP: what a review costs
//            before any transport.
import { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBouncer, type BouncerProcess } from '../hack/lib/bouncer-process.js';
import { freePort } from '../hack/lib/control-plane.js';
import { decodeReview } from '../src/admission/decode.js';
import { parseBuckets, type BucketSnapshot } from './server-latency.js';
import { toReview } from '../src/admission/respond.js';
import { loadBundle } from '../src/bundles/bundle.js';
import { createPolicySet } from '../src/bundles/policy-set.js';
import { createCertificateAuthority } from '../src/certs/pki.js';
import { createReviewer } from '../src/review/reviewer.js';
import { cpuMsOf, findChild, memoryOf, pin, treeCpuMs, treeMemory } from './proc.js';

export type SystemName = 'bouncer' | 'opa' | 'floor';
export const SYSTEMS: readonly SystemName[] = ['bouncer', 'opa', 'floor'];

export interface Target {
  readonly system: SystemName;
  /** The server's process id (undefined for the in-process floor). */
  readonly pid: number | undefined;
  send(body: Buffer): Promise<boolean>;
  /** CPU time used so far by whatever serves the requests, ms. */
  cpuMs(): number;
  /** Resident memory of the server process (undefined for the floor: it shares the harness's process). */
  memory(): { rssKb: number; peakKb: number } | undefined;
  /** The warm-up is over (starts bouncer's CPU profile under --cpu-prof). */
  measuring(): void;
  /** The server's last log lines (decision lines left out), for diagnosing failed requests. */
  logTail(lines: number): string[];
  /** bouncer only: the text of its /metrics. */
  metricsText?(): Promise<string>;
  /** bouncer only: its own request-duration histogram, for server-side latency. */
  serverBuckets?(): Promise<BucketSnapshot>;
  close(): Promise<void>;
}

// --- HTTPS client ------------------------------------------------------------------

function httpsPoster(url: string, ca: string, maxSockets: number): { post: (body: Buffer) => Promise<unknown>; agent: Agent } {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca, scheduling: 'lifo' });
  const post = (body: Buffer) =>
    new Promise<unknown>((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': body.byteLength },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = chunks.length === 1 ? (chunks[0] as Buffer).toString() : Buffer.concat(chunks).toString();
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            try {
              resolve(JSON.parse(text));
            } catch (err) {
              reject(err as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { post, agent };
}

function allowedOf(answer: unknown): boolean {
  const allowed = (answer as { response?: { allowed?: unknown } } | undefined)?.response?.allowed;
  if (typeof allowed !== 'boolean') throw new Error(`the answer is not an AdmissionReview response: ${JSON.stringify(answer).slice(0, 200)}`);
  return allowed;
}

export interface ServerOptions {
  /** CPU list the server is pinned to (taskset), from its start, when pinning. */
  readonly cpus?: string;
  /** CPU list the harness returns to after starting a server it had to start pinned. */
  readonly clientCpus?: string;
  /** Concurrent connections the client may open. */
  readonly maxSockets: number;
}

// --- bouncer -----------------------------------------------------------------------

export interface BouncerOptions extends ServerOptions {
  readonly logLevel: string;
  readonly extraArgs?: readonly string[];
  /** Profile the main thread into this directory (through bench/cpu-profile-hook.mjs). */
  readonly cpuProfDir?: string;
  /** Run as a node:cluster of this many processes (bench/cluster-serve.mjs). */
  readonly processes?: number;
  /** Log the main thread's garbage collections of 2 ms or more to stderr (bench/gc-trace-hook.mjs). */
  readonly traceGc?: boolean;
}

export async function startBouncerTarget(bundleFile: string, options: BouncerOptions): Promise<Target> {
  const port = await freePort();
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, BOUNCER_BENCH_CPU_PROF: process.env.BOUNCER_BENCH_CPU_PROF, BOUNCER_BENCH_PROCESSES: process.env.BOUNCER_BENCH_PROCESSES };
  if (options.processes) process.env.BOUNCER_BENCH_PROCESSES = String(options.processes);
  if (options.traceGc) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${new URL('./gc-trace-hook.mjs', import.meta.url).href}`.trim();
  if (options.cpuProfDir) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${new URL('./cpu-profile-hook.mjs', import.meta.url).href}`.trim();
    process.env.BOUNCER_BENCH_CPU_PROF = resolve(options.cpuProfDir);
  }
  // startBouncer spawns from this process, and a child inherits its CPU affinity: start it
  // pinned, so that bouncer sizes its worker pool (availableParallelism) to the CPUs it may use.
  if (options.cpus) pin(process.pid, options.cpus);
  let proc: BouncerProcess;
  try {
    // Decisions are logged at info (one JSON line per review to stdout); `warn` turns that off.
    proc = await startBouncer({ bench: bundleFile }, ['--port', String(port), '--log-level', options.logLevel, ...(options.extraArgs ?? [])], {
      ...(options.processes ? { entry: 'bench/cluster-serve.mjs' } : {}),
    });
  } finally {
    if (options.cpus && options.clientCpus) pin(process.pid, options.clientCpus);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const pid = findChild(['serve', '--port', String(port)]);
  if (pid === undefined) {
    await proc.stop();
    throw new Error('cannot find the bouncer process');
  }
  if (options.cpus) pin(pid, options.cpus);
  const { post, agent } = httpsPoster(`${proc.url}/validate`, proc.caPem, options.maxSockets);
  return {
    system: 'bouncer',
    pid,
    send: async (body) => allowedOf(await post(body)),
    // A cluster (--bouncer-processes) is the process and its workers.
    cpuMs: () => treeCpuMs(pid),
    memory: () => treeMemory(pid),
    measuring: () => {
      if (options.cpuProfDir) process.kill(pid, 'SIGUSR2');
    },
    logTail: (lines) => proc.logs().split('\n').filter((l) => l.trim() !== '' && !l.includes('"msg":"decision"')).slice(-lines),
    // A cluster's /metrics is whichever process answers: no server-side figures for it.
    ...(options.processes ? {} : { serverBuckets: async () => parseBuckets(await proc.metrics(), 'bouncer_request_duration_seconds', 'validate'), metricsText: () => proc.metrics() }),
    async close() {
      agent.destroy();
      await proc.stop();
    },
  };
}

// --- OPA -----------------------------------------------------------------------------

export async function startOpaTarget(opa: string, stageDir: string, options: ServerOptions): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-bench-opa-'));
  const ca = await createCertificateAuthority('bouncer-bench-ca');
  const serving = await ca.issue({ commonName: 'opa', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server' });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  const port = await freePort();
  const args = [
    'run', '--server',
    '--addr', `127.0.0.1:${port}`,
    '--tls-cert-file', join(dir, 'tls.crt'),
    '--tls-private-key-file', join(dir, 'tls.key'),
    // Like bouncer at warn: no line per request.
    '--log-level', 'error',
    '--skip-version-check',
    stageDir,
  ];
  // Pinned from its first instruction, so the Go runtime sizes GOMAXPROCS to the CPUs it may use.
  const child: ChildProcess = options.cpus ? spawn('taskset', ['-c', options.cpus, opa, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(opa, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (c: Buffer) => {
    if (output.length < 100_000) output += c.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const pid = child.pid as number;
  const { post, agent } = httpsPoster(`https://127.0.0.1:${port}/`, ca.certPem, options.maxSockets);
  const health = httpsPoster(`https://127.0.0.1:${port}/health`, ca.certPem, 1);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`opa exited during startup:\n${output}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/health', agent: health.agent }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`opa not healthy after 60 s:\n${output}`);
    }
    await sleep(100);
  }
  health.agent.destroy();
  return {
    system: 'opa',
    pid,
    send: async (body) => allowedOf(await post(body)),
    cpuMs: () => cpuMsOf(pid),
    memory: () => memoryOf(pid),
    measuring: () => undefined,
    logTail: (lines) => output.split('\n').filter((l) => l.trim() !== '').slice(-lines),
    async close() {
      agent.destroy();
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- the floor -------------------------------------------------------------------------

export async function startFloorTarget(bundleFile: string): Promise<Target> {
  const bundle = await loadBundle('bench', readFileSync(bundleFile));
  const set = createPolicySet([bundle]);
  const reviewer = createReviewer({ policies: () => set });
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  return {
    system: 'floor',
    pid: undefined,
    // What the webhook handler does for a review, minus HTTP: decode and check the
    // review, evaluate and decide, build and serialize the answer.
    async send(body) {
      const review = decodeReview(body);
      const decision = await reviewer.review('validate', review, body);
      const answer = JSON.stringify(toReview(review.request.uid, 'validate', review.request.operation, decision));
      if (answer.length === 0) throw new Error('empty answer');
      return decision.allowed;
    },
    cpuMs: cpu,
    memory: () => undefined,
    measuring: () => undefined,
    logTail: () => [],
    async close() {},
  };
}
