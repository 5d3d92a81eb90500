// Per-policy metadata, carried from each policy's `# METADATA` annotation into the
// bundle manifest (`metadata.bouncer.policies`) by `bouncer build`, and checked again
// when a bundle is loaded: a bundle is untrusted input until it is.
import type { Operation } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';
import { parseAuditMark, type AuditMark } from './audit-mark.js';

export type Enforcement = 'deny' | 'warn' | 'dryrun';
export type FailureMode = 'fail-closed' | 'fail-open';

export interface KindMatcher {
  /** API group, '' for the core group, '*' for any. */
  readonly group: string;
  /** Kind, '*' for any. */
  readonly kind: string;
  /**
   * The resource (plural) requests for this kind are sent and matched by, e.g. "pods".
   * Written by `bouncer build` from the table of built-in kinds, or given in the scope for
   * a custom resource; absent for wildcards and in bundles built before it existed, which
   * match on the request's kind instead.
   */
  readonly resource?: string;
}

export interface PolicyScope {
  readonly kinds: readonly KindMatcher[];
  readonly operations: readonly Operation[];
  /** '' is the main resource; e.g. 'ephemeralcontainers' for pods/ephemeralcontainers. */
  readonly subresources: readonly string[];
  readonly namespaces: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
}

export interface PolicyMetadata {
  readonly id: string;
  /** Rego package path under data, e.g. "policies.disallow_privileged". */
  readonly package: string;
  readonly title: string;
  readonly description: string;
  readonly enforcement: Enforcement;
  readonly failure: FailureMode;
  readonly scope: PolicyScope;
  /** Entrypoints in the bundle's policy.wasm; a policy has at least one. */
  readonly entrypoints: { readonly validate?: string; readonly mutate?: string };
  /** Present when the background audit must skip the policy, and why (audit-mark.ts). */
  readonly audit?: AuditMark;
}

export const METADATA_SCHEMA = 1;

export const DEFAULT_OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE'];
const OPERATIONS = new Set<string>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT', '*']);
const ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

type Raw = Record<string, unknown>;

function fail(id: string, message: string): never {
  throw new BouncerError('BUNDLE_MANIFEST_INVALID', `policy ${id}: ${message}`);
}

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(id: string, field: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(id, `${field} must be a list of strings`);
  return v as string[];
}

/** "Pod" → core group; "apps/Deployment" → group apps; "*" or "apps/*" → wildcards. */
export function parseKind(text: string): KindMatcher {
  const slash = text.lastIndexOf('/');
  return slash < 0 ? { group: text === '*' ? '*' : '', kind: text } : { group: text.slice(0, slash), kind: text.slice(slash + 1) };
}

export function formatKind(k: KindMatcher): string {
  return k.group === '' ? k.kind : `${k.group}/${k.kind}`;
}

const RESOURCE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** One entry of scope.kinds: "group/Kind", or {kind: "group/Kind", resource: "plural"}. */
function parseKindEntry(id: string, v: unknown): KindMatcher {
  if (typeof v === 'string') return parseKind(v);
  if (!isObject(v) || typeof v.kind !== 'string') fail(id, 'each of scope.kinds is "group/Kind" or {kind: "group/Kind", resource: "plural"}');
  const kind = parseKind(v.kind);
  if (v.resource === undefined || v.resource === null) return kind;
  if (typeof v.resource !== 'string' || !RESOURCE.test(v.resource)) fail(id, `scope.kinds ${v.kind}: resource must be a lowercase resource name such as "crontabs"`);
  if (kind.kind === '*') fail(id, `scope.kinds ${v.kind}: a wildcard kind takes no resource`);
  return { ...kind, resource: v.resource };
}

function kindList(id: string, v: unknown): KindMatcher[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) fail(id, 'scope.kinds must be a list');
  return v.map((entry) => parseKindEntry(id, entry));
}

function enumValue<T extends string>(id: string, field: string, v: unknown, allowed: readonly T[], fallback: T): T {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(id, `${field} must be one of ${allowed.join(', ')}`);
  return v as T;
}

/** Checks one entry of `metadata.bouncer.policies`, applying the documented defaults. */
export function parsePolicyMetadata(raw: unknown): PolicyMetadata {
  if (!isObject(raw)) fail('?', 'metadata entry must be an object');
  const id = typeof raw.id === 'string' ? raw.id : '';
  if (!ID.test(id)) fail(id || '?', 'id must be a DNS label (lowercase letters, digits, -)');
  if (typeof raw.package !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(raw.package)) fail(id, 'package must be a dotted Rego package path');
  const scope = isObject(raw.scope) ? raw.scope : {};
  const operations = stringList(id, 'scope.operations', scope.operations) ?? DEFAULT_OPERATIONS;
  for (const op of operations) if (!OPERATIONS.has(op)) fail(id, `unknown operation ${op}`);
  const namespaces = isObject(scope.namespaces) ? scope.namespaces : {};
  const include = stringList(id, 'scope.namespaces.include', namespaces.include);
  const exclude = stringList(id, 'scope.namespaces.exclude', namespaces.exclude);
  const entrypoints = isObject(raw.entrypoints) ? raw.entrypoints : {};
  const validate = typeof entrypoints.validate === 'string' ? entrypoints.validate : undefined;
  const mutate = typeof entrypoints.mutate === 'string' ? entrypoints.mutate : undefined;
  if (!validate && !mutate) fail(id, 'has neither a validate nor a mutate entrypoint');
  const audit = parseAuditMark(raw.audit, `policy ${id}`);
  return {
    id,
    package: raw.package,
    title: typeof raw.title === 'string' ? raw.title : id,
    description: typeof raw.description === 'string' ? raw.description : '',
    enforcement: enumValue(id, 'enforcement', raw.enforcement, ['deny', 'warn', 'dryrun'] as const, 'deny'),
    failure: enumValue(id, 'failure', raw.failure, ['fail-closed', 'fail-open'] as const, 'fail-closed'),
    scope: {
      kinds: kindList(id, scope.kinds) ?? [parseKind('*')],
      operations: (operations as string[]).includes('*') ? ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] : (operations as Operation[]),
      subresources: stringList(id, 'scope.subresources', scope.subresources) ?? [''],
      namespaces: { ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) },
    },
    entrypoints: { ...(validate ? { validate } : {}), ...(mutate ? { mutate } : {}) },
    ...(audit ? { audit } : {}),
  };
}

/** The manifest form of metadata (kinds as "group/Kind" text, or with their resource), read back by parsePolicyMetadata. */
export function serializePolicyMetadata(meta: PolicyMetadata): Record<string, unknown> {
  const kinds = meta.scope.kinds.map((k) => (k.resource === undefined ? formatKind(k) : { kind: formatKind(k), resource: k.resource }));
  return { ...meta, scope: { ...meta.scope, kinds } };
}
