// Hostile input at the HTTP edge, against the real compiled policies: each input gets a
// bounded, deliberate answer, and the server keeps serving correctly afterwards.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configMapRequest } from '../support/bundle-files.js';
import { webhookApp } from '../support/webhook-app.js';

const envelope = (request: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

/** A review whose object.data.blob is replaced by raw JSON text (to build shapes JSON.stringify would not). */
function withRawBlob(raw: string, uid = 'hostile'): string {
  const text = JSON.stringify(envelope(configMapRequest({}, { uid, object: { metadata: { name: 'cm' }, data: { blob: '@@' } } })));
  return text.replace('"@@"', raw);
}

describe('hostile input', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await webhookApp({ starter: inject('bundles').starter as string, basic: inject('bundles').basic as string }, { requestTimeoutMs: 1000 });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  const send = (payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.inject({ method: 'POST', url: '/validate', headers, payload });

  /** The server still decides a normal review correctly. */
  const stillServing = async () => {
    const res = await send(JSON.stringify(envelope(configMapRequest({ deny: 'true' }, { uid: 'after' }))));
    expect(res.json().response).toMatchObject({ uid: 'after', allowed: false, status: { code: 403 } });
  };

  it.each([
    ['objects nested 100,000 levels deep', () => withRawBlob('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))],
    ['arrays nested 100,000 levels deep', () => withRawBlob('['.repeat(100_000) + ']'.repeat(100_000))],
    ['an array of a million elements', () => withRawBlob(`[${'0,'.repeat(999_999)}0]`)],
    ['__proto__ and constructor keys', () => withRawBlob('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')],
    ['unicode control characters in names', () => JSON.stringify(envelope(configMapRequest({ deny: 'true' }, { uid: 'hostile', object: { metadata: { name: 'a\u0000b\u001b[31m\u202e' }, data: {} } })))],
  ])('%s: a deliberate answer with the uid, and the server keeps serving', async (_name, make) => {
    const res = await send(make());
    expect(res.statusCode).toBe(200);
    const { response } = res.json();
    expect(response.uid).toBe('hostile');
    expect(typeof response.allowed).toBe('boolean');
    // eslint-disable-next-line no-control-regex -- the point is that no control character survives
    if (response.status?.message) expect(response.status.message).not.toMatch(/[\u0000-\u001f]/);
    expect(Object.prototype).not.toHaveProperty('polluted');
    await stillServing();
  });

  it('evaluates a 6 MiB UPDATE review (object and oldObject) and refuses one above the 8 MiB limit with 413', async () => {
    const big = { metadata: { name: 'cm' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } };
    const update = JSON.stringify(envelope(configMapRequest({}, { uid: 'big', operation: 'UPDATE', object: big, oldObject: big })));
    expect(update.length).toBeGreaterThan(6 * 1024 * 1024);
    const ok = await send(update);
    expect(ok.json().response).toMatchObject({ uid: 'big', allowed: true });
    const huge = { metadata: { name: 'cm' }, data: { blob: 'x'.repeat(4.5 * 1024 * 1024) } };
    const tooBig = await send(JSON.stringify(envelope(configMapRequest({}, { uid: 'huge', operation: 'UPDATE', object: huge, oldObject: huge }))));
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json()).toMatchObject({ reason: 'REVIEW_TOO_LARGE' });
    await stillServing();
  });

  it('cuts off a slow client that never finishes its request', async () => {
    const { port } = app.server.address() as AddressInfo;
    const started = Date.now();
    const closed = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":');
      });
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('close', () => resolve(answer));
      setTimeout(() => socket.destroy(), 10_000);
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(closed === '' || /^HTTP\/1\.1 408/.test(closed)).toBe(true);
    await stillServing();
  });
});
