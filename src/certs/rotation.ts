// Rotation of bouncer's self-managed webhook TLS, as a pure plan over the stored state.
// The API server trusts what the webhook configurations' caBundle holds, so a change of
// CA goes through an overlap in which both CAs are trusted:
//   1. CA past 2/3 of its life: a next CA is created and added to the bundle;
//   2. after `overlap`, the next CA becomes the CA and a new serving cert is issued from it
//      (the bundle still holds both, for replicas not yet reloaded);
//   3. after another `overlap`, the previous CA leaves the bundle.
// A serving cert past 2/3 of its life is reissued from the current CA; the bundle is untouched.
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority, loadCertificateAuthority } from './pki.js';

export interface TlsState {
  readonly caCert: string;
  readonly caKey: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** PEM certificates the API server is told to trust (caBundle). */
  readonly caBundle: string;
  readonly nextCaCert?: string;
  readonly nextCaKey?: string;
  /** When the next CA entered the bundle (ms since the epoch). */
  readonly nextCaSince?: number;
  /** When the previous CA may leave the bundle (ms since the epoch). */
  readonly dropPreviousAfter?: number;
}

export interface RotationPolicy {
  readonly commonName: string;
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  readonly caValiditySeconds: number;
  readonly leafValiditySeconds: number;
  readonly overlapSeconds: number;
}

/** What a plan changed, as stable codes (control flow and tests use these, never the reason texts). */
export const ROTATION_STEPS = {
  'created': 'no certificate yet: new CA and serving certificate',
  'replaced-unusable': 'the stored CA is unusable or expired: new CA and serving certificate',
  'previous-ca-dropped': 'overlap over: the previous CA left the bundle',
  'next-ca-promoted': 'the next CA became the CA; serving certificate reissued from it',
  'next-ca-added': 'the CA is past 2/3 of its life: a next CA joined the bundle',
  'leaf-reissued': 'the serving certificate is past 2/3 of its life, for other names, or not from the CA: reissued',
} as const;

export type RotationStep = keyof typeof ROTATION_STEPS;

export interface RotationPlan {
  readonly state: TlsState;
  /** What changed, in order; empty when nothing did. */
  readonly steps: readonly RotationStep[];
  /** The same, as sentences for the log. */
  readonly reasons: readonly string[];
}

const plan = (state: TlsState, steps: readonly RotationStep[]): RotationPlan => ({ state, steps, reasons: steps.map((s) => ROTATION_STEPS[s]) });

const RENEW_AT = 2 / 3;

/** Concatenated PEM blocks, each on its own lines (Go's PEM parser needs the line break). */
const pemBundle = (...pems: string[]): string => pems.map((p) => `${p.trim()}\n`).join('');

/** Issuance back-dates certificates by an hour against clock skew (pki.ts); life counts from issuance. */
const BACKDATE_MS = 3600_000;

function lifeUsed(pem: string, now: number): number {
  const cert = new X509Certificate(pem);
  const to = Date.parse(cert.validTo);
  const from = Math.min(Date.parse(cert.validFrom) + BACKDATE_MS, to - 1000);
  return (now - from) / Math.max(1, to - from);
}

function usable(state: TlsState | undefined, now: number): state is TlsState {
  if (!state) return false;
  try {
    const ca = new X509Certificate(state.caCert);
    return Date.parse(ca.validTo) > now && lifeUsed(state.caCert, now) < 1;
  } catch {
    return false;
  }
}

function servesNames(pem: string, policy: RotationPolicy): boolean {
  const cert = new X509Certificate(pem);
  return policy.dnsNames.every((d) => cert.checkHost(d, { subject: 'never' }) === d) && policy.ipAddresses.every((ip) => cert.checkIP(ip) === ip);
}

function issuedBy(leafPem: string, caPem: string): boolean {
  try {
    return new X509Certificate(leafPem).verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

export async function planRotation(current: TlsState | undefined, policy: RotationPolicy, now = Date.now()): Promise<RotationPlan> {
  const steps: RotationStep[] = [];
  const leafSpec = {
    commonName: policy.commonName,
    dnsNames: [...policy.dnsNames],
    ipAddresses: [...policy.ipAddresses],
    usage: 'server' as const,
    validForSeconds: policy.leafValiditySeconds,
    issuedAt: new Date(now),
  };
  if (!usable(current, now)) {
    const ca = await createCertificateAuthority(`${policy.commonName}-ca`, policy.caValiditySeconds, new Date(now));
    const leaf = await ca.issue(leafSpec);
    return plan({ caCert: ca.certPem, caKey: ca.keyPem, tlsCert: leaf.certPem, tlsKey: leaf.keyPem, caBundle: pemBundle(ca.certPem) }, [current ? 'replaced-unusable' : 'created']);
  }
  let state: TlsState = current;
  const overlapMs = policy.overlapSeconds * 1000;

  if (state.dropPreviousAfter !== undefined && now >= state.dropPreviousAfter) {
    const { dropPreviousAfter: _drop, ...rest } = state;
    state = { ...rest, caBundle: pemBundle(state.caCert) };
    steps.push('previous-ca-dropped');
  }
  if (state.nextCaCert && state.nextCaKey && state.nextCaSince !== undefined && now - state.nextCaSince >= overlapMs) {
    const next = await loadCertificateAuthority(state.nextCaCert, state.nextCaKey);
    const leaf = await next.issue(leafSpec);
    const { nextCaCert: _c, nextCaKey: _k, nextCaSince: _s, ...rest } = state;
    state = { ...rest, caCert: next.certPem, caKey: next.keyPem, tlsCert: leaf.certPem, tlsKey: leaf.keyPem, caBundle: pemBundle(state.caCert, next.certPem), dropPreviousAfter: now + overlapMs };
    steps.push('next-ca-promoted');
  } else if (!state.nextCaCert && state.dropPreviousAfter === undefined && lifeUsed(state.caCert, now) >= RENEW_AT) {
    const next = await createCertificateAuthority(`${policy.commonName}-ca`, policy.caValiditySeconds, new Date(now));
    state = { ...state, nextCaCert: next.certPem, nextCaKey: next.keyPem, nextCaSince: now, caBundle: pemBundle(state.caCert, next.certPem) };
    steps.push('next-ca-added');
  }
  const leafStale =
    !issuedBy(state.tlsCert, state.caCert) || !servesNames(state.tlsCert, policy) || lifeUsed(state.tlsCert, now) >= RENEW_AT;
  // A promotion has just issued a fresh serving certificate from the new CA.
  if (leafStale && !steps.includes('next-ca-promoted')) {
    const ca = await loadCertificateAuthority(state.caCert, state.caKey);
    const leaf = await ca.issue(leafSpec);
    state = { ...state, tlsCert: leaf.certPem, tlsKey: leaf.keyPem };
    steps.push('leaf-reissued');
  }
  return plan(state, steps);
}
