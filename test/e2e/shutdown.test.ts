// Graceful shutdown: on SIGTERM readiness goes false at once, reviews are still answered
// during the shutdown delay (endpoints take a moment to drop the pod), then bouncer exits 0.
import { Agent, request } from 'node:https';
import { describe, expect, inject, it } from 'vitest';
import { startBouncer } from '../../hack/lib/bouncer-process.js';
import { configMapRequest } from '../support/bundle-files.js';

function review(url: string, ca: string, agent: Agent): Promise<number> {
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({ deny: 'true' }) });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/validate`, { method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('graceful shutdown', () => {
  it('turns readiness off, keeps answering during the delay, then exits 0', async () => {
    const bouncer = await startBouncer({ basic: inject('bundles').basic as string }, ['--shutdown-delay', '2s']);
    const agent = new Agent({ keepAlive: true });
    expect(await review(bouncer.url, bouncer.caPem, agent)).toBe(200);
    const started = Date.now();
    const exited = bouncer.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect((await bouncer.readyz()).status).toBe(503);
    // Still serving, over the same keep-alive connection and new ones.
    expect(await review(bouncer.url, bouncer.caPem, agent)).toBe(200);
    expect(await review(bouncer.url, bouncer.caPem, new Agent())).toBe(200);
    agent.destroy();
    expect(await exited).toBe(0);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(bouncer.logs()).toContain('shutting down: readiness off');
    expect(bouncer.logs()).toContain('"msg":"stopped"');
  });

  // main.ts calls webhook.drain() at SIGTERM (test/unit/shutdown-drain.test.ts shows the same
  // property on the server alone). With one replica, a new connection failing once the listener
  // closes is expected: refused, or reset when the kernel had queued it but bouncer never
  // accepted it (a listening socket's backlog is reset when it closes). In a cluster the
  // endpoints dropped the pod during the delay, so no new connection comes. A 503, or a reset
  // on a kept-alive connection, never is expected.
  it('keeps kept-alive streams free of 503s and resets across SIGTERM, the delay and exit', async () => {
    const bouncer = await startBouncer({ basic: inject('bundles').basic as string }, ['--shutdown-delay', '2s']);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const seen: { status?: number; reused: boolean; err?: string }[] = [];
    let sending = true;
    const once = () =>
      new Promise<void>((resolve) => {
        const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({ deny: 'true' }) });
        const req = request(`${bouncer.url}/validate`, { method: 'POST', ca: bouncer.caPem, agent, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => (seen.push({ status: res.statusCode ?? 0, reused: req.reusedSocket }), resolve()));
        });
        req.on('error', (err: NodeJS.ErrnoException) => (seen.push({ reused: req.reusedSocket, err: err.code ?? err.message }), resolve()));
        req.end(body);
      });
    const loops = Array.from({ length: 4 }, async () => {
      while (sending) await once();
    });
    await new Promise((r) => setTimeout(r, 500));
    const exited = bouncer.stop('SIGTERM');
    expect(await exited).toBe(0);
    sending = false;
    await Promise.all(loops);
    agent.destroy();
    expect(seen.filter((s) => s.status === 200).length).toBeGreaterThan(20);
    expect(seen.filter((s) => s.status !== undefined && s.status !== 200)).toEqual([]);
    expect(seen.filter((s) => s.err !== undefined && (s.reused || !['ECONNREFUSED', 'ECONNRESET'].includes(s.err)))).toEqual([]);
  });
});
