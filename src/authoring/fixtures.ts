// Fixture cases for `bouncer test`: an AdmissionRequest (partial; the rest is filled in
// the way the API server would) and the expected outcome. Schema in policies/README.md.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionResponse, JsonPatchOperation } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { lookupKind, type ResourceTable } from './resource-table.js';
import { parseJson } from '../json/parse-json.js';

export interface FixtureExpectation {
  readonly allowed?: boolean;
  readonly messages?: readonly string[];
  readonly warnings?: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Fixture {
  readonly file: string;
  readonly name: string;
  readonly endpoint: Endpoint;
  readonly review: Record<string, unknown>;
  readonly expect: FixtureExpectation;
}

type Raw = Record<string, unknown>;

/**
 * The resource a request for `kind` is made to, the way the API server names it: the kind's
 * own resource, or for a subresource the resource that has a subresource of that name and
 * kind (Eviction + eviction → pods). Undefined when the table has none, or several
 * (autoscaling/Scale + scale): the fixture then gives request.resource itself.
 */
export function resourceFor(
  kind: { readonly group: string; readonly kind: string },
  subResource = '',
  table: ResourceTable = BUILTIN_RESOURCES,
): { group: string; version: string; resource: string } | undefined {
  const matches =
    subResource === ''
      ? lookupKind(table, kind.group, kind.kind)
      : table.resources.filter((r) => r.subresources.some((s) => s.name === subResource && s.kind === kind.kind && s.group === kind.group));
  const [only] = matches;
  return matches.length === 1 && only ? { group: only.group, version: only.versions[0] ?? '', resource: only.resource } : undefined;
}

function invalid(file: string, message: string): BouncerError {
  return new BouncerError('POLICY_SOURCE_INVALID', `${file}: ${message}`);
}

/** A complete AdmissionReview from a fixture's partial request. */
export function completeReview(file: string, request: Raw): Record<string, unknown> {
  const kind = request.kind as { group?: string; version?: string; kind?: string } | undefined;
  if (!kind?.kind || kind.version === undefined) throw invalid(file, 'request.kind needs kind and version');
  const object = request.object as { metadata?: { name?: string; namespace?: string } } | undefined;
  const old = request.oldObject as { metadata?: { name?: string; namespace?: string } } | undefined;
  const meta = object?.metadata ?? old?.metadata;
  const group = kind.group ?? '';
  const subResource = typeof request.subResource === 'string' ? request.subResource : '';
  const found = resourceFor({ group, kind: kind.kind }, subResource);
  const resource = found === undefined ? undefined : subResource === '' ? { ...found, version: kind.version } : found;
  if (resource === undefined && request.resource === undefined) {
    throw invalid(file, `request.resource is needed: ${group === '' ? kind.kind : `${group}/${kind.kind}`}${subResource ? ` on subresource ${subResource}` : ''} names no single built-in resource`);
  }
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      resource,
      requestKind: { group: kind.group ?? '', ...kind },
      userInfo: { username: 'fixture-user', groups: ['system:authenticated'] },
      name: meta?.name,
      namespace: meta?.namespace ?? (request.namespace as string | undefined),
      object: null,
      oldObject: null,
      dryRun: false,
      ...request,
      kind: { group: kind.group ?? '', version: kind.version, kind: kind.kind },
    },
  };
}

export function parseFixture(file: string, text: string): Fixture {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new BouncerError('POLICY_SOURCE_INVALID', `${file}: not valid YAML: ${(cause as Error).message}`, { cause });
  }
  if (typeof raw !== 'object' || raw === null) throw invalid(file, 'a fixture is a YAML mapping');
  const f = raw as Raw;
  const endpoint = f.endpoint ?? 'validate';
  if (endpoint !== 'validate' && endpoint !== 'mutate') throw invalid(file, 'endpoint must be validate or mutate');
  if (typeof f.request !== 'object' || f.request === null) throw invalid(file, 'request is required');
  if (typeof f.expect !== 'object' || f.expect === null) throw invalid(file, 'expect is required');
  return {
    file,
    name: typeof f.name === 'string' ? f.name : file,
    endpoint,
    review: completeReview(file, f.request as Raw),
    expect: f.expect as FixtureExpectation,
  };
}

/** Every fixtures/*.yaml under each policy directory, in a stable order. */
export function loadFixtures(policiesDir: string): Fixture[] {
  const out: Fixture[] = [];
  for (const entry of readdirSync(policiesDir).sort()) {
    const dir = join(policiesDir, entry, 'fixtures');
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!/\.ya?ml$/.test(name)) continue;
      const file = join(dir, name);
      out.push(parseFixture(relative(process.cwd(), file), readFileSync(file, 'utf8')));
    }
  }
  return out;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Raw)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Patch operations compared as a collection: policies emit independent operations as a set. */
function samePatch(a: readonly unknown[], b: readonly unknown[]): boolean {
  const key = (ops: readonly unknown[]) => ops.map(canonicalJson).sort().join('\n');
  return a.length === b.length && key(a) === key(b);
}

/** What differs between a response and a fixture's expectation; empty when it passes. */
export function checkExpectation(expect: FixtureExpectation, response: AdmissionResponse): string[] {
  const problems: string[] = [];
  if (expect.allowed !== undefined && response.allowed !== expect.allowed) {
    problems.push(`expected allowed=${expect.allowed}, got allowed=${response.allowed}${response.status ? ` (${response.status.message})` : ''}`);
  }
  const message = response.status?.message ?? '';
  for (const m of expect.messages ?? []) if (!message.includes(m)) problems.push(`denial message lacks ${JSON.stringify(m)}: ${JSON.stringify(message)}`);
  const warnings = response.warnings ?? [];
  if (expect.warnings?.length === 0 && warnings.length > 0) problems.push(`expected no warnings, got ${JSON.stringify(warnings)}`);
  for (const w of expect.warnings ?? []) if (!warnings.some((x) => x.includes(w))) problems.push(`no warning contains ${JSON.stringify(w)}: ${JSON.stringify(warnings)}`);
  if (expect.patch !== undefined) {
    const actual = (response.patch ? parseJson(Buffer.from(response.patch, 'base64').toString('utf8')) : []) as unknown[];
    if (!samePatch(actual, expect.patch)) problems.push(`patch differs: expected ${JSON.stringify(expect.patch)}, got ${JSON.stringify(actual)}`);
  }
  for (const [key, want] of Object.entries(expect.annotations ?? {})) {
    const got = response.auditAnnotations?.[key];
    if (got === undefined || !got.includes(want)) problems.push(`audit annotation ${key} is ${JSON.stringify(got)}, expected it to contain ${JSON.stringify(want)}`);
  }
  return problems;
}
