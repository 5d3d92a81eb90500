// A start that fails must end the process, non-zero, with everything it opened closed: a
// replica that logs "cannot start" but keeps its health port answering 200 is a replica
// that Kubernetes routes to and that never serves.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { freePort } from '../../hack/lib/control-plane.js';
import { createCertificateAuthority } from '../../src/certs/pki.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function tlsFiles(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-start-'));
  const ca = await createCertificateAuthority('bouncer-start-ca');
  const serving = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
  writeFileSync(join(dir, 'tls.crt'), serving.certPem);
  writeFileSync(join(dir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  return ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')];
}

/** Runs `bouncer serve ARGS` to its end (at most `limitMs`); the health port is polled meanwhile. */
async function serveUntilExit(args: string[], healthPort: number, limitMs = 30_000): Promise<{ code: number | null; output: string; healthAnswered: boolean }> {
  const child = spawn(process.execPath, ['bin/bouncer.js', 'serve', '--host', '127.0.0.1', '--health-port', String(healthPort), '--shutdown-delay', '0s', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let healthAnswered = false;
  const poll = setInterval(() => {
    void fetch(`http://127.0.0.1:${healthPort}/healthz`).then(
      () => (healthAnswered = true),
      () => undefined,
    );
  }, 50);
  const code = await new Promise<number | null>((resolve) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(-1);
    }, limitMs);
    child.on('exit', (c) => {
      clearTimeout(limit);
      resolve(c);
    });
  });
  clearInterval(poll);
  return { code, output, healthAnswered };
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The port can be bound again: the process that had it closed it. */
async function released(port: number): Promise<boolean> {
  try {
    const server = await listenOn(port);
    await new Promise((r) => server.close(r));
    return true;
  } catch {
    return false;
  }
}

describe('a start that fails', () => {
  it('exits 1 and releases the health port when the webhook port is taken', async () => {
    const [webhookPort, healthPort] = [await freePort(), await freePort()];
    const squatter = await listenOn(webhookPort);
    try {
      const run = await serveUntilExit(['--bundle', `basic=${inject('bundles').basic}`, '--port', String(webhookPort), ...(await tlsFiles())], healthPort);
      expect(run.code, run.output).toBe(1);
      expect(run.output).toContain('bouncer cannot start');
      expect(run.output).toContain('EADDRINUSE');
      expect(await released(healthPort)).toBe(true);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('exits 1 when a bundle fails to load after the health server is up', async () => {
    const [webhookPort, healthPort] = [await freePort(), await freePort()];
    const bad = join(mkdtempSync(join(tmpdir(), 'bouncer-bad-')), 'bad.tar.gz');
    writeFileSync(bad, 'not a bundle');
    const run = await serveUntilExit(['--bundle', `bad=${bad}`, '--port', String(webhookPort), ...(await tlsFiles())], healthPort);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toContain('BUNDLE_CORRUPT');
    expect(await released(healthPort)).toBe(true);
  });

  it('exits 2 before opening anything when the webhook and health ports are the same', async () => {
    const port = await freePort();
    const run = await serveUntilExit(['--bundle', `basic=${inject('bundles').basic}`, '--port', String(port), ...(await tlsFiles())], port);
    expect(run.code).toBe(2);
    expect(run.output).toContain(`--port and --health-port are both ${port}`);
    expect(run.healthAnswered).toBe(false);
  });
});
