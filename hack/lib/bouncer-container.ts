// Runs `bouncer serve` from the container image the way manifests/base runs the pod, for the
// same e2e suites that otherwise start it as a local process (hack/lib/bouncer-process.ts):
// the pod's and the container's securityContext (user, read-only root, dropped capabilities,
// no privilege escalation), its emptyDir mounts as tmpfs, its resource limits, and — in place
// of a --kubeconfig — a service-account token and CA at the in-cluster paths with
// KUBERNETES_SERVICE_HOST/PORT naming the API server. --network host keeps every address on
// 127.0.0.1, so the ports and URLs of the process case stay valid.
//
// Selected by BOUNCER_E2E_RUNTIME=container with BOUNCER_E2E_IMAGE=<image> (hack/test-image.sh
// sets both, and DOCKER_HOST for the engine it uses).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { parse } from 'yaml';

/** Where Kubernetes mounts a pod's service-account credentials (client-node reads them there). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface ContainerRuntime {
  readonly image: string;
}

/** The container runtime the environment asks for, or undefined for the local process. */
export function containerRuntimeFromEnv(env: NodeJS.ProcessEnv = process.env): ContainerRuntime | undefined {
  if (env.BOUNCER_E2E_RUNTIME !== 'container') return undefined;
  if (!env.BOUNCER_E2E_IMAGE) throw new Error('BOUNCER_E2E_RUNTIME=container needs BOUNCER_E2E_IMAGE (hack/test-image.sh sets both)');
  return { image: env.BOUNCER_E2E_IMAGE };
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}

interface DeploymentManifest {
  spec: {
    template: {
      spec: {
        securityContext?: SecurityContext;
        containers: { name: string; securityContext?: SecurityContext; volumeMounts?: { name: string; mountPath: string }[]; resources?: { limits?: { cpu?: string; memory?: string } } }[];
        volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string } }[];
      };
    };
  };
}

/** Docker's size suffixes for a Kubernetes quantity (64Mi -> 64m; docker's m is MiB). */
function dockerSize(quantity: string): string {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`unsupported quantity ${quantity} in manifests/base/deployment.yaml`);
  return `${m[1]}${({ Ki: 'k', Mi: 'm', Gi: 'g' } as Record<string, string>)[m[2] ?? ''] ?? ''}`;
}

/**
 * The `docker run` flags equivalent to the bouncer container of a Deployment manifest: user and
 * group, read-only root, capabilities, no-new-privileges, each emptyDir mount as a tmpfs of its
 * size limit, and the CPU and memory limits. Anything in the manifest's securityContext that this
 * does not translate is an error, so a new setting there cannot be silently left out.
 */
export function podRunFlags(deploymentYaml: string): string[] {
  const deployment = parse(deploymentYaml) as DeploymentManifest;
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c) => c.name === 'bouncer');
  if (!container) throw new Error('manifests/base/deployment.yaml has no container named bouncer');
  const sc: SecurityContext = { ...pod.securityContext, ...container.securityContext };
  const known = new Set(['runAsNonRoot', 'runAsUser', 'runAsGroup', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'capabilities', 'seccompProfile']);
  const unknown = Object.keys(sc).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new Error(`securityContext settings not translated to docker run: ${unknown.join(', ')}`);
  if (sc.runAsUser === undefined) throw new Error('the manifest sets no runAsUser');
  const flags = ['--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`];
  if (sc.readOnlyRootFilesystem) flags.push('--read-only');
  for (const cap of sc.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of sc.capabilities?.add ?? []) flags.push('--cap-add', cap);
  if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  // seccompProfile RuntimeDefault is Docker's default profile: nothing to add.
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`volume ${mount.name} is not an emptyDir; only emptyDir mounts are translated`);
    const size = volume.emptyDir.sizeLimit ? `,size=${dockerSize(volume.emptyDir.sizeLimit)}` : '';
    // mode 1777 as an emptyDir's; uid 65532 must be able to write there.
    flags.push('--tmpfs', `${mount.mountPath}:rw,nosuid,nodev,mode=1777${size}`);
  }
  const limits = container.resources?.limits;
  if (limits?.memory) flags.push('--memory', dockerSize(limits.memory));
  if (limits?.cpu) flags.push('--cpus', limits.cpu.endsWith('m') ? String(Number(limits.cpu.slice(0, -1)) / 1000) : limits.cpu);
  return flags;
}

/** The flags from this checkout's manifests/base/deployment.yaml. */
export function manifestRunFlags(): string[] {
  return podRunFlags(readFileSync(fileURLToPath(new URL('../../manifests/base/deployment.yaml', import.meta.url)), 'utf8'));
}

const SERVICE_ACCOUNT = { namespace: 'default', name: 'bouncer-e2e' };

/**
 * A token of a service account bound to cluster-admin (the process case runs as the admin of
 * the kubeconfig; the container authenticates the way a pod does, with a bound token). The
 * account and its binding are created once; conflicts mean they exist already.
 */
async function serviceAccountToken(kc: KubeConfig, account = SERVICE_ACCOUNT, bindClusterAdmin = true): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const ignoreConflict = (err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  };
  await core.createNamespacedServiceAccount({ namespace: account.namespace, body: { metadata: { name: account.name } } }).catch(ignoreConflict);
  if (bindClusterAdmin) {
    await kc
      .makeApiClient(RbacAuthorizationV1Api)
      .createClusterRoleBinding({
        body: {
          metadata: { name: `${account.name}-cluster-admin` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
          subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
        },
      })
      .catch(ignoreConflict);
  }
  const request = await core.createNamespacedServiceAccountToken({
    namespace: account.namespace,
    name: account.name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`the API server issued no token for service account ${account.namespace}/${account.name}`);
  return token;
}

export interface InClusterCredentials {
  /** The directory mounted at SERVICE_ACCOUNT_DIR (token, ca.crt, namespace). */
  readonly dir: string;
  readonly env: Record<string, string>;
}

/**
 * What a pod gets instead of a kubeconfig: a token, the cluster CA and the namespace, plus
 * KUBERNETES_SERVICE_HOST/PORT from the kubeconfig's server URL.
 */
export async function inClusterCredentials(
  kubeconfigFile: string,
  namespace: string,
  account?: { namespace: string; name: string },
): Promise<InClusterCredentials> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${kubeconfigFile} has no current cluster`);
  const server = new URL(cluster.server);
  const ca = cluster.caFile ? readFileSync(cluster.caFile, 'utf8') : Buffer.from(cluster.caData ?? '', 'base64').toString('utf8');
  const token = await serviceAccountToken(kc, account ?? SERVICE_ACCOUNT, account === undefined);
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-sa-'));
  chmodSync(dir, 0o755);
  // A projected service-account volume's files are readable by the pod's user.
  writeFileSync(join(dir, 'token'), token, { mode: 0o644 });
  writeFileSync(join(dir, 'ca.crt'), ca, { mode: 0o644 });
  writeFileSync(join(dir, 'namespace'), namespace, { mode: 0o644 });
  return { dir, env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port || '443' } };
}

export interface RunningContainer {
  /** The `docker run` client, attached: its output is the container's, its exit code the container's. */
  readonly child: ChildProcess;
  readonly name: string;
  /** The host pid of the container's main process. */
  pid(): number;
  /** Signals the container itself (the attached client's --sig-proxy cannot forward SIGKILL). */
  kill(signal: NodeJS.Signals): void;
  /** Removes the credentials written for it. */
  cleanup(): void;
}

/**
 * Starts the image with `bouncer` arguments `args` (as for the process: `serve ...`). Every
 * absolute path among the arguments (or after a `=`, as in --bundle name=path) that names a file
 * is mounted read-only at the same path, made readable for the container's user if it is not
 * (as a Secret volume's 0644); `--kubeconfig FILE` is replaced by in-cluster credentials.
 */
export async function startContainer(
  runtime: ContainerRuntime,
  args: readonly string[],
  options: { serviceAccount?: { namespace: string; name: string }; name?: string } = {},
): Promise<RunningContainer> {
  const name = options.name ?? `bouncer-e2e-${Math.random().toString(36).slice(2, 10)}`;
  const rest = [...args];
  const flags = ['run', '--rm', '--name', name, '--network', 'host', ...manifestRunFlags()];
  let credentials: InClusterCredentials | undefined;
  const kubeconfigAt = rest.indexOf('--kubeconfig');
  if (kubeconfigAt >= 0) {
    const file = rest[kubeconfigAt + 1] as string;
    rest.splice(kubeconfigAt, 2);
    const watchAt = rest.indexOf('--watch-namespace');
    credentials = await inClusterCredentials(file, watchAt >= 0 ? (rest[watchAt + 1] as string) : 'default', options.serviceAccount);
    flags.push('-v', `${credentials.dir}:${SERVICE_ACCOUNT_DIR}:ro`);
    for (const [k, v] of Object.entries(credentials.env)) flags.push('-e', `${k}=${v}`);
  }
  const mounted = new Set<string>();
  for (const arg of rest) {
    for (const candidate of [arg, arg.slice(arg.indexOf('=') + 1)]) {
      if (!isAbsolute(candidate) || mounted.has(candidate) || !existsSync(candidate) || !statSync(candidate).isFile()) continue;
      mounted.add(candidate);
      try {
        accessSync(candidate, constants.R_OK);
        if ((statSync(candidate).mode & 0o004) === 0) chmodSync(candidate, statSync(candidate).mode | 0o044);
      } catch {
        // Not ours to change: the container reports what it cannot read.
      }
      flags.push('-v', `${candidate}:${candidate}:ro`);
    }
  }
  const child = spawn('docker', [...flags, runtime.image, ...rest], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pid = 0;
  return {
    child,
    name,
    pid() {
      if (pid === 0) {
        const inspect = spawnSync('docker', ['inspect', '--format', '{{.State.Pid}}', name], { encoding: 'utf8' });
        pid = Number(inspect.stdout.trim());
      }
      return pid;
    },
    kill(signal) {
      spawnSync('docker', ['kill', '--signal', signal, name], { stdio: 'ignore' });
    },
    cleanup() {
      if (credentials) rmSync(credentials.dir, { recursive: true, force: true });
    },
  };
}
