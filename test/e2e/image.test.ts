// The container image as built from the Dockerfile (hack/test-image.sh builds it and sets
// BOUNCER_E2E_RUNTIME=container, BOUNCER_E2E_IMAGE): the runtime base is what distroless
// nodejs24 nonroot is (so a local stand-in cannot drift from it unnoticed), the final image holds
// only what it must, and the container runs in cluster mode exactly as manifests/base runs the
// pod — with the manifests' own RBAC, in-cluster credentials, its bundle pushed to a ConfigMap,
// self-managed certificates that rotate — and enforces through the real API server.
// Measurements (size, cold start, RSS at idle) are printed for docs.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { containerRuntimeFromEnv, manifestRunFlags } from '../../hack/lib/bouncer-container.js';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { freePort } from '../../hack/lib/control-plane.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { main as cli } from '../../src/cli/main.js';
import { privilegedPod } from '../support/bundle-files.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor, waitForAudit } from '../support/kube.js';

const run = promisify(execFile);
const runtime = containerRuntimeFromEnv();

interface Entry {
  readonly type: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly sha256?: string;
}

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/** Every file of a tar stream, hashed, by path without a leading ./ or /. */
async function tarEntries(stream: Readable, hash = false): Promise<Map<string, Entry>> {
  const files = new Map<string, Entry>();
  const tar = extract();
  tar.on('entry', (header, body, next) => {
    const name = header.name.replace(/^\.?\//, '').replace(/\/$/, '');
    const digest = hash && header.type === 'file' ? createHash('sha256') : undefined;
    body.on('data', (chunk: unknown) => {
      digest?.update(chunk as Buffer);
    });
    body.on('end', () => {
      files.set(name, { type: header.type ?? 'file', uid: header.uid ?? 0, gid: header.gid ?? 0, mode: header.mode ?? 0, ...(digest ? { sha256: digest.digest('hex') } : {}) });
      next();
    });
    body.resume();
  });
  await pipeline(stream, tar);
  return files;
}

/** An image's filesystem as a container sees it (`docker export` of a created container). */
async function imageFiles(image: string, hash = false): Promise<Map<string, Entry>> {
  const id = (await docker('create', image)).trim();
  try {
    const child = spawn('docker', ['export', id], { stdio: ['ignore', 'pipe', 'inherit'] });
    return await tarEntries(child.stdout, hash);
  } finally {
    await docker('rm', id);
  }
}

interface RbacObject {
  kind: string;
  metadata: { name: string };
  roleRef?: { name: string };
  rules?: { resourceNames?: string[] }[];
}

interface ImageConfig {
  User: string;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  WorkingDir: string;
  Env: string[];
  Labels: Record<string, string> | null;
}

async function imageConfig(image: string): Promise<ImageConfig> {
  return JSON.parse(await docker('image', 'inspect', '--format', '{{json .Config}}', image)) as ImageConfig;
}

/** Bytes of a stream through gzip (the compressed size a registry would store, near enough). */
async function gzippedSize(stream: Readable): Promise<number> {
  let size = 0;
  await pipeline(stream, createGzip({ level: 6 }), new Writable({ write: (chunk: Buffer, _e, done) => ((size += chunk.length), done()) }));
  return size;
}

function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

describe.skipIf(!runtime)('the container image (hack/test-image.sh)', () => {
  const image = runtime?.image ?? '';
  let runtimeImage = '';

  beforeAll(async () => {
    const { stdout } = await run('bash', ['hack/images.sh', 'bases'], { timeout: 600_000 });
    runtimeImage = /^RUNTIME_IMAGE=(.+)$/m.exec(stdout)?.[1] ?? '';
    expect(runtimeImage).not.toBe('');
  });

  describe('the runtime base is distroless nodejs24 nonroot', () => {
    let files: Map<string, Entry>;
    beforeAll(async () => {
      files = await imageFiles(runtimeImage);
    });

    it('runs /nodejs/bin/node as user 65532 in /home/nonroot, with the CA bundle in SSL_CERT_FILE', async () => {
      const config = await imageConfig(runtimeImage);
      expect(config.Entrypoint).toEqual(['/nodejs/bin/node']);
      expect(config.User).toMatch(/^(65532|nonroot)$/);
      expect(config.WorkingDir).toBe('/home/nonroot');
      expect(config.Env).toContain('SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt');
      const out = await docker('run', '--rm', '--network', 'none', runtimeImage, '-p', 'JSON.stringify([process.versions.node, process.getuid(), process.getgid(), require("os").userInfo().username, require("os").homedir()])');
      const [version, uid, gid, user, home] = JSON.parse(out) as [string, number, number, string, string];
      expect(version).toMatch(/^24\./);
      expect([uid, gid, user, home]).toEqual([65532, 65532, 'nonroot', '/home/nonroot']);
    });

    it('has glibc, the C++ runtime, CA certificates, zone info, /etc/services and the three users', () => {
      const has = (path: string) => files.has(path) || files.has(`usr/${path}`);
      for (const path of ['lib/x86_64-linux-gnu/libc.so.6', 'lib/x86_64-linux-gnu/libstdc++.so.6', 'lib/x86_64-linux-gnu/libgcc_s.so.1', 'lib64/ld-linux-x86-64.so.2']) {
        expect(has(path), path).toBe(true);
      }
      for (const path of ['etc/ssl/certs/ca-certificates.crt', 'usr/share/zoneinfo/UTC', 'etc/services', 'etc/os-release', 'nodejs/bin/node']) expect(has(path), path).toBe(true);
      expect(files.get('home/nonroot')).toMatchObject({ type: 'directory', uid: 65532, gid: 65532 });
      expect(files.get('tmp')?.mode && (files.get('tmp')?.mode ?? 0) & 0o1777).toBe(0o1777);
    });

    it('has no shell and no package manager', () => {
      const forbidden = [...files.keys()].filter((p) =>
        /^(usr\/)?(s?bin)\/(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|dpkg-deb|rpm|apk)$/.test(p) || p.startsWith('var/lib/dpkg/info') || p.startsWith('etc/apt'),
      );
      expect(forbidden).toEqual([]);
      const out = spawnSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', runtimeImage, '-c', 'true'], { encoding: 'utf8' });
      expect(out.status).not.toBe(0);
    });
  });

  describe('the final image', () => {
    let files: Map<string, Entry>;
    beforeAll(async () => {
      files = await imageFiles(image);
    });

    it('runs bin/bouncer.js as the numeric non-root user, labelled with the revision it was built from', async () => {
      const config = await imageConfig(image);
      expect(config.User).toBe('65532:65532');
      expect(config.Entrypoint).toEqual(['/nodejs/bin/node', 'bin/bouncer.js']);
      expect(config.Cmd).toEqual(['serve']);
      expect(config.WorkingDir).toBe('/app');
      const head = (await run('git', ['rev-parse', 'HEAD'])).stdout.trim();
      expect(config.Labels?.['org.opencontainers.image.revision']).toMatch(new RegExp(`^${head}(-dirty)?$`));
      const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      expect(config.Labels?.['org.opencontainers.image.version']).toBe(pkg.version);
    });

    it('holds the compiled CLI, production dependencies and the SBOM, and no sources or devDependencies', () => {
      const app = [...files.keys()].filter((p) => p.startsWith('app/'));
      const top = new Set(app.map((p) => p.split('/')[1]));
      expect([...top].sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json', 'sbom.cdx.json']);
      expect(app.filter((p) => !p.startsWith('app/node_modules/') && /\.(ts|tsx)$/.test(p))).toEqual([]);
      for (const p of app.filter((q) => q.startsWith('app/dist/') && files.get(q)?.type === 'file')) expect(p).toMatch(/\.js(\.map)?$/);
      const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean }> };
      const dev = Object.entries(lock.packages).filter(([path, e]) => path !== '' && e.dev === true).map(([path]) => `app/${path}`);
      expect(dev.length).toBeGreaterThan(0);
      expect(dev.filter((p) => files.has(p))).toEqual([]);
      const prod = Object.entries(lock.packages).filter(([path, e]) => path !== '' && e.dev !== true).map(([path]) => `app/${path}`);
      expect(prod.filter((p) => !files.has(p))).toEqual([]);
      // Nothing of the build's outside /app, and the app is not writable by its user.
      expect([...files.entries()].filter(([p, e]) => p.startsWith('app/') && e.uid === 65532)).toEqual([]);
    });

    it('lists the production dependencies in its CycloneDX SBOM', async () => {
      const sbom = JSON.parse(await docker('run', '--rm', '--network', 'none', '--entrypoint', '/nodejs/bin/node', image, '-p', 'require("fs").readFileSync("/app/sbom.cdx.json","utf8")')) as {
        bomFormat: string;
        components: { name: string; version: string }[];
      };
      expect(sbom.bomFormat).toBe('CycloneDX');
      // Exactly the lockfile's production packages (a package can be both a devDependency of
      // bouncer and a dependency of a dependency, as @types/node is: the lockfile decides).
      const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { dev?: boolean; version?: string; name?: string }> };
      const prod = new Set(
        Object.entries(lock.packages)
          .filter(([path, e]) => path !== '' && e.dev !== true)
          .map(([path, e]) => `${e.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${e.version}`),
      );
      const listed = new Set(sbom.components.map((c) => `${c.name}@${c.version}`));
      expect([...listed].filter((c) => !prod.has(c))).toEqual([]);
      expect([...prod].filter((c) => !listed.has(c))).toEqual([]);
      const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
      for (const [name, version] of Object.entries(pkg.dependencies)) expect(listed.has(`${name}@${version}`), name).toBe(true);
    });

    it('contains no trace of the CA bundle passed to the build, in any layer', async () => {
      const ca = process.env.BOUNCER_BUILD_CA ?? process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
      const secret = createHash('sha256').update(readFileSync(ca)).digest('hex');
      // Every layer of `docker save`, not just the merged view: a file deleted later would still ship.
      const layers: Map<string, Entry>[] = [];
      const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
      const outer = extract();
      outer.on('entry', (header, body, next) => {
        if (header.name.endsWith('.tar') || header.name.startsWith('blobs/')) {
          tarEntries(body as unknown as Readable, true).then((m) => (layers.push(m), next()), () => (body.resume(), next()));
        } else {
          body.on('end', next);
          body.resume();
        }
      });
      await pipeline(save.stdout, outer);
      expect(layers.length).toBeGreaterThan(1);
      const hits = layers.flatMap((m) => [...m.entries()].filter(([p, e]) => p.startsWith('run/secrets') || p.includes('ca-bundle') || (e.sha256 === secret && p !== 'etc/ssl/certs/ca-certificates.crt')).map(([p]) => p));
      expect(hits).toEqual([]);
      // The one CA bundle the image has is the runtime base's own.
      const baseBundle = (await imageFiles(runtimeImage, true)).get('etc/ssl/certs/ca-certificates.crt')?.sha256;
      expect((await imageFiles(image, true)).get('etc/ssl/certs/ca-certificates.crt')?.sha256).toBe(baseBundle);
    });

    it('is measured: size uncompressed and compressed', async () => {
      const uncompressed = Number((await docker('image', 'inspect', '--format', '{{.Size}}', image)).trim());
      const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
      const compressed = await gzippedSize(save.stdout);
      const base = Number((await docker('image', 'inspect', '--format', '{{.Size}}', runtimeImage)).trim());
      console.log(`image size: ${(uncompressed / 1e6).toFixed(1)} MB uncompressed (runtime base ${(base / 1e6).toFixed(1)} MB), ${(compressed / 1e6).toFixed(1)} MB as docker save | gzip`);
      expect(compressed).toBeLessThan(uncompressed);
    }, 120_000);

    it('a failed build names the step that failed', async () => {
      const broken = join(mkdtempSync(join(tmpdir(), 'bouncer-dockerfile-')), 'Dockerfile');
      writeFileSync(broken, readFileSync('Dockerfile', 'utf8').replace('COPY src ./src\n', 'COPY src ./src\nRUN echo "this step fails on purpose" && exit 7\n'));
      const result = spawnSync('bash', ['hack/images.sh', 'bouncer', 'bouncer:broken'], { encoding: 'utf8', env: { ...process.env, BOUNCER_DOCKERFILE: broken }, timeout: 600_000 });
      rmSync(dirname(broken), { recursive: true, force: true });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/the image build failed at: #\d+ \[build \d+\/\d+\] RUN echo "this step fails on purpose" && exit 7/);
    }, 600_000);

    it('prints the logs of a container that exits during startup', async () => {
      await expect(startBouncer({}, ['--no-such-flag'])).rejects.toThrow(/exited during startup[\s\S]*no-such-flag/);
    });
  });

  describe('in cluster mode, run as manifests/base runs the pod', () => {
    const state = inject('controlPlane');
    const kube = kubeFor(state);
    const system = uniqueName('image-sys');
    const apps = uniqueName('image-apps');
    const hook = uniqueName('image');
    const suffix = hook.slice('image-'.length);
    const domain = `${hook}.bouncer.dev`;
    const rbacDocs: string[] = [];
    let bouncer: BouncerProcess;
    let coldStartMs = 0;

    /**
     * manifests/base's RBAC for this test's namespace: the Roles and RoleBindings as they are, the
     * cluster-scoped objects renamed (with the webhook name their resourceNames allow).
     */
    const rbac = () =>
      ['rbac-bundles.yaml', 'rbac-certs.yaml', 'rbac-namespaces.yaml', 'rbac-webhook-ca.yaml']
        .flatMap((f) => parseAllDocuments(readFileSync(`manifests/base/${f}`, 'utf8')).map((d) => JSON.stringify(d.toJSON())))
        .map((text) => {
          const o = JSON.parse(text.replaceAll('"bouncer-system"', JSON.stringify(system))) as RbacObject;
          if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') o.metadata.name = `${o.metadata.name}-${suffix}`;
          if (o.kind === 'ClusterRoleBinding' && o.roleRef) o.roleRef.name = `${o.roleRef.name}-${suffix}`;
          if (o.kind === 'ClusterRole') for (const r of o.rules ?? []) if (r.resourceNames) r.resourceNames = r.resourceNames.map((n) => (n === 'bouncer' ? hook : n));
          return o;
        });

    const kubectlOk = (args: string[], input?: string) => {
      const r = kubectl(state, args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
      return r;
    };

    beforeAll(async () => {
      await createNamespace(kube, system);
      await createNamespace(kube, apps);
      kubectlOk(['create', '-n', system, 'serviceaccount', 'bouncer']);
      for (const doc of rbac()) {
        rbacDocs.push(`${doc.kind}/${doc.metadata.name}`);
        kubectlOk(['apply', '-f', '-'], JSON.stringify(doc));
      }
      const starter = inject('bundles').starter as string;
      let err = '';
      const pushed = await cli(['push', starter, '--name', 'baseline', '-n', system], { env: { KUBECONFIG: state.kubeconfig }, stdout: () => undefined, stderr: (t) => (err += t) });
      expect(err).toBe('');
      expect(pushed).toBe(0);
      const port = await freePort();
      const policies = (await loadBundle('baseline', readFileSync(starter))).policies.map((p) => p.meta);
      const configs = webhookConfigurations(policies, {
        name: hook,
        domain,
        clientConfig: (endpoint) => ({ url: `https://127.0.0.1:${port}/${endpoint}` }),
        excludedNamespaces: [],
        includedNamespaces: [apps],
      });
      await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
      await kube.admission.createMutatingWebhookConfiguration({ body: configs.mutating as never });
      // The Deployment's arguments (manifests/base/deployment.yaml), with this test's names, loopback
      // addresses and short certificate lifetimes so a rotation happens within the test.
      const started = performance.now();
      bouncer = await startBouncer(
        {},
        [
          '--kubeconfig', state.kubeconfig,
          '--watch-namespace', system, '--replica', 'image-1', '--manage-certs', '--service-name', 'bouncer', '--webhook-name', hook,
          '--require-bundle', 'baseline', '--port', String(port), '--cert-sans', '127.0.0.1',
          '--ca-validity', '60s', '--cert-validity', '9s', '--cert-overlap', '5s', '--cert-check-interval', '1s',
        ],
        { tls: false, serviceAccount: { namespace: system, name: 'bouncer' } },
      );
      coldStartMs = performance.now() - started;
      await waitFor(async () => (await kube.admission.readValidatingWebhookConfiguration({ name: hook })).webhooks?.[0]?.clientConfig.caBundle !== undefined, 20_000, 'caBundle injected');
    }, 180_000);

    afterAll(async () => {
      await deleteWebhooks(kube, hook);
      await bouncer?.stop();
      for (const ref of rbacDocs.filter((r) => r.startsWith('Cluster'))) kubectl(state, ['delete', ref, '--ignore-not-found']);
    });

    it('runs under the pod securityContext: uid 65532, no capabilities, no new privileges, read-only root, tmpfs /tmp', async () => {
      expect(bouncer.container).toBeDefined();
      const name = bouncer.container as string;
      const host = JSON.parse(await docker('inspect', '--format', '{{json .HostConfig}}', name)) as { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[]; Tmpfs: Record<string, string>; NetworkMode: string };
      expect(host).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], NetworkMode: 'host' });
      expect(Object.keys(host.Tmpfs)).toEqual(['/tmp']);
      expect(manifestRunFlags()).toEqual(expect.arrayContaining(['--user', '65532:65532', '--read-only']));
      const status = procStatus(bouncer.pid);
      expect(status.Uid?.split(/\s+/)).toEqual(['65532', '65532', '65532', '65532']);
      expect(status.Gid?.split(/\s+/)[0]).toBe('65532');
      expect(status.CapEff).toBe('0000000000000000');
      expect(status.NoNewPrivs).toBe('1');
      const write = (path: string) =>
        spawnSync('docker', ['exec', name, '/nodejs/bin/node', '-e', `try { require("fs").writeFileSync(${JSON.stringify(path)}, "x"); console.log("ok") } catch (e) { console.log(e.code) }`], { encoding: 'utf8' }).stdout.trim();
      expect(write('/app/dist/main.js')).toBe('EROFS');
      expect(write('/home/nonroot/x')).toBe('EROFS');
      expect(write('/tmp/x')).toBe('ok');
    });

    it('reads its bundle from the ConfigMap and denies a privileged pod, with audit annotations', async () => {
      const pod = privilegedPod('image-priv', {});
      const result = kubectl(state, ['create', '-n', apps, '-f', '-'], JSON.stringify(pod));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('[disallow-privileged]');
      const event = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.namespace === apps && e.objectRef.name === 'image-priv');
      expect(event.responseStatus?.code).toBe(403);
      expect(event.annotations).toMatchObject({ [`validate.${domain}/decision`]: 'denied', [`validate.${domain}/denied-by`]: 'disallow-privileged' });
      expect(event.annotations?.[`validate.${domain}/policy-set`]).toMatch(/^baseline@/);
    });

    it('rotates its serving certificate and keeps enforcing', async () => {
      const secret = async () => (await kube.core.readNamespacedSecret({ namespace: system, name: 'bouncer-tls' })).data?.['tls.crt'] ?? '';
      const first = await secret();
      await waitFor(async () => (await secret()) !== first && bouncer.logs().includes('serving certificate reloaded from the Secret'), 30_000, 'a rotated serving certificate, reloaded');
      await waitFor(async () => {
        const r = kubectl(state, ['create', '-n', apps, '--dry-run=server', '-f', '-'], JSON.stringify(privilegedPod('image-priv2', {})));
        return r.code !== 0 && r.stderr.includes('[disallow-privileged]');
      }, 10_000, 'a denial after the rotation');
    }, 60_000);

    it('is measured: cold start to ready, RSS at idle', async () => {
      const rssKb = Number(/(\d+)/.exec(procStatus(bouncer.pid).VmRSS ?? '')?.[1]);
      const stats = (await docker('stats', '--no-stream', '--format', '{{.MemUsage}}', bouncer.container as string)).trim();
      console.log(`container: cold start to ready ${coldStartMs.toFixed(0)} ms (docker run to /readyz 200, bundle from the ConfigMap, certificates issued); RSS ${(rssKb / 1024).toFixed(1)} MiB (VmRSS), docker stats ${stats}`);
      expect(rssKb).toBeGreaterThan(0);
    });
  });
});
