// bouncer review [--bundle FILE | --policies DIR] [--endpoint validate|mutate] [--namespaces FILE]... FILE...
// Evaluates AdmissionReview documents exactly as the server does and prints one
// AdmissionReview response per input as JSON lines. Exit 0: all allowed; 1: any denied;
// 2: an input could not be evaluated.
import { parseArgs } from 'node:util';
import { checkReview } from '../admission/decode.js';
import { rejectedReview, toReview, type Endpoint } from '../admission/respond.js';
import { readDocuments } from '../authoring/review-documents.js';
import { createPolicyRegistry } from '../bundles/registry.js';
import { isBouncerError } from '../errors/errors.js';
import { createReviewer } from '../review/reviewer.js';
import { EXIT, type CliContext } from './context.js';
import { readNamespaceFiles } from './namespace-files.js';
import { loadPolicySource } from './policy-source.js';

export const REVIEW_USAGE =
  'usage: bouncer review [--bundle FILE | --policies DIR] [--endpoint validate|mutate] [--namespaces FILE]... FILE... (- for stdin; --namespaces: Namespace objects for Gatekeeper constraints)';

export async function reviewCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...ctx.args],
    options: { bundle: { type: 'string' }, policies: { type: 'string' }, endpoint: { type: 'string' }, opa: { type: 'string' }, namespaces: { type: 'string', multiple: true } },
    allowPositionals: true,
  });
  const endpoint = (values.endpoint ?? 'validate') as Endpoint;
  if (endpoint !== 'validate' && endpoint !== 'mutate') throw new Error(`--endpoint must be validate or mutate\n${REVIEW_USAGE}`);
  if (positionals.length === 0) throw new Error(`no input files\n${REVIEW_USAGE}`);
  if (values.bundle && values.policies) throw new Error(`give --bundle or --policies, not both\n${REVIEW_USAGE}`);
  const documents = positionals.flatMap((file) => readDocuments(file, ctx.stdin));
  const bundle = await loadPolicySource(ctx, values);
  const namespaces = values.namespaces ? readNamespaceFiles(values.namespaces, ctx.stdin) : undefined;
  const reviewer = createReviewer({ policies: createPolicyRegistry([bundle]).current, ...(namespaces ? { namespaces } : {}) });
  let exit: number = EXIT.ok;
  for (const doc of documents) {
    try {
      const review = checkReview(doc.value);
      const decision = await reviewer.review(endpoint, review, doc.raw);
      ctx.stdout(`${JSON.stringify(toReview(review.request.uid, endpoint, review.request.operation, decision))}\n`);
      if (!decision.allowed && exit === EXIT.ok) exit = EXIT.failed;
    } catch (err) {
      if (!isBouncerError(err)) throw err;
      const uid = (doc.value as { request?: { uid?: unknown } } | null)?.request?.uid;
      ctx.stdout(`${JSON.stringify(rejectedReview(typeof uid === 'string' ? uid : '', endpoint, err))}\n`);
      ctx.stderr(`${doc.source}: ${err.code}: ${err.message}\n`);
      exit = EXIT.error;
    }
  }
  return exit;
}
