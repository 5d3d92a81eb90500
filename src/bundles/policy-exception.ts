// Policy exceptions: "exempt these objects (or this requester) from policy P until D, because
// T". Authored as `PolicyException` documents under policies/exceptions/, checked and
// normalised by `bouncer build` into the bundle manifest (`metadata.bouncer.exceptions`), and
// checked again by the same parser when a bundle is loaded — so an exception is versioned,
// signed and rolled back with the policies it exempts (docs/exceptions.md).
//
// The parser refuses, with the field named: an exception naming no policy, a missing or
// unparseable expiresAt, a match that restricts nothing (namespaces, names, namespaceSelector
// or subjects must narrow it: kinds and objectSelector alone do not, since whoever creates an
// object chooses its labels), malformed selectors and wildcards. Policies named must exist in
// the same bundle: an exception never reaches another bundle's policies.
import type { LabelSelector } from '../gatekeeper/types.js';
import { parseConstraintMatch } from '../gatekeeper/parse-match.js';
import { BouncerError, type ErrorCode } from '../errors/errors.js';
import { formatKind, parseKind, type KindMatcher } from './policy-metadata.js';

export const EXCEPTION_API_VERSION = 'bouncer.dev/v1alpha1';
export const EXCEPTION_KIND = 'PolicyException';
/** The longest an exception may be granted for unless configured otherwise (--exception-max-days). */
export const DEFAULT_EXCEPTION_MAX_DAYS = 90;
const DAY_MS = 86_400_000;

export interface ExceptionSubjects {
  /** Usernames as the API server authenticates them (exact, or a wildcard with * at its start or end). */
  readonly users: readonly string[];
  readonly groups: readonly string[];
  /** "namespace/name": the user system:serviceaccount:<namespace>:<name>. */
  readonly serviceAccounts: readonly string[];
}

/** Every given field must match (AND); within a list any entry may (OR). */
export interface ExceptionMatch {
  /** Namespaces (Gatekeeper wildcards: "team-*", "*-dev"); a Namespace object matches by its own name. */
  readonly namespaces?: readonly string[];
  /** Object names (wildcards; a glob with a fixed start also matches metadata.generateName). */
  readonly names?: readonly string[];
  readonly kinds?: readonly KindMatcher[];
  readonly namespaceSelector?: LabelSelector;
  readonly objectSelector?: LabelSelector;
  readonly subjects?: ExceptionSubjects;
}

export interface PolicyException {
  readonly name: string;
  /** Native policy ids and Gatekeeper constraint ids ("<Kind>/<name>"), as decisions name them. */
  readonly policies: readonly string[];
  readonly match: ExceptionMatch;
  readonly reason: string;
  readonly ticket?: string;
  /** RFC 3339, as written; the exception applies while the review's time is before it. */
  readonly expiresAt: string;
  /** expiresAt in epoch milliseconds. */
  readonly expiresAtMs: number;
}

type Raw = Record<string, unknown>;

const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const WILDCARD = /^\*?[-:a-z0-9.]*\*?$/;
const USER = /^\*?[^*\s]+\*?$|^\*$/;
const SERVICE_ACCOUNT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
// RFC 3339 with a zone (Z or an offset): a date without a zone would depend on the reader's.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const SPEC_FIELDS = ['policies', 'match', 'reason', 'ticket', 'expiresAt'];
const MATCH_FIELDS = ['namespaces', 'names', 'kinds', 'namespaceSelector', 'objectSelector', 'subjects'];

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ExceptionContext {
  /** Where the text came from, for messages (a file, "metadata.bouncer.exceptions[0]"). */
  readonly where: string;
  readonly code: ErrorCode;
  /** Policy ids the exception may name (the bundle's native policies and constraints). */
  readonly known: ReadonlySet<string>;
}

function failer(ctx: ExceptionContext, name: string) {
  return (field: string, problem: string): never => {
    throw new BouncerError(ctx.code, `${ctx.where}: exception ${name}: ${field}: ${problem}`, { details: { exception: name, field } });
  };
}

function strings(v: unknown, field: string, fail: (f: string, p: string) => never, pattern?: RegExp, hint?: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return fail(field, 'must be a list of strings');
  if (v.length === 0) fail(field, 'must not be empty (leave the field out instead)');
  (v as string[]).forEach((s, i) => {
    if (pattern && !pattern.test(s)) fail(`${field}[${i}]`, `${JSON.stringify(s)} ${hint ?? 'is malformed'}`);
  });
  return v as string[];
}

function selector(v: unknown, field: string, ctx: ExceptionContext, name: string): LabelSelector {
  // Gatekeeper's label selector checks (operators, values per operator, key and value syntax).
  try {
    const parsed = parseConstraintMatch({ labelSelector: v }, `${ctx.where}: exception ${name}`).labelSelector;
    return parsed ?? {};
  } catch (err) {
    throw new BouncerError(ctx.code, (err as Error).message.replace('spec.match.labelSelector', `spec.match.${field}`), { details: { exception: name, field } });
  }
}

const selects = (s: LabelSelector | undefined): boolean => s !== undefined && (Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions?.length ?? 0) > 0);
const narrows = (list: readonly string[] | undefined): boolean => list !== undefined && !list.includes('*');

function subjects(v: unknown, fail: (f: string, p: string) => never): ExceptionSubjects {
  if (!isObject(v)) return fail('spec.match.subjects', 'must be an object with users, groups and/or serviceAccounts');
  const unknown = Object.keys(v).filter((k) => !['users', 'groups', 'serviceAccounts'].includes(k));
  if (unknown.length > 0) fail(`spec.match.subjects.${unknown[0]}`, 'unknown field (subjects has users, groups, serviceAccounts)');
  const list = (key: string, pattern: RegExp, hint: string) => (v[key] === undefined ? [] : strings(v[key], `spec.match.subjects.${key}`, fail, pattern, hint));
  const out = {
    users: list('users', USER, 'is not a username (a * only at its start or end)'),
    groups: list('groups', USER, 'is not a group name (a * only at its start or end)'),
    serviceAccounts: list('serviceAccounts', SERVICE_ACCOUNT, 'is not "namespace/name"'),
  };
  if (out.users.length + out.groups.length + out.serviceAccounts.length === 0) fail('spec.match.subjects', 'names no user, group or service account');
  return out;
}

function parseMatch(v: unknown, ctx: ExceptionContext, name: string, fail: (f: string, p: string) => never): ExceptionMatch {
  if (!isObject(v)) return fail('spec.match', 'is required: an object with namespaces, names, kinds, namespaceSelector, objectSelector and/or subjects');
  const unknown = Object.keys(v).filter((k) => !MATCH_FIELDS.includes(k));
  if (unknown.length > 0) fail(`spec.match.${unknown[0]}`, `unknown field (match has ${MATCH_FIELDS.join(', ')})`);
  const wildcard = 'is not a name with an optional * at its start or end (e.g. "team-*", "*-dev")';
  const m: { -readonly [K in keyof ExceptionMatch]: ExceptionMatch[K] } = {};
  if (v.namespaces !== undefined) m.namespaces = strings(v.namespaces, 'spec.match.namespaces', fail, WILDCARD, wildcard);
  if (v.names !== undefined) m.names = strings(v.names, 'spec.match.names', fail, WILDCARD, wildcard);
  if (v.kinds !== undefined) m.kinds = strings(v.kinds, 'spec.match.kinds', fail, /^([a-z0-9.-]+\/|\*\/)?([A-Z][A-Za-z0-9]*|\*)$/, 'is not "Kind" or "group/Kind"').map(parseKind);
  if (v.namespaceSelector !== undefined) m.namespaceSelector = selector(v.namespaceSelector, 'namespaceSelector', ctx, name);
  if (v.objectSelector !== undefined) m.objectSelector = selector(v.objectSelector, 'objectSelector', ctx, name);
  if (v.subjects !== undefined) m.subjects = subjects(v.subjects, fail);
  if (!narrows(m.namespaces) && !narrows(m.names) && !selects(m.namespaceSelector) && m.subjects === undefined) {
    fail('spec.match', 'is over-broad: it must be restricted by namespaces, names, namespaceSelector or subjects (kinds and objectSelector alone do not restrict it: whoever creates an object sets its labels)');
  }
  return m;
}

/**
 * One exception from its source form (`{apiVersion, kind, metadata: {name}, spec}`); throws
 * `ctx.code` naming the exception and the field.
 */
export function parsePolicyException(raw: unknown, ctx: ExceptionContext): PolicyException {
  if (!isObject(raw)) throw new BouncerError(ctx.code, `${ctx.where}: an exception must be an object`);
  const name = isObject(raw.metadata) && typeof raw.metadata.name === 'string' ? raw.metadata.name : '';
  const fail = failer(ctx, name || '?');
  if (!NAME.test(name)) fail('metadata.name', 'is required: a DNS subdomain (lowercase letters, digits, - and .)');
  if (raw.apiVersion !== EXCEPTION_API_VERSION || raw.kind !== EXCEPTION_KIND) fail('apiVersion/kind', `must be ${EXCEPTION_API_VERSION} ${EXCEPTION_KIND}`);
  const spec = raw.spec;
  if (!isObject(spec)) return fail('spec', 'is required');
  const unknown = Object.keys(spec).filter((k) => !SPEC_FIELDS.includes(k));
  if (unknown.length > 0) fail(`spec.${unknown[0]}`, `unknown field (spec has ${SPEC_FIELDS.join(', ')})`);
  const policies = spec.policies === undefined ? fail('spec.policies', 'is required: the ids of the policies exempted') : strings(spec.policies, 'spec.policies', fail);
  for (const p of policies) {
    if (!ctx.known.has(p)) fail('spec.policies', `${JSON.stringify(p)} is not a policy or constraint of this bundle (native policies by id, constraints as "<Kind>/<name>")`);
  }
  if (typeof spec.reason !== 'string' || spec.reason.trim() === '') fail('spec.reason', 'is required: why the exception is granted');
  if (spec.ticket !== undefined && (typeof spec.ticket !== 'string' || spec.ticket === '')) fail('spec.ticket', 'must be a non-empty string');
  // YAML reads an unquoted timestamp as a Date; the manifest carries the text.
  const expires = spec.expiresAt instanceof Date ? spec.expiresAt.toISOString() : spec.expiresAt;
  if (expires === undefined) fail('spec.expiresAt', 'is required: every exception expires (RFC 3339, e.g. 2027-01-31T00:00:00Z)');
  if (typeof expires !== 'string' || !RFC3339.test(expires) || Number.isNaN(Date.parse(expires))) fail('spec.expiresAt', `${JSON.stringify(expires)} is not an RFC 3339 time with a zone (e.g. 2027-01-31T00:00:00Z)`);
  const match = parseMatch(spec.match, ctx, name, fail);
  return {
    name,
    policies: [...new Set(policies)],
    match,
    reason: spec.reason as string,
    ...(spec.ticket === undefined ? {} : { ticket: spec.ticket as string }),
    expiresAt: expires as string,
    expiresAtMs: Date.parse(expires as string),
  };
}

/** The manifest form, read back by parsePolicyException. */
export function serializePolicyException(e: PolicyException): Record<string, unknown> {
  const { kinds, subjects, ...match } = e.match;
  // Only the subject lists given: the parser refuses an empty one.
  const given = subjects ? Object.fromEntries(Object.entries(subjects).filter(([, list]) => (list as readonly string[]).length > 0)) : undefined;
  return {
    apiVersion: EXCEPTION_API_VERSION,
    kind: EXCEPTION_KIND,
    metadata: { name: e.name },
    spec: {
      policies: e.policies,
      match: { ...match, ...(kinds ? { kinds: kinds.map(formatKind) } : {}), ...(given ? { subjects: given } : {}) },
      reason: e.reason,
      ...(e.ticket === undefined ? {} : { ticket: e.ticket }),
      expiresAt: e.expiresAt,
    },
  };
}

/** Checks `metadata.bouncer.exceptions`: a list of exceptions with distinct names naming `known` policies; ordered by name. */
export function parseExceptionList(raw: unknown, known: ReadonlySet<string>, code: ErrorCode, where: string): PolicyException[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new BouncerError(code, `${where} must be a list`);
  const out = raw.map((e, i) => parsePolicyException(e, { where: `${where}[${i}]`, code, known }));
  const names = new Set<string>();
  for (const e of out) {
    if (names.has(e.name)) throw new BouncerError(code, `${where}: exception ${e.name} appears twice`);
    names.add(e.name);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The horizon rule, at build and at load: no exception may expire more than `maxDays` after
 * `now` (an exception is a dated, reviewed grant, not a silent permanent carve-out).
 */
export function checkExceptionHorizon(exceptions: readonly PolicyException[], now: number, maxDays: number, code: ErrorCode): void {
  const limit = now + maxDays * DAY_MS;
  for (const e of exceptions) {
    if (e.expiresAtMs > limit) {
      throw new BouncerError(code, `exception ${e.name}: expiresAt ${e.expiresAt} is more than ${maxDays} days away (--exception-max-days); grant a shorter exception and renew it`, {
        details: { exception: e.name, expiresAt: e.expiresAt, maxDays },
      });
    }
  }
}
