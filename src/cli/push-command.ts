// bouncer push FILE --name NAME [-n NS] [--keep N] [--verification-key F [--verification-alg A]]
// Checks the bundle locally exactly as bouncer will (and its signature when a key is
// given), stores it as a new immutable revision and makes it active.
import { readFileSync } from 'node:fs';
import { loadBundle } from '../bundles/bundle.js';
import { verifierFromKeyFile } from '../bundles/key-file-verifier.js';
import { BUNDLE_KEY, MAX_CONFIGMAP_DATA } from '../cluster/bundle-objects.js';
import { BouncerError } from '../errors/errors.js';
import { clusterArgs, storeFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';
import { ROLLOUT_OPTIONS, ROLLOUT_USAGE, candidateRequest } from './rollout-flags.js';

const USAGE = `usage: bouncer push FILE --name NAME [-n NAMESPACE] [--keep N] [--verification-key PEM [--verification-alg RS256] [--verification-key-id KID]] ${ROLLOUT_USAGE}`;

export async function pushCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = clusterArgs(
    ctx,
    { name: { type: 'string' }, keep: { type: 'string' }, 'verification-key': { type: 'string' }, 'verification-alg': { type: 'string' }, 'verification-key-id': { type: 'string' }, ...ROLLOUT_OPTIONS },
    USAGE,
  );
  const [file] = positionals;
  if (!file || positionals.length > 1 || !values.name) throw new BouncerError('CONFIG_INVALID', `push needs one bundle file and --name\n${USAGE}`);
  const keep = values.keep === undefined ? 10 : Number(values.keep);
  if (!Number.isInteger(keep) || keep < 1) throw new BouncerError('CONFIG_INVALID', '--keep must be a positive integer');
  const candidate = candidateRequest(values);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new BouncerError('INPUT_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  if (bytes.byteLength + BUNDLE_KEY.length > MAX_CONFIGMAP_DATA) {
    throw new BouncerError(
      'BUNDLE_TOO_LARGE',
      `${file} is ${bytes.byteLength} bytes; a ConfigMap holds at most ${MAX_CONFIGMAP_DATA - BUNDLE_KEY.length} (split the policies into several bundles)`,
    );
  }
  // The same variables as bouncer serve's (docs/configuration.md), so a check here is the check there.
  const keyFile = values['verification-key'] ?? ctx.env.BOUNCER_VERIFICATION_KEY;
  const keyId = values['verification-key-id'] ?? ctx.env.BOUNCER_VERIFICATION_KEY_ID;
  const algorithm = values['verification-alg'] ?? ctx.env.BOUNCER_VERIFICATION_ALG ?? 'RS256';
  const verify = keyFile ? verifierFromKeyFile({ keyFile, algorithm, ...(keyId ? { keyId } : {}) }) : undefined;
  const bundle = await loadBundle(values.name, bytes, verify ? { verify } : {});
  const store = storeFor(ctx, values);
  const { pointer, pruned } = await store.push(values.name, bytes, bundle.revision, { keep, ...(candidate ? { candidate } : {}) });
  const staged = pointer.canary ?? pointer.shadow;
  if (candidate && staged) {
    ctx.stdout(
      `${JSON.stringify({ bundle: pointer.bundle, namespace: store.namespace, mode: candidate.mode, sequence: staged.sequence, revision: staged.revision, sha256: staged.digest, active: pointer.sequence, startedAt: new Date(staged.startedAt).toISOString(), ...(pointer.canary ? { slice: pointer.canary.slice, policy: pointer.canary.policy } : {}), pruned })}\n`,
    );
    return EXIT.ok;
  }
  ctx.stdout(
    `${JSON.stringify({ bundle: pointer.bundle, namespace: store.namespace, sequence: pointer.sequence, revision: pointer.revision, sha256: pointer.digest, publishedAt: new Date(pointer.publishedAt).toISOString(), pruned })}\n`,
  );
  return EXIT.ok;
}
