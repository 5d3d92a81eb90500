import { describe, expect, it } from 'vitest';
import { createAdmissionGate, defaultAdmissionLimits, type AdmissionLimits } from './admission-gate.js';

const limits = (over: Partial<AdmissionLimits> = {}): AdmissionLimits => ({
  maxConnections: 4,
  maxHandshakes: 2,
  handshakesPerSecond: 10,
  maxInFlight: 2,
  maxBufferedBytes: 1000,
  ...over,
});

describe('admission gate: connections', () => {
  it('admits up to maxConnections and refuses the rest until one closes', () => {
    const gate = createAdmissionGate(limits({ maxHandshakes: 100, handshakesPerSecond: 1e6 }), { tls: false });
    const verdicts = Array.from({ length: 6 }, () => gate.openConnection(0));
    expect(verdicts).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'connections', 'connections']);
    gate.connectionClosed(false);
    expect(gate.openConnection(0)).toBe('admitted');
    expect(gate.counts().connections).toBe(4);
  });

  it('limits TLS handshakes in progress; a finished or abandoned handshake frees its slot', () => {
    // A rate so high that only the concurrency limit counts (one token per microsecond).
    const gate = createAdmissionGate(limits({ handshakesPerSecond: 1e6 }));
    expect([gate.openConnection(1), gate.openConnection(2), gate.openConnection(3)]).toEqual(['admitted', 'admitted', 'handshakes']);
    gate.handshakeDone();
    expect(gate.openConnection(4)).toBe('admitted');
    gate.connectionClosed(true);
    expect(gate.counts()).toMatchObject({ connections: 2, handshakes: 1 });
    expect(gate.openConnection(5)).toBe('admitted');
  });

  it('limits the handshake rate with a bucket that bursts to maxHandshakes and refills with time', () => {
    const gate = createAdmissionGate(limits({ maxConnections: 100, maxHandshakes: 2, handshakesPerSecond: 10 }));
    const open = (at: number) => {
      const v = gate.openConnection(at);
      if (v === 'admitted') gate.handshakeDone();
      return v;
    };
    expect([open(0), open(0), open(0)]).toEqual(['admitted', 'admitted', 'handshake-rate']);
    // 10/s: one token per 100 ms.
    expect(open(50)).toBe('handshake-rate');
    expect(open(150)).toBe('admitted');
    expect(open(160)).toBe('handshake-rate');
    // A long pause refills the bucket only up to its burst.
    expect([open(10_000), open(10_000), open(10_000)]).toEqual(['admitted', 'admitted', 'handshake-rate']);
  });
});

describe('admission gate: requests', () => {
  it('sheds requests beyond maxInFlight (they are answered without evaluation) and admits again once one is released', () => {
    const gate = createAdmissionGate(limits());
    const a = gate.request(10);
    const b = gate.request(10);
    const c = gate.request(10);
    expect([a.verdict, b.verdict, c.verdict]).toEqual(['admitted', 'admitted', 'in-flight']);
    a.release();
    a.release();
    expect(gate.request(10).verdict).toBe('admitted');
    expect(gate.counts().inFlight).toBe(2);
  });

  it('refuses a request whose body would pass the buffered-bytes bound, shed ones included, and gives bytes back on release', () => {
    const gate = createAdmissionGate(limits({ maxInFlight: 1 }));
    const admitted = gate.request(400);
    const shed = gate.request(500);
    expect([admitted.verdict, shed.verdict]).toEqual(['admitted', 'in-flight']);
    expect(gate.request(101).verdict).toBe('memory');
    expect(gate.counts().bufferedBytes).toBe(900);
    shed.release();
    expect(gate.request(101).verdict).toBe('in-flight');
    expect(gate.counts().bufferedBytes).toBe(501);
  });

  it('counts never go negative whatever the order of releases', () => {
    const gate = createAdmissionGate(limits());
    gate.connectionClosed(true);
    gate.handshakeDone();
    expect(gate.counts()).toEqual({ connections: 0, handshakes: 0, inFlight: 0, bufferedBytes: 0 });
  });
});

describe('default limits', () => {
  it.each([
    [1, { maxConnections: 64, maxHandshakes: 32, handshakesPerSecond: 200, maxInFlight: 128 }],
    [2, { maxConnections: 128, maxHandshakes: 64, handshakesPerSecond: 400, maxInFlight: 256 }],
    [16, { maxConnections: 1024, maxHandshakes: 512, handshakesPerSecond: 3200, maxInFlight: 2048 }],
  ])('follow the CPU budget (%i CPUs); connections stay capped for memory', (cpus, expected) => {
    expect(defaultAdmissionLimits(cpus)).toMatchObject(expected);
  });
});
