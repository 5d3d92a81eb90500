// Verification of OPA bundle signatures (`.signatures.json`, as `opa build --signing-key`
// writes it): one JWS whose payload lists every file with its hash. A bundle is accepted
// only if the JWS verifies with the configured key and every file is listed with a
// matching hash and every listed file is present.
// https://www.openpolicyagent.org/docs/management-bundles#signing
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { compactVerify, errors as joseErrors } from 'jose';
import { BouncerError } from '../errors/errors.js';
import type { BundleFiles } from './archive.js';
import { canonicalJson } from './canonical-json.js';
import { parseJson } from '../json/parse-json.js';

export interface VerificationKey {
  /** PEM public key (RSA, ECDSA or Ed25519). */
  readonly publicKeyPem: string;
  /** JWS algorithm, e.g. RS256 (OPA's default), ES256, PS256, EdDSA. */
  readonly algorithm: string;
  /** When set, the JWS `kid` header must equal it. */
  readonly keyId?: string;
}

const HASHES: Readonly<Record<string, string>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-224': 'sha224',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

const SIGNATURES = '/.signatures.json';
const decoder = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string, cause?: unknown): BouncerError {
  return new BouncerError('BUNDLE_SIGNATURE_INVALID', message, cause === undefined ? {} : { cause });
}

/** OPA hashes data.json, .manifest and YAML data files over their canonical JSON form. */
function isStructured(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base === 'data.json' || base === '.manifest' || base === 'data.yaml' || base === 'data.yml';
}

function fileHash(path: string, content: Uint8Array, algorithm: string): string {
  const hash = HASHES[algorithm];
  if (!hash) throw invalid(`${path}: unsupported hashing algorithm ${algorithm}`);
  const h = createHash(hash);
  if (isStructured(path)) {
    let text: string;
    try {
      text = decoder.decode(content);
    } catch (cause) {
      throw invalid(`${path} is not UTF-8`, cause);
    }
    h.update(canonicalJson(text));
  } else {
    h.update(content);
  }
  return h.digest('hex');
}

interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

function payloadFiles(payload: Uint8Array): SignedFile[] {
  let parsed: unknown;
  try {
    parsed = parseJson(decoder.decode(payload));
  } catch (cause) {
    throw invalid('the signature payload is not JSON', cause);
  }
  const files = (parsed as { files?: unknown }).files;
  if (!Array.isArray(files) || !files.every((f) => typeof f?.name === 'string' && typeof f.hash === 'string' && typeof f.algorithm === 'string')) {
    throw invalid('the signature payload has no valid files list');
  }
  return files as SignedFile[];
}

export function createBundleVerifier(key: VerificationKey): (files: BundleFiles) => Promise<void> {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(key.publicKeyPem);
  } catch (cause) {
    throw new BouncerError('CONFIG_INVALID', 'the bundle verification key is not a PEM public key', { cause });
  }
  return async (files) => {
    const signatures = files.get(SIGNATURES);
    if (!signatures) throw invalid('the bundle is not signed (no .signatures.json) and a verification key is configured');
    let tokens: unknown;
    try {
      tokens = (parseJson(decoder.decode(signatures)) as { signatures?: unknown }).signatures;
    } catch (cause) {
      throw invalid('.signatures.json is not JSON', cause);
    }
    if (!Array.isArray(tokens) || tokens.length !== 1 || typeof tokens[0] !== 'string') throw invalid('.signatures.json must hold exactly one signature');
    let payload: Uint8Array;
    try {
      const verified = await compactVerify(tokens[0], publicKey, { algorithms: [key.algorithm] });
      if (key.keyId !== undefined && verified.protectedHeader.kid !== key.keyId) throw invalid(`the signature's key id ${String(verified.protectedHeader.kid)} is not ${key.keyId}`);
      payload = verified.payload;
    } catch (cause) {
      if (cause instanceof BouncerError) throw cause;
      const reason = cause instanceof joseErrors.JOSEError ? cause.code : 'malformed';
      throw invalid(`the bundle signature does not verify with the configured key (${reason})`, cause);
    }
    const listed = new Map(payloadFiles(payload).map((f) => [`/${f.name.replace(/^\/+/, '')}`, f]));
    for (const [path, content] of files) {
      if (path === SIGNATURES) continue;
      const entry = listed.get(path);
      if (!entry) throw invalid(`${path} is not included in the bundle signature`);
      if (fileHash(path, content, entry.algorithm) !== entry.hash.toLowerCase()) throw invalid(`${path}: digest mismatch`);
      listed.delete(path);
    }
    if (listed.size > 0) throw invalid(`the signature lists files missing from the bundle: ${[...listed.keys()].join(', ')}`);
  };
}
