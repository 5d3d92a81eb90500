// Overload at the edge, on a real `bouncer serve` with its default limits: far more
// connections and request bytes than the caps allow, from raw TCP and TLS clients on
// 127.0.0.1. Asserted: what was refused (at connect, the port not accepting) and shed (its
// counters), that resident memory never
// passed the ceiling, and that SIGTERM ends the process within the shutdown delay plus the
// review budget while connections the server would otherwise wait for are still open.
// Nothing here depends on how fast the machine is: every assertion is a count or a bound.
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { describe, expect, inject, it } from 'vitest';
import { startBouncer } from '../../hack/lib/bouncer-process.js';
import { MEMORY_CEILING_BYTES } from '../../src/http/admission-gate.js';
import { configMapRequest } from '../support/bundle-files.js';
import { metricValue } from '../support/metrics.js';

/** Peak resident memory (VmHWM) of a process, bytes. */
function peakRss(pid: number): number {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmHWM for ${pid}`);
  return kb * 1024;
}

function tcp(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.on('error', () => resolve(undefined));
    socket.once('connect', () => resolve(socket));
  });
}

/** A TLS connection, or undefined when the server closed it before the handshake finished. */
function tls(port: number): Promise<TLSSocket | undefined> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.on('error', () => resolve(undefined));
    socket.once('close', () => resolve(undefined));
    socket.once('secureConnect', () => resolve(socket));
  });
}

const BODY = 7 * 1024 * 1024;

/**
 * Sends a review's headers and all but the last byte of a 7 MiB body, so the server holds
 * it; resolves with the status when the server answers before the body is complete (or 0).
 */
function heldUpload(socket: TLSSocket): Promise<number> {
  return new Promise((resolve) => {
    let answer = '';
    socket.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) resolve(Number(status[1]));
    });
    socket.on('error', () => resolve(0));
    socket.write(`POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${BODY}\r\n\r\n`);
    const prefix = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({}) }).slice(0, -1);
    const filler = `,"pad":"${'x'.repeat(BODY - prefix.length - 10)}`;
    socket.write(prefix + filler, () => setTimeout(() => resolve(-1), 3000));
  });
}

describe('overload at the edge', () => {
  it('refuses connections and request bytes beyond its caps and stays under the memory ceiling', async () => {
    const bouncer = await startBouncer({ basic: inject('bundles').basic as string }, ['--shutdown-delay', '1s', '--review-timeout', '2s', '--workers', '1', '--max-handshakes', '32']);
    const port = Number(new URL(bouncer.url).port);
    const open: Socket[] = [];
    try {
      // 1,500 TCP connections that never start TLS: far more than the 32 handshake slots. Once
      // they are taken the port stops accepting, and the kernel refuses the rest at connect.
      let refusedAtConnect = 0;
      for (let i = 0; i < 15; i++) {
        const batch = await Promise.all(Array.from({ length: 100 }, () => tcp(port)));
        refusedAtConnect += batch.filter((s) => s === undefined).length;
        open.push(...batch.filter((s): s is Socket => s !== undefined));
      }
      expect(refusedAtConnect).toBeGreaterThan(1000);
      const during = await bouncer.metrics();
      expect(metricValue(during, 'bouncer_listening_paused', {})).toBe(1);
      expect(metricValue(during, 'bouncer_connections_open', {})).toBeLessThanOrEqual(32);
      // Free the handshake slots (the port accepts again), then 60 uploads of 7 MiB held open:
      // 420 MiB if all were buffered.
      for (const s of open.splice(0)) s.destroy();
      await expect.poll(async () => metricValue(await bouncer.metrics(), 'bouncer_connections_open', {}), { timeout: 20_000 }).toBe(0);
      expect(metricValue(await bouncer.metrics(), 'bouncer_listening_paused', {})).toBe(0);
      const uploads: TLSSocket[] = [];
      while (uploads.length < 60) {
        const batch = (await Promise.all(Array.from({ length: 10 }, () => tls(port)))).filter((s): s is TLSSocket => s !== undefined);
        uploads.push(...batch);
        if (batch.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      open.push(...uploads);
      const statuses = await Promise.all(uploads.map(heldUpload));
      // Those that fit in the buffered-bytes bound (64 MiB: 9 bodies) are held (-1: no answer yet); the
      // rest are answered 503 unread and closed (the client may see the reset before the 503: 0).
      expect(statuses.filter((s) => s === -1).length, JSON.stringify(statuses)).toBeLessThanOrEqual(9);
      expect(statuses.filter((s) => s === 200)).toEqual([]);
      const text = await bouncer.metrics();
      expect(metricValue(text, 'bouncer_requests_shed_total', { endpoint: 'validate', reason: 'memory' })).toBeGreaterThanOrEqual(60 - 9);
      expect(peakRss(bouncer.pid)).toBeLessThan(MEMORY_CEILING_BYTES);

    } finally {
      for (const s of open) s.destroy();
      await bouncer.stop('SIGKILL');
    }
  }, 120_000);

  it('exits within the shutdown delay plus the review budget while a storm holds connections open', async () => {
    const bouncer = await startBouncer({ basic: inject('bundles').basic as string }, ['--shutdown-delay', '1s', '--review-timeout', '2s', '--workers', '1']);
    const port = Number(new URL(bouncer.url).port);
    const open: Socket[] = [];
    try {
      // Connections the server's own close() waits for: TCP connections in their TLS handshake
      // (no ClientHello yet), and TLS connections with a request whose body never completes.
      open.push(...((await Promise.all(Array.from({ length: 40 }, () => tcp(port)))).filter((s): s is Socket => s !== undefined)));
      const uploads = (await Promise.all(Array.from({ length: 5 }, () => tls(port)))).filter((s): s is TLSSocket => s !== undefined);
      open.push(...uploads);
      for (const socket of uploads) socket.write(`POST /validate HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"apiVersion":`);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      expect(await bouncer.stop('SIGTERM')).toBe(0);
      // The bound: shutdown delay (1 s) + review budget (2 s), and a margin for the process to end.
      expect(Date.now() - started).toBeLessThan(1000 + 2000 + 3000);
      expect(bouncer.logs()).toContain('"msg":"stopped"');
    } finally {
      for (const s of open) s.destroy();
      await bouncer.stop('SIGKILL');
    }
  }, 120_000);
});
