// vegeta (github.com/tsenart/vegeta), the external open-loop load generator of the overload
// benchmark: installed with `go install` into the tool cache beside the pinned toolchain on
// first use, and run as `vegeta attack` piped into `vegeta encode` so that every answer's
// status and body can be checked (goodput counts answers that are right, not answers).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { treeCpuMs } from './proc.js';

export const VEGETA_VERSION = 'v12.12.0';

/** The vegeta binary, built into ~/.cache/bouncer/tools/vegeta-<version> when missing (needs Go). */
export function ensureVegeta(log: (line: string) => void = () => undefined): string {
  const dir = join(process.env.BOUNCER_TOOLS_DIR ?? join(homedir(), '.cache', 'bouncer', 'tools'), `vegeta-${VEGETA_VERSION}`);
  const bin = join(dir, 'vegeta');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  log(`installing vegeta ${VEGETA_VERSION} into ${dir} (go install, about a minute)`);
  execFileSync('go', ['install', `github.com/tsenart/vegeta/v12@${VEGETA_VERSION}`], { env: { ...process.env, GOBIN: dir }, stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(bin)) throw new Error(`go install did not produce ${bin}`);
  return bin;
}

export interface AttackOptions {
  readonly vegeta: string;
  /** A vegeta JSON target (one line): method, url, header, body (base64). */
  readonly target?: object;
  /** Several targets instead of `target`: vegeta sends them round-robin. */
  readonly targets?: readonly object[];
  /** Requests per second; 0 with `workers` is a closed loop of that many workers. */
  readonly rate: number;
  readonly durationMs: number;
  /** Bound on connections; undefined: vegeta opens as many as it needs (an unlimited client). */
  readonly maxConnections?: number;
  readonly workers?: number;
  readonly timeoutMs: number;
  /** taskset CPU list for vegeta. */
  readonly cpus?: string;
  readonly caFile?: string;
}

export interface AttackResult {
  readonly requests: number;
  /** Answers the check accepted. */
  readonly correct: number;
  /** Status codes (0: no HTTP answer: refused, reset, timed out) and their counts. */
  readonly codes: Record<string, number>;
  /** The most frequent transport errors. */
  readonly errors: Record<string, number>;
  /** From the first request sent to the last answer, ms. */
  readonly spanMs: number;
  /** Latency of the correct answers, ms. */
  readonly correctP50Ms: number;
  readonly correctP99Ms: number;
  readonly correctMaxMs: number;
  /** vegeta's own CPU time (user + system) during the attack, ms: a saturated generator measures itself. */
  readonly clientCpuMs: number;
}

interface Line {
  code: number;
  error: string;
  body: string;
  latency: number;
  timestamp: string;
}

/** Runs one attack; `check` decides whether an answer (status 200, its body) is correct. */
export async function attack(options: AttackOptions, check: (body: Buffer) => boolean): Promise<AttackResult> {
  const targets = options.targets ?? (options.target ? [options.target] : []);
  if (targets.length === 0) throw new Error('attack: no target');
  const args = [
    'attack',
    '-format=json',
    '-insecure',
    `-rate=${options.rate}`,
    `-duration=${options.durationMs}ms`,
    `-timeout=${options.timeoutMs}ms`,
    ...(options.maxConnections ? [`-max-connections=${options.maxConnections}`] : []),
    ...(options.workers ? [`-workers=${options.workers}`, `-max-workers=${options.workers}`] : []),
  ];
  const command = options.cpus ? 'taskset' : options.vegeta;
  const attackArgs = options.cpus ? ['-c', options.cpus, options.vegeta, ...args] : args;
  // Results go to a file and are decoded after the attack: decoding while it runs would take
  // CPU from the generator (or, unpinned, from the server).
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-vegeta-'));
  const resultsFile = join(dir, 'results.bin');
  const out = openSync(resultsFile, 'w');
  const attacker = spawn(command, attackArgs, { stdio: ['pipe', out, 'pipe'] });
  attacker.stdin?.end(targets.map((t) => `${JSON.stringify(t)}\n`).join(''));
  let stderr = '';
  attacker.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  // taskset execs vegeta in the same process: its /proc entry is vegeta's until it exits.
  let clientCpuMs = 0;
  const sampler = setInterval(() => {
    if (attacker.pid !== undefined) clientCpuMs = Math.max(clientCpuMs, treeCpuMs(attacker.pid));
  }, 100);
  const exit = await new Promise<number | null>((resolve) => attacker.on('exit', resolve));
  clearInterval(sampler);
  closeSync(out);
  if (exit !== 0) throw new Error(`vegeta attack failed (${exit}): ${stderr.slice(-500)}`);
  const encoder = spawn(options.vegeta, ['encode', '--to', 'json', resultsFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const codes: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let requests = 0;
  let correct = 0;
  let first = Infinity;
  let last = 0;
  for await (const text of createInterface({ input: encoder.stdout })) {
    if (text === '') continue;
    const line = JSON.parse(text) as Line;
    requests++;
    codes[line.code] = (codes[line.code] ?? 0) + 1;
    if (line.error) {
      // Addresses and ports vary per connection; keep the kind of error.
      const kind = line.error.replace(/127\.0\.0\.1:\d+/g, 'ADDR').replace(/->ADDR|ADDR->/g, '').slice(-80);
      errors[kind] = (errors[kind] ?? 0) + 1;
    }
    const sent = Date.parse(line.timestamp);
    first = Math.min(first, sent);
    last = Math.max(last, sent + line.latency / 1e6);
    if (line.code === 200 && check(Buffer.from(line.body, 'base64'))) {
      correct++;
      latencies.push(line.latency / 1e6);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? NaN;
  const topErrors = Object.fromEntries(Object.entries(errors).sort((a, b) => b[1] - a[1]).slice(0, 4));
  return { requests, correct, codes, errors: topErrors, spanMs: last - first, correctP50Ms: at(0.5), correctP99Ms: at(0.99), correctMaxMs: latencies[latencies.length - 1] ?? NaN, clientCpuMs };
}
