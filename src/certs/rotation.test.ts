import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planRotation, type RotationPolicy, type TlsState } from './rotation.js';

const policy: RotationPolicy = {
  commonName: 'bouncer',
  dnsNames: ['bouncer.bouncer-system.svc'],
  ipAddresses: ['127.0.0.1'],
  caValiditySeconds: 300,
  leafValiditySeconds: 60,
  overlapSeconds: 10,
};

const certs = (bundle: string) => bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
const verifies = (leaf: string, ca: string) => new X509Certificate(leaf).verify(new X509Certificate(ca).publicKey);

describe('planRotation', () => {
  it('creates a CA and a serving certificate for the names when there is nothing', async () => {
    const { state, steps } = await planRotation(undefined, policy, Date.now());
    expect(steps).toEqual(['created']);
    expect(certs(state.caBundle)).toHaveLength(1);
    expect(verifies(state.tlsCert, state.caCert)).toBe(true);
    expect(new X509Certificate(state.tlsCert).checkHost('bouncer.bouncer-system.svc')).toBeTruthy();
    expect(new X509Certificate(state.tlsCert).checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('changes nothing while certificates are young', async () => {
    const now = Date.now();
    const { state } = await planRotation(undefined, policy, now);
    const again = await planRotation(state, policy, now + 5_000);
    expect(again.steps).toEqual([]);
    expect(again.state).toBe(state);
  });

  it('reissues the serving certificate from the same CA past 2/3 of its life, keeping the bundle', async () => {
    const now = Date.now();
    const { state } = await planRotation(undefined, policy, now);
    const later = await planRotation(state, policy, now + 45_000);
    expect(later.steps).toEqual(['leaf-reissued']);
    expect(later.state.tlsCert).not.toBe(state.tlsCert);
    expect(later.state.caBundle).toBe(state.caBundle);
    expect(verifies(later.state.tlsCert, state.caCert)).toBe(true);
  });

  it('reissues when the wanted names change', async () => {
    const now = Date.now();
    const { state } = await planRotation(undefined, policy, now);
    const renamed = await planRotation(state, { ...policy, dnsNames: ['other.svc'] }, now + 1000);
    expect(new X509Certificate(renamed.state.tlsCert).checkHost('other.svc')).toBeTruthy();
  });

  it('rotates the CA through an overlap in which the API server trusts both', async () => {
    const t0 = Date.now();
    const first = (await planRotation(undefined, policy, t0)).state;
    // Past 2/3 of the CA's life: a next CA joins the bundle; serving continues with the old chain.
    const t1 = t0 + 210_000;
    const joining = await planRotation(first, policy, t1);
    expect(joining.steps).toEqual(['next-ca-added', 'leaf-reissued']); // the 60 s leaf is long expired at 210 s
    const joined = joining.state;
    expect(joined.nextCaCert).toBeDefined();
    expect(certs(joined.caBundle)).toEqual([...certs(first.caCert), ...certs(joined.nextCaCert as string)]);
    // Each PEM block starts on its own line: Go's PEM parser (the API server's) needs it.
    expect(joined.caBundle).toMatch(/-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----/);
    expect(verifies(joined.tlsCert, first.caCert)).toBe(true);
    // After the overlap: the next CA is the CA, the serving cert comes from it, both still trusted.
    // The promotion's own fresh serving certificate is not reissued a second time.
    const promotion = await planRotation(joined, policy, t1 + 10_000);
    expect(promotion.steps).toEqual(['next-ca-promoted']);
    const promoted = promotion.state;
    expect(promoted.caCert).toBe(joined.nextCaCert);
    expect(verifies(promoted.tlsCert, promoted.caCert)).toBe(true);
    expect(certs(promoted.caBundle)).toHaveLength(2);
    // After another overlap: the previous CA leaves the bundle.
    const settling = await planRotation(promoted, policy, t1 + 20_000);
    expect(settling.steps).toEqual(['previous-ca-dropped']);
    const settled = settling.state;
    expect(certs(settled.caBundle)).toEqual(certs(promoted.caCert));
    expect(settled.dropPreviousAfter).toBeUndefined();
  });

  it('starts over when the stored CA is unusable', async () => {
    const broken: TlsState = { caCert: 'garbage', caKey: 'x', tlsCert: 'x', tlsKey: 'x', caBundle: 'x' };
    const { state, steps } = await planRotation(broken, policy);
    expect(steps).toEqual(['replaced-unusable']);
    expect(verifies(state.tlsCert, state.caCert)).toBe(true);
  });
});
