// A constraint's spec.match read from YAML/JSON and checked as the API server and Gatekeeper
// check it: the constraint CRD's match schema (pkg/target/matchcrd_constant.go: the wildcard
// pattern, the source enum) and ValidateConstraint's label selector validation
// (pkg/target/target.go). Stricter than Gatekeeper where its leniency widens or narrows a
// match without a word: an unknown scope (Gatekeeper matches it as `*`) and an unknown field
// (the API server prunes it, so a misspelt `labelselector` matches everything) are refused.
import { BouncerError } from '../errors/errors.js';
import { labelKeyProblem, labelValueProblem } from './label-syntax.js';
import type { ConstraintMatch, KindSelector, LabelSelector, LabelSelectorRequirement } from './types.js';

/** The CRD's pattern for name, namespaces and excludedNamespaces (pkg/wildcard/wildcard.go). */
const WILDCARD = /^\*?[-:a-z0-9]*\*?$/;
const SCOPES = ['*', 'Cluster', 'Namespaced'] as const;
const SOURCES = ['All', 'Original', 'Generated'] as const;
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const MATCH_FIELDS = ['kinds', 'scope', 'namespaces', 'excludedNamespaces', 'labelSelector', 'namespaceSelector', 'name', 'source'];

type Raw = Record<string, unknown>;

/**
 * The ConstraintMatch of a raw spec.match (absent or null: match everything). Throws
 * POLICY_SOURCE_INVALID naming `where` (the file and constraint) and the field, e.g.
 * `spec.match.labelSelector.matchExpressions[0].values`.
 */
export function parseConstraintMatch(raw: unknown, where: string): ConstraintMatch {
  const fail = (field: string, problem: string): never => {
    throw new BouncerError('POLICY_SOURCE_INVALID', `${where}: ${field}: ${problem}`);
  };
  const at = 'spec.match';
  if (raw === undefined || raw === null) return {};
  const m = record(raw, at, fail);
  onlyFields(m, MATCH_FIELDS, at, fail);
  const out: { -readonly [K in keyof ConstraintMatch]: ConstraintMatch[K] } = {};
  if (present(m.kinds)) out.kinds = list(m.kinds, `${at}.kinds`, fail).map((k, i) => kindSelector(k, `${at}.kinds[${i}]`, fail));
  const scope = oneOf(m.scope, SCOPES, `${at}.scope`, fail);
  if (scope !== undefined) out.scope = scope;
  for (const field of ['namespaces', 'excludedNamespaces'] as const) {
    if (present(m[field])) out[field] = strings(m[field], `${at}.${field}`, fail).map((p, i) => wildcard(p, `${at}.${field}[${i}]`, fail));
  }
  if (present(m.labelSelector)) out.labelSelector = labelSelector(m.labelSelector, `${at}.labelSelector`, fail);
  if (present(m.namespaceSelector)) out.namespaceSelector = labelSelector(m.namespaceSelector, `${at}.namespaceSelector`, fail);
  if (present(m.name)) {
    const name = wildcard(string(m.name, `${at}.name`, fail), `${at}.name`, fail);
    if (name !== '') out.name = name;
  }
  const source = oneOf(m.source, SOURCES, `${at}.source`, fail);
  if (source !== undefined) out.source = source;
  return out;
}

type Fail = (field: string, problem: string) => never;

/** JSON null is an omitted field, as Go's decoding of these omitempty fields reads it. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function record(value: unknown, field: string, fail: Fail): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field, `must be an object, not ${describe(value)}`);
  return value as Raw;
}

function onlyFields(value: Raw, known: readonly string[], field: string, fail: Fail): void {
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) fail(`${field}.${unknown[0] as string}`, `unknown field (${field} has ${known.join(', ')})`);
}

function list(value: unknown, field: string, fail: Fail): unknown[] {
  return Array.isArray(value) ? value : fail(field, `must be a list, not ${describe(value)}`);
}

function string(value: unknown, field: string, fail: Fail): string {
  return typeof value === 'string' ? value : fail(field, `must be a string, not ${describe(value)}`);
}

function strings(value: unknown, field: string, fail: Fail): string[] {
  return list(value, field, fail).map((v, i) => string(v, `${field}[${i}]`, fail));
}

/** A value of `allowed`, or undefined when absent, null or '' (the default). */
function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string, fail: Fail): T | undefined {
  if (!present(value) || value === '') return undefined;
  const s = string(value, field, fail);
  if (!(allowed as readonly string[]).includes(s)) fail(field, `unknown value ${JSON.stringify(s)} (one of ${allowed.join(', ')})`);
  return s as T;
}

function wildcard(value: string, field: string, fail: Fail): string {
  if (!WILDCARD.test(value)) fail(field, `${JSON.stringify(value)} is not a name with an optional * at its start or end (lowercase letters, digits, '-' and ':'; e.g. "kube-*", "*-system")`);
  return value;
}

function kindSelector(value: unknown, field: string, fail: Fail): KindSelector {
  const k = record(value, field, fail);
  onlyFields(k, ['apiGroups', 'kinds'], field, fail);
  return {
    apiGroups: present(k.apiGroups) ? strings(k.apiGroups, `${field}.apiGroups`, fail) : [],
    kinds: present(k.kinds) ? strings(k.kinds, `${field}.kinds`, fail) : [],
  };
}

function labelSelector(value: unknown, field: string, fail: Fail): LabelSelector {
  const s = record(value, field, fail);
  onlyFields(s, ['matchLabels', 'matchExpressions'], field, fail);
  const out: { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } = {};
  if (present(s.matchLabels)) {
    const labels = record(s.matchLabels, `${field}.matchLabels`, fail);
    const matchLabels: Record<string, string> = {};
    for (const [key, v] of Object.entries(labels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== undefined) fail(`${field}.matchLabels`, `${JSON.stringify(key)}: ${keyProblem}`);
      const label = string(v, `${field}.matchLabels.${key}`, fail);
      const valueProblem = labelValueProblem(label);
      if (valueProblem !== undefined) fail(`${field}.matchLabels.${key}`, `${JSON.stringify(label)}: ${valueProblem}`);
      matchLabels[key] = label;
    }
    out.matchLabels = matchLabels;
  }
  if (present(s.matchExpressions)) out.matchExpressions = list(s.matchExpressions, `${field}.matchExpressions`, fail).map((r, i) => requirement(r, `${field}.matchExpressions[${i}]`, fail));
  return out;
}

/** metav1validation.ValidateLabelSelectorRequirement: operator, values by operator, key and values' syntax. */
function requirement(value: unknown, field: string, fail: Fail): LabelSelectorRequirement {
  const r = record(value, field, fail);
  onlyFields(r, ['key', 'operator', 'values'], field, fail);
  if (!present(r.key)) fail(`${field}.key`, 'is required');
  const key = string(r.key, `${field}.key`, fail);
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) fail(`${field}.key`, `${JSON.stringify(key)}: ${keyProblem}`);
  if (!present(r.operator)) fail(`${field}.operator`, `is required (one of ${OPERATORS.join(', ')})`);
  const operator = string(r.operator, `${field}.operator`, fail);
  if (!(OPERATORS as readonly string[]).includes(operator)) fail(`${field}.operator`, `${JSON.stringify(operator)} is not a valid selector operator (one of ${OPERATORS.join(', ')})`);
  const values = present(r.values) ? strings(r.values, `${field}.values`, fail) : [];
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) fail(`${field}.values`, `must be given (non-empty) when operator is ${operator}`);
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) fail(`${field}.values`, `may not be given when operator is ${operator}`);
  values.forEach((v, i) => {
    const problem = labelValueProblem(v);
    if (problem !== undefined) fail(`${field}.values[${i}]`, `${JSON.stringify(v)}: ${problem}`);
  });
  const op = operator as LabelSelectorRequirement['operator'];
  return values.length > 0 ? { key, operator: op, values } : { key, operator: op };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
