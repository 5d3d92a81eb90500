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
});
