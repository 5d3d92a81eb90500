// Signs bundle files the way `opa build --signing-key` does, so tests can make bundles
// that are validly signed yet broken in other ways (invalid WASM, bad data). The verifier
// itself is tested against bundles signed by the real OPA CLI.
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { canonicalJson } from '../../src/bundles/canonical-json.js';

const structured = (path: string) => /(^|\/)(data\.json|\.manifest)$/.test(path);

export async function signFiles(files: Map<string, Uint8Array>, privateKeyPem: string, algorithm = 'RS256'): Promise<Map<string, Uint8Array>> {
  files.delete('/.signatures.json');
  const list = [...files].map(([path, content]) => ({
    name: path.replace(/^\//, ''),
    hash: createHash('sha256')
      .update(structured(path) ? canonicalJson(Buffer.from(content).toString('utf8')) : content)
      .digest('hex'),
    algorithm: 'SHA-256',
  }));
  const jws = await new CompactSign(Buffer.from(JSON.stringify({ files: list })))
    .setProtectedHeader({ alg: algorithm, kid: 'default', typ: 'JWT' })
    .sign(createPrivateKey(privateKeyPem));
  files.set('/.signatures.json', Buffer.from(JSON.stringify({ signatures: [jws] })));
  return files;
}

export function otherPrivateKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}
