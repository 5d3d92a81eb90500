// Serving TLS material, checked at startup so a bad certificate is a clear error rather
// than a handshake failure at the API server.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server } from 'node:https';
import { BouncerError } from '../errors/errors.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients (the API server) must present a certificate signed by this CA. */
  readonly clientCaFile?: string;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly notAfter: Date;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new BouncerError('TLS_INVALID', `cannot read the ${what} ${file}: ${(cause as Error).message}`, { cause });
  }
}

export function loadTls(files: TlsFiles, now = new Date()): TlsMaterial {
  const cert = read(files.certFile, 'TLS certificate');
  const key = read(files.keyFile, 'TLS key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (cause) {
    throw new BouncerError('TLS_INVALID', `${files.certFile} is not a PEM certificate`, { cause });
  }
  let keyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (cause) {
    throw new BouncerError('TLS_INVALID', `${files.keyFile} is not a PEM private key`, { cause });
  }
  if (!x509.checkPrivateKey(keyObject)) throw new BouncerError('TLS_INVALID', `${files.keyFile} does not match the certificate ${files.certFile}`);
  const notAfter = new Date(x509.validTo);
  if (notAfter <= now) throw new BouncerError('TLS_INVALID', `the certificate ${files.certFile} expired at ${notAfter.toISOString()}`);
  if (new Date(x509.validFrom) > now) throw new BouncerError('TLS_INVALID', `the certificate ${files.certFile} is not valid before ${x509.validFrom}`);
  const ca = files.clientCaFile ? read(files.clientCaFile, 'client CA') : undefined;
  return { cert, key, notAfter, ...(ca ? { ca } : {}) };
}

/**
 * Swaps the serving certificate of a running HTTPS server: new handshakes use it, open
 * connections keep theirs, nothing is dropped.
 */
export function reloadTls(server: unknown, material: { cert: string; key: string; ca?: string }): void {
  (server as Server).setSecureContext({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2', ...(material.ca ? { ca: material.ca } : {}) });
}

/** Reloads the certificate when its files change (e.g. a projected Secret); returns a stop function. */
export function watchTlsFiles(files: TlsFiles, onChange: (material: TlsMaterial) => void, onError: (err: unknown) => void, intervalMs = 5000): () => void {
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile ? [files.clientCaFile] : [])];
  const changed = () => {
    try {
      onChange(loadTls(files));
    } catch (err) {
      onError(err);
    }
  };
  for (const path of paths) watchFile(path, { interval: intervalMs, persistent: false }, changed);
  return () => {
    for (const path of paths) unwatchFile(path, changed);
  };
}
