// Minimal PKI for webhook TLS: a throwaway CA and leaf certificates signed by it.
// ECDSA P-256 keys (small, fast to generate, accepted by kube-apiserver and Node's TLS).
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends KeyPairPem {
  /** Signs a leaf certificate; `dnsNames`/`ipAddresses` become SANs. */
  issue(spec: LeafSpec): Promise<KeyPairPem>;
}

export interface LeafSpec {
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: 'server' | 'client' | 'both';
  readonly validForSeconds?: number;
  /** Issuance time (default now); the certificate is valid from an hour before it. */
  readonly issuedAt?: Date;
}

function provider(): x509.CryptoProvider {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  return x509.cryptoProvider;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function distinguishedName(commonName: string, organizations: readonly string[] = []): string {
  const escape = (v: string): string => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${escape(commonName)}`, ...organizations.map((o) => `O=${escape(o)}`)].join(', ');
}

function window(seconds: number, from = new Date(), cap?: Date): { notBefore: Date; notAfter: Date } {
  // Back-date one hour so small clock skew between processes does not reject a fresh cert.
  const notBefore = new Date(from.getTime() - 3600_000);
  const notAfter = new Date(from.getTime() + seconds * 1000);
  return { notBefore, notAfter: cap && cap < notAfter ? cap : notAfter };
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

/** Creates a new self-signed CA valid for `validForSeconds` (default one year) from `issuedAt`. */
export async function createCertificateAuthority(commonName: string, validForSeconds = 365 * 86400, issuedAt = new Date()): Promise<CertificateAuthority> {
  const crypto = provider().get();
  const keys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: distinguishedName(commonName),
      ...window(validForSeconds, issuedAt),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return authority(ca, keys.privateKey, await keyPem(keys.privateKey));
}

/** A CA from its PEM certificate and PKCS#8 key (as stored in a Secret), able to issue again. */
export async function loadCertificateAuthority(certPem: string, caKeyPem: string): Promise<CertificateAuthority> {
  provider();
  const ca = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(caKeyPem), ALG, true, ['sign']);
  return authority(ca, privateKey, caKeyPem);
}

function authority(ca: x509.X509Certificate, caPrivateKey: webcrypto.CryptoKey, caKeyPem: string): CertificateAuthority {
  const crypto = provider().get();
  async function issue(spec: LeafSpec): Promise<KeyPairPem> {
    const leafKeys = await generateKeys();
    const usages = spec.usage === 'both' ? [SERVER_AUTH, CLIENT_AUTH] : [spec.usage === 'server' ? SERVER_AUTH : CLIENT_AUTH];
    const names: x509.JsonGeneralName[] = [
      ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const leaf = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: distinguishedName(spec.commonName, spec.organizations),
        issuer: ca.subject,
        // Never outlive the issuing CA.
        ...window(spec.validForSeconds ?? 365 * 86400, spec.issuedAt, ca.notAfter),
        publicKey: leafKeys.publicKey,
        signingKey: caPrivateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension(usages, false),
          await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
        ],
      },
      crypto,
    );
    return { certPem: leaf.toString('pem'), keyPem: await keyPem(leafKeys.privateKey) };
  }

  return { certPem: ca.toString('pem'), keyPem: caKeyPem, issue };
}
