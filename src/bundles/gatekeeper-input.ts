// The policy input of a review with Gatekeeper constraints: the review's own bytes with one
// member added in front, `__bouncer`, holding what bouncer decided before evaluation — which
// constraints of each template matched, and the request's Namespace object. The generated
// template entrypoints read it (src/authoring/gatekeeper-entry.ts); native policies never
// need it. The bytes are spliced, not re-serialized: the review is still parsed once, by the
// engine, with its integers exact. The decoder refuses reviews that bring a `__bouncer`
// member of their own (admission/decode.ts), so it cannot be forged.
import { CONTEXT_MEMBER } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';

export interface GatekeeperContext {
  /** bundle gatekeeper key → constraint kind → names of the matched constraints. */
  readonly gatekeeper: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** The request's Namespace ({} for cluster-scoped requests and unknown Namespaces), as input.review.namespaceObject. */
  readonly namespaceObject: unknown;
}

const encoder = new TextEncoder();
const OPEN_OBJECT = 0x7b;

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The context as the JSON text spliced into the input (computed once per review: it also keys the decision cache). */
export function contextText(context: GatekeeperContext): string {
  return JSON.stringify(context);
}

/** `{"__bouncer": <context>, ...review}`: `review` must be a JSON object (checked by the decoder); `context` is contextText's. */
export function withGatekeeperContext(review: Uint8Array, context: string): Uint8Array {
  let start = 0;
  while (isSpace(review[start])) start++;
  if (review[start] !== OPEN_OBJECT) throw new BouncerError('REVIEW_INVALID', 'the review is not a JSON object');
  let next = start + 1;
  while (isSpace(review[next])) next++;
  const empty = review[next] === 0x7d;
  const prefix = encoder.encode(`{"${CONTEXT_MEMBER}":${context}${empty ? '' : ','}`);
  const out = new Uint8Array(prefix.byteLength + review.byteLength - start - 1);
  out.set(prefix, 0);
  out.set(review.subarray(start + 1), prefix.byteLength);
  return out;
}
