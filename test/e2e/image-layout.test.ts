// The container image's file set, without a Docker engine: package.json, bin/, dist/ and a
// production-only `npm ci`, as the Dockerfile assembles them, run from a directory outside
// the checkout so nothing resolves to the developer's node_modules or sources.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../hack/lib/control-plane.js';
import { createCertificateAuthority } from '../../src/certs/pki.js';
import { podRequest, privilegedPod } from '../support/bundle-files.js';

const INSTALL_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 30_000;

interface LockEntry {
  readonly dev?: boolean;
}

function privilegedPodReview(): string {
  const pod = privilegedPod('priv', { namespace: 'team-a', labels: { owner: 'team-a' } });
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: podRequest(pod, { uid: 'image-layout-1' }) });
}

function post(url: string, body: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('POST timed out')));
    req.end(body);
  });
}

describe('the image file set (package.json, bin/, dist/, production node_modules)', () => {
  const root = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-image-'));
  const app = join(dir, 'app');
  let child: ChildProcess | undefined;
  let output = '';
  let caPem = '';
  let ports = { webhook: 0, health: 0 };

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/main.js'))) throw new Error('dist/ is missing: run `npm run -s build` first');
    for (const entry of ['package.json', 'package-lock.json', 'bin', 'dist']) cpSync(join(root, entry), join(app, entry), { recursive: true });
    // --ignore-scripts: `prepare` runs tsc, which is a devDependency and absent here.
    await promisify(execFile)('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      timeout: INSTALL_TIMEOUT_MS,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    // The image has no lockfile; only the installer needed it.
    rmSync(join(app, 'package-lock.json'));

    const ca = await createCertificateAuthority('bouncer-image-layout-ca');
    const serving = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    caPem = ca.certPem;
    writeFileSync(join(dir, 'tls.crt'), serving.certPem);
    writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
    ports = { webhook: await freePort(), health: await freePort() };
    const args = [
      'bin/bouncer.js', 'serve',
      '--bundle', `starter=${inject('bundles').starter}`,
      '--tls-cert', join(dir, 'tls.crt'),
      '--tls-key', join(dir, 'tls.key'),
      '--host', '127.0.0.1',
      '--port', String(ports.webhook),
      '--health-port', String(ports.health),
    ];
    child = spawn(process.execPath, args, { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, NODE_ENV: 'production' } });
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  }, INSTALL_TIMEOUT_MS + START_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds no devDependency', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev === true).map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    for (const name of ['vitest', 'typescript', 'tsx', 'eslint', 'vite']) expect(existsSync(join(app, 'node_modules', name)), name).toBe(false);
    // Production dependencies are there (the webhook below needs them).
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(pkg.dependencies)) expect(existsSync(join(app, 'node_modules', name)), name).toBe(true);
  });

  it('starts `bouncer serve` and becomes ready', async () => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let status = 0;
    while (Date.now() < deadline) {
      if (child?.exitCode !== null) throw new Error(`bouncer exited (${String(child?.exitCode)}):\n${output}`);
      status = await fetch(`http://127.0.0.1:${ports.health}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) break;
      await sleep(100);
    }
    expect(status, output).toBe(200);
  });

  it('denies a privileged pod over HTTPS', async () => {
    const res = await post(`https://127.0.0.1:${ports.webhook}/validate`, privilegedPodReview(), caPem);
    expect(res.status, res.body).toBe(200);
    const review = JSON.parse(res.body) as { response: { uid: string; allowed: boolean; status?: { code?: number; message?: string } } };
    expect(review.response).toMatchObject({ uid: 'image-layout-1', allowed: false, status: { code: 403 } });
    expect(review.response.status?.message).toContain('[disallow-privileged]');
  });
});
