// What `bouncer import gatekeeper` writes, decided from the documents read: the cleaned
// ConstraintTemplates, each with its Constraints, and what was skipped and why. Pure: no
// files, no cluster.
//
// A document is a template when its apiVersion is templates.gatekeeper.sh/{v1,v1beta1,
// v1alpha1} and its kind ConstraintTemplate (the versions Gatekeeper's CRD serves), a
// constraint when its group is constraints.gatekeeper.sh at v1beta1 or v1alpha1 (the
// versions of the CRDs Gatekeeper generates, frameworks constraint/pkg/client/crds).
// Anything else is ignored and counted by kind, so a directory of manifests, suites and
// samples imports its Gatekeeper objects only.
//
// Skipped, with a warning, never written: a template without a usable name or kind, or
// whose name is not the lowercase of its kind (Gatekeeper refuses it: frameworks client.go
// "is not equal to the lowercase of CRD's Kind"); a constraint without a usable name, or
// whose kind no imported template defines. The same object read twice (a file and the
// cluster, two files) is imported once; two different objects under one name are
// IMPORT_INPUT_INVALID naming both sources, since a cluster can hold only one of them.
import { isDeepStrictEqual } from 'node:util';
import { BouncerError } from '../errors/errors.js';
import { cleanGatekeeperObject } from './import-clean.js';
import type { ImportDocument } from './import-documents.js';

export const TEMPLATE_GROUP = 'templates.gatekeeper.sh';
export const CONSTRAINT_GROUP = 'constraints.gatekeeper.sh';
const TEMPLATE_VERSIONS: ReadonlySet<string> = new Set(['v1', 'v1beta1', 'v1alpha1']);
const CONSTRAINT_VERSIONS: ReadonlySet<string> = new Set(['v1beta1', 'v1alpha1']);

/** A DNS-1123 subdomain, what Kubernetes allows as an object name (and safe as a file name). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ImportedConstraint {
  readonly kind: string;
  readonly name: string;
  /** The cleaned object (import-clean.ts). */
  readonly object: Readonly<Record<string, unknown>>;
  readonly source: string;
}

export interface ImportedTemplate {
  /** metadata.name: the folder gatekeeper/<name>/. */
  readonly name: string;
  /** spec.crd.spec.names.kind: the kind of its constraints. */
  readonly kind: string;
  readonly object: Readonly<Record<string, unknown>>;
  readonly source: string;
  /** Sorted by name. */
  readonly constraints: readonly ImportedConstraint[];
}

export interface ImportSkip {
  readonly what: 'ConstraintTemplate' | 'Constraint';
  /** The template's name, or the constraint's `<kind>/<name>`. */
  readonly id: string;
  readonly source: string;
  readonly reason: string;
}

export interface ImportPlan {
  /** Sorted by name. */
  readonly templates: readonly ImportedTemplate[];
  readonly skipped: readonly ImportSkip[];
  /** Documents that are neither templates nor constraints, counted by kind ("(no kind)" without one). */
  readonly ignored: Readonly<Record<string, number>>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function at(object: unknown, ...path: string[]): unknown {
  let v = object;
  for (const key of path) v = isObject(v) ? v[key] : undefined;
  return v;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'metadata.name is missing';
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return `metadata.name ${JSON.stringify(name)} is not a valid Kubernetes object name (DNS-1123 subdomain)`;
  return undefined;
}

interface Seen<T> {
  readonly value: T;
  readonly source: string;
  readonly object: Readonly<Record<string, unknown>>;
}

/** Keeps the first of identical objects; a different object under the same key is an error. */
function remember<T>(map: Map<string, Seen<T>>, key: string, what: string, entry: Seen<T>): void {
  const earlier = map.get(key);
  if (!earlier) {
    map.set(key, entry);
    return;
  }
  if (isDeepStrictEqual(earlier.object, entry.object)) return;
  throw new BouncerError(
    'IMPORT_INPUT_INVALID',
    `${what} ${key} is read twice with different contents: from ${earlier.source} and from ${entry.source}; import one of them`,
  );
}

type Kind = 'template' | 'constraint' | 'other';

function classify(object: Record<string, unknown>): { kind: Kind; version?: string } {
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (group === TEMPLATE_GROUP && object.kind === 'ConstraintTemplate') return { kind: 'template', version };
  if (group === CONSTRAINT_GROUP && typeof object.kind === 'string') return { kind: 'constraint', version };
  return { kind: 'other' };
}

export function planImport(documents: readonly ImportDocument[]): ImportPlan {
  const skipped: ImportSkip[] = [];
  const ignored: Record<string, number> = {};
  const templates = new Map<string, Seen<{ kind: string }>>();
  const constraints = new Map<string, Seen<{ kind: string; name: string }>>();

  for (const { object, source } of documents) {
    const type = isObject(object) ? classify(object) : { kind: 'other' as const };
    if (!isObject(object) || type.kind === 'other') {
      const kind = isObject(object) && typeof object.kind === 'string' && object.kind !== '' ? object.kind : '(no kind)';
      ignored[kind] = (ignored[kind] ?? 0) + 1;
      continue;
    }
    const name = at(object, 'metadata', 'name');
    if (type.kind === 'template') {
      const id = typeof name === 'string' && name !== '' ? name : '(unnamed)';
      const skip = (reason: string) => skipped.push({ what: 'ConstraintTemplate', id, source, reason });
      const kind = at(object, 'spec', 'crd', 'spec', 'names', 'kind');
      const problem = !TEMPLATE_VERSIONS.has(type.version ?? '')
        ? `${String(object.apiVersion)} is not a version Gatekeeper serves (v1, v1beta1, v1alpha1)`
        : (nameProblem(name) ??
          (typeof kind !== 'string' || kind === ''
            ? 'spec.crd.spec.names.kind is missing'
            : name !== kind.toLowerCase()
              ? `metadata.name must be the lowercase of spec.crd.spec.names.kind ${JSON.stringify(kind)}, as Gatekeeper requires`
              : undefined));
      if (problem) skip(problem);
      else remember(templates, id, 'ConstraintTemplate', { value: { kind: kind as string }, source, object: cleanGatekeeperObject(object) });
      continue;
    }
    const kind = object.kind as string;
    const id = `${kind}/${typeof name === 'string' && name !== '' ? name : '(unnamed)'}`;
    const problem = !CONSTRAINT_VERSIONS.has(type.version ?? '')
      ? `${String(object.apiVersion)} is not a version Gatekeeper serves constraints at (v1beta1, v1alpha1)`
      : nameProblem(name);
    if (problem) skipped.push({ what: 'Constraint', id, source, reason: problem });
    else remember(constraints, id, 'Constraint', { value: { kind, name: name as string }, source, object: cleanGatekeeperObject(object) });
  }

  const byKind = new Map<string, string>([...templates].map(([name, t]) => [t.value.kind, name]));
  const skippedTemplateKinds = new Set(skipped.filter((s) => s.what === 'ConstraintTemplate').map((s) => s.id));
  const grouped = new Map<string, ImportedConstraint[]>();
  for (const [id, c] of constraints) {
    const template = byKind.get(c.value.kind);
    if (!template) {
      const reason = skippedTemplateKinds.has(c.value.kind.toLowerCase())
        ? `its ConstraintTemplate ${c.value.kind.toLowerCase()} was skipped`
        : `no ConstraintTemplate in the input defines kind ${c.value.kind}`;
      skipped.push({ what: 'Constraint', id, source: c.source, reason });
      continue;
    }
    const list = grouped.get(template) ?? [];
    list.push({ kind: c.value.kind, name: c.value.name, object: c.object, source: c.source });
    grouped.set(template, list);
  }

  const out: ImportedTemplate[] = [...templates]
    .map(([name, t]) => ({
      name,
      kind: t.value.kind,
      object: t.object,
      source: t.source,
      constraints: (grouped.get(name) ?? []).sort((a, b) => byText(a.name, b.name)),
    }))
    .sort((a, b) => byText(a.name, b.name));
  return { templates: out, skipped, ignored };
}
