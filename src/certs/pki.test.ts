import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, loadCertificateAuthority } from './pki.js';

describe('createCertificateAuthority', () => {
  it('issues a server certificate for an IP and DNS name, signed by the CA', async () => {
    const ca = await createCertificateAuthority('test-ca', 30 * 86400);
    const leaf = await ca.issue({ commonName: 'bouncer', dnsNames: ['bouncer.svc'], ipAddresses: ['127.0.0.1'], usage: 'server' });

    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('bouncer.svc')).toBe('bouncer.svc');
    expect(cert.checkHost('evil.example')).toBeUndefined();
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    expect(cert.checkPrivateKey(createPrivateKey(leaf.keyPem))).toBe(true);
  });

  it('reloads a CA from PEM and issues leaves it verifies, never outliving the CA', async () => {
    const original = await createCertificateAuthority('reloaded-ca', 3600);
    const reloaded = await loadCertificateAuthority(original.certPem, original.keyPem);
    const leaf = await reloaded.issue({ commonName: 'x', dnsNames: ['x.svc'], usage: 'server', validForSeconds: 86400 });
    const cert = new X509Certificate(leaf.certPem);
    const ca = new X509Certificate(original.certPem);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(Date.parse(cert.validTo)).toBeLessThanOrEqual(Date.parse(ca.validTo));
  });

  it('puts organizations in the subject (Kubernetes groups) and honours the validity window', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const leaf = await ca.issue({ commonName: 'admin', organizations: ['system:masters'], usage: 'client', validForSeconds: 2 * 86400 });
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.subject).toContain('O=system:masters');
    const lifetimeDays = (Date.parse(cert.validTo) - Date.now()) / 86400_000;
    expect(lifetimeDays).toBeGreaterThan(1.9);
    expect(lifetimeDays).toBeLessThan(2.1);
  });
});
