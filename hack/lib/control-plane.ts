// A real Kubernetes control plane (etcd + kube-apiserver) as local processes, the way
// controller-runtime's envtest runs it: loopback only, random free ports, a throwaway CA,
// client-certificate authentication for an admin in system:masters, RBAC authorization,
// service-account signing keys, and an audit log so tests can read audit annotations back.
//
// The processes are detached and recorded by PID in `<dir>/state.json`, so `down` stops
// exactly what `up` started, even from another process.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCertificateAuthority } from '../../src/certs/pki.js';
import { ensureTools, requireTool } from './tools.js';

export interface ControlPlaneState {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly caFile: string;
  /** The CA that signed the API server's serving cert and the admin client cert; tests reuse it for webhooks. */
  readonly caCertPem: string;
  readonly caKeyPem: string;
  readonly adminCertFile: string;
  readonly adminKeyFile: string;
  readonly auditLog: string;
  readonly kubectl: string;
  readonly pids: { readonly etcd: number; readonly apiserver: number };
  /** How kube-apiserver was started, so drills can restart it identically. */
  readonly apiserverCommand: readonly string[];
  readonly etcdCommand: readonly string[];
  readonly ports: { readonly etcdClient: number; readonly etcdPeer: number; readonly apiserver: number };
}

export interface StartOptions {
  /** Where certs, data, logs and state live; default $BOUNCER_CONTROL_PLANE_DIR or a temp dir. */
  readonly dir?: string;
  /** How long to wait for each component to become healthy (2-core machines are slow). */
  readonly startTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** More kube-apiserver flags, after the standard ones (e.g. --tracing-config-file). */
  readonly apiserverArgs?: readonly string[];
}

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  # Reads are noise for admission tests; every write is kept with its annotations.
  - level: None
    verbs: [get, list, watch]
  - level: None
    resources: [{ group: coordination.k8s.io, resources: [leases] }]
  - level: Metadata
`;

export function defaultDir(): string {
  return process.env.BOUNCER_CONTROL_PLANE_DIR ?? join(tmpdir(), 'bouncer-control-plane');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function launch(binary: string, args: string[], logFile: string): number {
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  return child.pid;
}

async function waitHealthy(
  name: string,
  pid: number,
  logFile: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) throw new Error(`${name} exited during startup; last lines of ${logFile}:\n${tail(logFile)}`);
    if (await probe().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${name} not healthy after ${timeoutMs} ms; last lines of ${logFile}:\n${tail(logFile)}`);
}

function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function httpsOk(url: string, tls: { ca: string; cert: string; key: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function kubeconfigYaml(server: string, caFile: string, certFile: string, keyFile: string): string {
  return `apiVersion: v1
kind: Config
clusters:
  - name: bouncer-local
    cluster:
      server: ${server}
      certificate-authority: ${caFile}
users:
  - name: admin
    user:
      client-certificate: ${certFile}
      client-key: ${keyFile}
contexts:
  - name: bouncer-local
    context: { cluster: bouncer-local, user: admin }
current-context: bouncer-local
`;
}

export function readState(dir = defaultDir()): ControlPlaneState | undefined {
  const file = join(dir, 'state.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneState) : undefined;
}

/** Starts etcd and kube-apiserver; resolves once /readyz answers 200. */
export async function startControlPlane(options: StartOptions = {}): Promise<ControlPlaneState> {
  const dir = options.dir ?? defaultDir();
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const log = options.log ?? ((line: string) => process.stderr.write(`[control-plane] ${line}\n`));
  const existing = readState(dir);
  if (existing && alive(existing.pids.apiserver)) {
    throw new Error(`a control plane is already running from ${dir} (pid ${existing.pids.apiserver}); run 'down' first`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'etcd'), { recursive: true });

  const tools = ensureTools('control-plane');
  const [etcdClient, etcdPeer, apiserverPort] = [await freePort(), await freePort(), await freePort()];
  const file = (name: string): string => join(dir, name);

  const ca = await createCertificateAuthority('bouncer-local-ca');
  const serving = await ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
    usage: 'server',
  });
  const admin = await ca.issue({ commonName: 'bouncer-admin', organizations: ['system:masters'], usage: 'client' });
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(file('ca.crt'), ca.certPem);
  writeFileSync(file('ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(file('apiserver.crt'), serving.certPem);
  writeFileSync(file('apiserver.key'), serving.keyPem, { mode: 0o600 });
  writeFileSync(file('admin.crt'), admin.certPem);
  writeFileSync(file('admin.key'), admin.keyPem, { mode: 0o600 });
  writeFileSync(file('sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(file('sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(file('audit-policy.yaml'), AUDIT_POLICY);

  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcdCommand = [
    requireTool(tools, 'ETCD'),
      '--name=bouncer',
      `--data-dir=${file('etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=bouncer=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
  ];
  const etcdPid = launch(etcdCommand[0] as string, etcdCommand.slice(1), file('etcd.log'));
  const server = `https://127.0.0.1:${apiserverPort}`;
  const partial = {
    dir,
    kubeconfig: file('kubeconfig'),
    server,
    caFile: file('ca.crt'),
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    adminCertFile: file('admin.crt'),
    adminKeyFile: file('admin.key'),
    auditLog: file('audit.log'),
    kubectl: requireTool(tools, 'KUBECTL'),
    ports: { etcdClient, etcdPeer, apiserver: apiserverPort },
    etcdCommand,
  };
  writeFileSync(file('state.json'), JSON.stringify({ ...partial, pids: { etcd: etcdPid, apiserver: 0 }, apiserverCommand: [] }, null, 2));
  try {
    await waitHealthy('etcd', etcdPid, file('etcd.log'), timeoutMs, () => httpOk(`${etcdUrl}/health`));
  } catch (err) {
    stopPids([etcdPid]);
    throw err;
  }

  const apiserverCommand = [
    requireTool(tools, 'KUBE_APISERVER'),
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiserverPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--tls-cert-file=${file('apiserver.crt')}`,
      `--tls-private-key-file=${file('apiserver.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${file('sa.pub')}`,
      `--service-account-signing-key-file=${file('sa.key')}`,
      `--audit-policy-file=${file('audit-policy.yaml')}`,
      `--audit-log-path=${file('audit.log')}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--profiling=false',
      '--v=1',
      ...(options.apiserverArgs ?? []),
  ];
  const apiserverPid = launch(apiserverCommand[0] as string, apiserverCommand.slice(1), file('apiserver.log'));
  const state: ControlPlaneState = { ...partial, pids: { etcd: etcdPid, apiserver: apiserverPid }, apiserverCommand };
  writeFileSync(file('state.json'), JSON.stringify(state, null, 2));
  writeFileSync(state.kubeconfig, kubeconfigYaml(server, state.caFile, state.adminCertFile, state.adminKeyFile), { mode: 0o600 });

  const started = Date.now();
  try {
    await waitApiserver(state, apiserverPid, timeoutMs);
  } catch (err) {
    stopPids([apiserverPid, etcdPid]);
    throw err;
  }
  log(`kube-apiserver ready at ${server} after ${Date.now() - started} ms (state in ${dir})`);
  return state;
}

async function waitApiserver(state: ControlPlaneState, pid: number, timeoutMs: number): Promise<void> {
  const tls = { ca: state.caCertPem, cert: readFileSync(state.adminCertFile, 'utf8'), key: readFileSync(state.adminKeyFile, 'utf8') };
  await waitHealthy('kube-apiserver', pid, join(state.dir, 'apiserver.log'), timeoutMs, () => httpsOk(`${state.server}/readyz`, tls));
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
async function stopAndWait(pid: number): Promise<void> {
  stopPids([pid]);
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
}

/** Stops etcd, keeps it down for `downMs`, and starts it again on the same data and ports. */
export async function restartEtcd(dir = defaultDir(), downMs = 1000, timeoutMs = 60_000): Promise<ControlPlaneState> {
  const state = readState(dir);
  if (!state) throw new Error(`no control plane recorded in ${dir}`);
  await stopAndWait(state.pids.etcd);
  await sleep(downMs);
  const pid = launch(state.etcdCommand[0] as string, state.etcdCommand.slice(1), join(dir, 'etcd.log'));
  const next: ControlPlaneState = { ...state, pids: { ...state.pids, etcd: pid } };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(next, null, 2));
  await waitHealthy('etcd', pid, join(dir, 'etcd.log'), timeoutMs, () => httpOk(`http://127.0.0.1:${state.ports.etcdClient}/health`));
  await waitApiserver(next, next.pids.apiserver, timeoutMs);
  return next;
}

/**
 * Stops kube-apiserver (SIGTERM, then SIGKILL after 5 s), keeps it down for `downMs`, and
 * starts it again with the same flags and port; etcd keeps running. For watch-recovery drills.
 */
export async function restartApiserver(dir = defaultDir(), downMs = 1000, timeoutMs = 120_000): Promise<ControlPlaneState> {
  const state = readState(dir);
  if (!state) throw new Error(`no control plane recorded in ${dir}`);
  await stopAndWait(state.pids.apiserver);
  await sleep(downMs);
  const pid = launch(state.apiserverCommand[0] as string, state.apiserverCommand.slice(1), join(dir, 'apiserver.log'));
  const next: ControlPlaneState = { ...state, pids: { ...state.pids, apiserver: pid } };
  writeFileSync(join(dir, 'state.json'), JSON.stringify(next, null, 2));
  await waitApiserver(next, pid, timeoutMs);
  return next;
}

function stopPids(pids: readonly number[]): void {
  for (const pid of pids) {
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
  }
}

/** Stops the processes recorded in `dir` (and only those); waits up to 5 s, then kills (the data is throwaway). */
export async function stopControlPlane(dir = defaultDir(), keepFiles = false): Promise<void> {
  const state = readState(dir);
  if (!state) return;
  const pids = [state.pids.apiserver, state.pids.etcd].filter((p) => p > 0);
  stopPids(pids);
  const deadline = Date.now() + 5_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  if (!keepFiles) rmSync(dir, { recursive: true, force: true });
}

/** Shell lines that point kubectl at the control plane. */
export function envExports(state: ControlPlaneState): string {
  return `export KUBECONFIG=${state.kubeconfig}\n`;
}
