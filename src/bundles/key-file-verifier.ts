// The bundle verifier of a configured public key file (serve's and push's
// --verification-key, --verification-alg, --verification-key-id).
import { readFileSync } from 'node:fs';
import { BouncerError } from '../errors/errors.js';
import type { BundleFiles } from './archive.js';
import { createBundleVerifier, type VerificationKey } from './signature.js';

export interface VerificationSettings {
  readonly keyFile: string;
  readonly algorithm: string;
  readonly keyId?: string;
}

/** The key of the settings, its file read (CONFIG_INVALID when it cannot be). */
export function verificationKey(settings: VerificationSettings): VerificationKey {
  let publicKeyPem: string;
  try {
    publicKeyPem = readFileSync(settings.keyFile, 'utf8');
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', `cannot read the bundle verification key ${settings.keyFile}: ${(cause as Error).message}`, { cause });
  }
  return { publicKeyPem, algorithm: settings.algorithm, ...(settings.keyId ? { keyId: settings.keyId } : {}) };
}

export function verifierFromKeyFile(settings: VerificationSettings): (files: BundleFiles) => Promise<void> {
  return createBundleVerifier(verificationKey(settings));
}
