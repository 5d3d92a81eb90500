// Builds every policy set the tests use into real OPA bundles (policy.wasm compiled by the
// pinned OPA CLI), once per run: the starter library in policies/ and each set under
// test/fixtures/policy-sets/.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTools, requireTool } from '../../hack/lib/tools.js';
import { buildBundle } from '../../src/authoring/build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PEM keys: `signer` signed the "signed-*" bundles; `other` signed nothing. */
    signingKeys: { signerPublic: string; otherPublic: string; signerPrivateFile: string };
    /** Policy set name ("starter", or a directory of test/fixtures/policy-sets) → bundle file. */
    bundles: Record<string, string>;
    opa: string;
  }
}

export const POLICY_SETS_DIR = 'test/fixtures/policy-sets';

export default async function setup(project: TestProject): Promise<() => void> {
  const opa = requireTool(ensureTools('opa'), 'OPA');
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-bundles-'));
  const sources: Record<string, string> = { starter: 'policies' };
  for (const name of readdirSync(POLICY_SETS_DIR)) sources[name] = join(POLICY_SETS_DIR, name);
  const bundles: Record<string, string> = {};
  await Promise.all(
    Object.entries(sources).map(async ([name, policiesDir]) => {
      const output = join(dir, `${name}.tar.gz`);
      await buildBundle({ policiesDir, output, opa, revision: `test-${name}-1` });
      bundles[name] = output;
    }),
  );
  // Real OPA-signed bundles: RS256 (OPA's default) and ES256, plus a key that signed nothing.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (k: KeyObject, type: 'pkcs8' | 'spki') => k.export({ type, format: 'pem' }) as string;
  writeFileSync(join(dir, 'rsa.key'), pem(rsa.privateKey, 'pkcs8'));
  writeFileSync(join(dir, 'ec.key'), pem(ec.privateKey, 'pkcs8'));
  for (const [name, keyFile, algorithm] of [['signed-rs256', 'rsa.key', 'RS256'], ['signed-es256', 'ec.key', 'ES256']] as const) {
    const output = join(dir, `${name}.tar.gz`);
    await buildBundle({ policiesDir: join(POLICY_SETS_DIR, 'basic'), output, opa, revision: `test-${name}-1`, signing: { keyFile: join(dir, keyFile), algorithm } });
    bundles[name] = output;
  }
  project.provide('signingKeys', {
    signerPublic: pem(rsa.publicKey, 'spki'),
    otherPublic: pem(other.publicKey, 'spki'),
    signerPrivateFile: join(dir, 'rsa.key'),
  });
  (bundles as Record<string, string>)['signed-es256-public'] = pem(ec.publicKey, 'spki');
  project.provide('bundles', bundles);
  project.provide('opa', opa);
  return () => rmSync(dir, { recursive: true, force: true });
}
