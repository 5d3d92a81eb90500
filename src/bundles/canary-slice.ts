// Which requests a canary decides. Deterministic, so an object is always in or out of the
// slice (every replica, every retry, every update of the same object):
//
// - percent: a stable hash (sha256) of "<namespace>/<name>" mapped onto 10 000 buckets; the
//   object is in when its bucket is below percent × 100. The name is the request's name,
//   else the object's metadata.name, else its generateName (a CREATE that lets the API
//   server pick the name is sliced by its prefix).
// - namespaces: a label selector in kubectl's string form (`env=canary`, `tier in (a,b)`,
//   `!legacy`, `team!=ops`) matched against the request's Namespace labels from the Namespace
//   cache; a request for a cluster-scoped object, or in a Namespace the cache does not know,
//   is out (the active revision, the one already trusted, decides it).
// - both: the intersection.
import { createHash } from 'node:crypto';
import { BouncerError } from '../errors/errors.js';
import { matchLabelSelector, type Labels } from '../gatekeeper/label-selector.js';
import { labelKeyProblem, labelValueProblem } from '../gatekeeper/label-syntax.js';
import type { LabelSelector, LabelSelectorRequirement } from '../gatekeeper/types.js';

export interface SliceSpec {
  readonly namespaces?: string;
  readonly percent?: number;
}

export interface SliceSubject {
  readonly namespace: string;
  readonly name: string;
  /** The request's Namespace labels, undefined when unknown or cluster-scoped. */
  readonly namespaceLabels: Labels | undefined;
}

export type SliceMatcher = (subject: SliceSubject) => boolean;

export const SLICE_BUCKETS = 10_000;

/** The object's bucket in [0, SLICE_BUCKETS): the same for the same namespace/name, everywhere. */
export function sliceBucket(namespace: string, name: string): number {
  const digest = createHash('sha256').update(`${namespace}/${name}`).digest();
  return digest.readUInt32BE(0) % SLICE_BUCKETS;
}

/** Splits on commas outside parentheses. */
function requirementsOf(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new Error('unbalanced parentheses');
  }
  if (depth !== 0) throw new Error('unbalanced parentheses');
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function checkKey(key: string): string {
  const problem = labelKeyProblem(key);
  if (problem) throw new Error(`label key ${JSON.stringify(key)}: ${problem}`);
  return key;
}

function checkValue(value: string): string {
  const problem = labelValueProblem(value);
  if (problem) throw new Error(`label value ${JSON.stringify(value)}: ${problem}`);
  return value;
}

function requirement(text: string): LabelSelectorRequirement {
  let m = /^!\s*([^\s=!(),]+)$/.exec(text);
  if (m) return { key: checkKey(m[1] as string), operator: 'DoesNotExist' };
  m = /^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(text);
  if (m) {
    const values = (m[3] as string).split(',').map((v) => checkValue(v.trim()));
    return { key: checkKey(m[1] as string), operator: m[2] === 'in' ? 'In' : 'NotIn', values };
  }
  m = /^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/.exec(text);
  if (m) return { key: checkKey(m[1] as string), operator: m[2] === '!=' ? 'NotIn' : 'In', values: [checkValue(m[3] as string)] };
  m = /^([^\s=!(),]+)$/.exec(text);
  if (m) return { key: checkKey(m[1] as string), operator: 'Exists' };
  throw new Error(`cannot read ${JSON.stringify(text)}`);
}

/** A label selector in kubectl's string form, as Kubernetes' labels.Parse reads it. */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    if (text.trim() === '') throw new Error('it is empty');
    return { matchExpressions: requirementsOf(text).map(requirement) };
  } catch (err) {
    throw new BouncerError('CONFIG_INVALID', `canary namespace selector ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

/** Compiles a slice once (per candidate), for a check per review. Throws CONFIG_INVALID on a bad selector or percent. */
export function compileSlice(spec: SliceSpec): SliceMatcher {
  const selector = spec.namespaces === undefined ? undefined : parseLabelSelector(spec.namespaces);
  const percent = spec.percent;
  if (percent !== undefined && !(percent > 0 && percent <= 100)) throw new BouncerError('CONFIG_INVALID', `canary percent ${percent} must be in (0, 100]`);
  if (!selector && percent === undefined) throw new BouncerError('CONFIG_INVALID', 'a canary slice needs namespaces=<selector>, percent=<N> or both');
  const threshold = percent === undefined ? SLICE_BUCKETS : Math.round(percent * (SLICE_BUCKETS / 100));
  return (subject) => {
    if (selector && (subject.namespace === '' || !subject.namespaceLabels || !matchLabelSelector(selector, subject.namespaceLabels))) return false;
    return percent === undefined || percent >= 100 || sliceBucket(subject.namespace, subject.name) < threshold;
  };
}
