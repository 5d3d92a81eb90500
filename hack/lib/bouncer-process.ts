// Runs bouncer the way it runs in a cluster: its own process (`bouncer serve`), real TLS
// with a certificate signed by a CA the API server is given as caBundle. With
// BOUNCER_E2E_RUNTIME=container the same `serve` arguments run in the container image instead,
// as manifests/base runs the pod (hack/lib/bouncer-container.ts); callers see no difference.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './control-plane.js';
import { containerRuntimeFromEnv, startContainer } from './bouncer-container.js';
import { createCertificateAuthority } from '../../src/certs/pki.js';

export interface BouncerProcess {
  /** The `bouncer serve` process (for /proc/<pid>/status; in a container, its host pid). */
  readonly pid: number;
  /** The container's name when it runs in one (BOUNCER_E2E_RUNTIME=container). */
  readonly container?: string;
  readonly url: string;
  readonly healthUrl: string;
  readonly caPem: string;
  readonly logs: () => string;
  /** The text of /metrics. */
  metrics(): Promise<string>;
  readyz(): Promise<{ status: number; body: string }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `bouncer serve` from this checkout's dist/ (run `npm run build` first). */
export async function startBouncer(
  bundles: Record<string, string>,
  extraArgs: string[] = [],
  options: {
    onOutput?: (text: string) => void;
    waitFor?: 'ready' | 'healthy';
    /** false: bouncer manages its own (--manage-certs in extraArgs) */
    tls?: boolean;
    /** The script run with `serve` and the arguments (default bin/bouncer.js), relative to the repository. */
    entry?: string;
    /** In a container with --kubeconfig: authenticate as this service account (default: one bound to cluster-admin). */
    serviceAccount?: { namespace: string; name: string };
  } = {},
): Promise<BouncerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-proc-'));
  const ca = await createCertificateAuthority('bouncer-e2e-ca');
  const serving = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server' });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  // A --port in extraArgs wins (parseArgs keeps the last value), so the URL must follow it.
  const portArg = extraArgs.indexOf('--port');
  const port = portArg >= 0 ? Number(extraArgs[portArg + 1]) : await freePort();
  const healthPort = await freePort();
  const args = [
    options.entry ?? 'bin/bouncer.js',
    'serve',
    ...Object.entries(bundles).flatMap(([name, file]) => ['--bundle', `${name}=${file}`]),
    ...(options.tls === false ? [] : ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')]),
    '--host', '127.0.0.1',
    '--port', String(port),
    '--health-port', String(healthPort),
    // Tests and `npm start` stop at once unless they ask for the production delay.
    ...(extraArgs.includes('--shutdown-delay') ? [] : ['--shutdown-delay', '0s']),
    // The background audit lists the whole shared test cluster and records decision events:
    // only the tests of the audit ask for it.
    ...(extraArgs.includes('--audit') ? [] : ['--audit', 'off']),
    ...extraArgs,
  ];
  let output = '';
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const runtime = containerRuntimeFromEnv();
  if (runtime && options.entry !== undefined) throw new Error('a custom entry script cannot run in the container image');
  // The image's entrypoint is bin/bouncer.js: the container gets the arguments after it.
  const container = runtime ? await startContainer(runtime, args.slice(1), { serviceAccount: options.serviceAccount }) : undefined;
  const child: ChildProcess = container?.child ?? spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (c: Buffer) => {
    output += c.toString();
    options.onOutput?.(c.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  // A container's first start also loads the image's files from a cold page cache.
  const startupMs = container ? 60_000 : 30_000;
  const deadline = Date.now() + startupMs;
  const where = container ? `container ${container.name}` : 'bouncer';
  for (;;) {
    if (child.exitCode !== null) {
      container?.cleanup();
      throw new Error(`${where} exited during startup (code ${String(child.exitCode)}):\n${output}`);
    }
    const ready = await fetch(`${healthUrl}/${options.waitFor === 'healthy' ? 'healthz' : 'readyz'}`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      container?.kill('SIGKILL');
      container?.cleanup();
      throw new Error(`${where} not ready after ${startupMs / 1000} s:\n${output}`);
    }
    await sleep(100);
  }
  return {
    pid: container ? container.pid() : (child.pid as number),
    ...(container ? { container: container.name } : {}),
    url: `https://127.0.0.1:${port}`,
    healthUrl,
    caPem: ca.certPem,
    logs: () => output,
    metrics: () => fetch(`${healthUrl}/metrics`).then((r) => r.text()),
    readyz: () => fetch(`${healthUrl}/readyz`).then(async (r) => ({ status: r.status, body: await r.text() })),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) {
        if (container) container.kill(signal);
        else child.kill(signal);
      }
      const code = await exited;
      container?.cleanup();
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
