// Gatekeeper's own webhook (the manager binary pinned by hack/tools/gator, built by
// `hack/ensure-tools.sh gatekeeper`) run out of cluster against a local kube-apiserver.
//
// What it takes to serve outside a pod (read from the v3.23.1 main.go and pkg/):
// - --kubeconfig for the API server; POD_NAMESPACE (its own namespace, which must exist) and
//   --debug-use-fake-pod (no pod to own its status objects);
// - --disable-cert-rotation with --cert-dir holding tls.crt/tls.key (here a certificate for
//   127.0.0.1 from a throwaway CA), else it generates certificates into a Secret and patches
//   webhook configurations that do not exist;
// - --operation=webhook (serve /v1/admit), =generate (the ConstraintTemplate controller creates
//   the constraint CRDs only with it) and =status (constraint status, readable with kubectl);
// - distinct --metrics-addr and --prometheus-port: both default to 8888, and the clash stops the
//   manager right after start without an error line;
// - --enable-external-data=false (no provider, nothing to call out to).
// Everything else stays at its default: --max-serving-threads -1 (one evaluation at a time per
// GOMAXPROCS), no --log-denies, no admission events, the validating CEL driver enabled.
// The CRDs come from deploy/gatekeeper.yaml in the Go module cache copy of the same module
// version; they are applied at run time and never stored in this repository.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority } from '../src/certs/pki.js';
import { freePort } from '../hack/lib/control-plane.js';

export const GATEKEEPER_NAMESPACE = 'gatekeeper-system';

/** The Gatekeeper version hack/tools/gator/go.mod pins (the manager's too). */
export function pinnedGatekeeperVersion(): string {
  const goMod = readFileSync(fileURLToPath(new URL('../hack/tools/gator/go.mod', import.meta.url)), 'utf8');
  const version = /github\.com\/open-policy-agent\/gatekeeper\/v3 (v\S+)/.exec(goMod)?.[1];
  if (!version) throw new Error('hack/tools/gator/go.mod pins no github.com/open-policy-agent/gatekeeper/v3');
  return version;
}

/** The CustomResourceDefinition documents of deploy/gatekeeper.yaml from the module cache (downloaded by `go mod download` when missing). */
export function gatekeeperCrds(version: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `github.com/open-policy-agent/gatekeeper/v3@${version}`], { encoding: 'utf8' });
  const dir = (JSON.parse(out) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download gave no directory for Gatekeeper ${version}`);
  const docs = readFileSync(join(dir, 'deploy', 'gatekeeper.yaml'), 'utf8').split(/^---$/m);
  const crds = docs.filter((d) => /^kind: CustomResourceDefinition$/m.test(d));
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition in ${dir}/deploy/gatekeeper.yaml`);
  return crds.join('\n---\n');
}

export interface GatekeeperProcess {
  readonly pid: number;
  /** https://127.0.0.1:<port>/v1/admit */
  readonly admitUrl: string;
  readonly caPem: string;
  readonly args: readonly string[];
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface GatekeeperOptions {
  readonly binary: string;
  readonly kubeconfig: string;
  /** Where certificates and the log go. */
  readonly dir: string;
  /** taskset CPU list: the manager starts under it, so Go's GOMAXPROCS follows it. */
  readonly cpus?: string;
  readonly startTimeoutMs?: number;
}

/** Starts the manager and resolves once its /readyz answers 200 (templates and constraints come after). */
export async function startGatekeeper(options: GatekeeperOptions): Promise<GatekeeperProcess> {
  mkdirSync(join(options.dir, 'certs'), { recursive: true });
  const ca = await createCertificateAuthority('bench-gatekeeper-ca');
  const serving = await ca.issue({ commonName: 'gatekeeper-webhook', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server' });
  writeFileSync(join(options.dir, 'certs', 'tls.crt'), serving.certPem);
  writeFileSync(join(options.dir, 'certs', 'tls.key'), serving.keyPem, { mode: 0o600 });
  const [port, health, metrics, prometheus] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const args = [
    `--kubeconfig=${options.kubeconfig}`,
    '--host=127.0.0.1',
    `--port=${port}`,
    `--cert-dir=${join(options.dir, 'certs')}`,
    '--disable-cert-rotation',
    '--operation=webhook',
    '--operation=generate',
    '--operation=status',
    '--debug-use-fake-pod',
    '--enable-external-data=false',
    `--health-addr=127.0.0.1:${health}`,
    `--metrics-addr=127.0.0.1:${metrics}`,
    `--prometheus-port=${prometheus}`,
    '--shutdown-delay=0',
  ];
  const logFile = join(options.dir, 'manager.log');
  const fd = openSync(logFile, 'a');
  const command = options.cpus ? 'taskset' : options.binary;
  const argv = options.cpus ? ['-c', options.cpus, options.binary, ...args] : args;
  const child = spawn(command, argv, { stdio: ['ignore', fd, fd], env: { ...process.env, POD_NAMESPACE: GATEKEEPER_NAMESPACE, POD_NAME: 'gatekeeper-bench' } });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Gatekeeper exited during startup (${child.exitCode}); ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (await fetch(`http://127.0.0.1:${health}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Gatekeeper not ready after ${options.startTimeoutMs ?? 60_000} ms; ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    }
    await sleep(200);
  }
  return {
    pid: child.pid as number,
    admitUrl: `https://127.0.0.1:${port}/v1/admit`,
    caPem: ca.certPem,
    args,
    logFile,
    async stop() {
      // A stopped process (SIGSTOP, while the other server is measured) takes SIGTERM only once continued.
      if (child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
