// A Constraint object (constraints.gatekeeper.sh v1beta1/v1alpha1, kind = a template's kind),
// checked as Gatekeeper checks it (frameworks constraint/pkg/client/crds/validate.go
// ValidateCR and the CRD schema of crds/schema.go; gatekeeper pkg/util/enforcement_action.go)
// and reduced to the model of types.ts.
import { isDns1123Subdomain } from './k8s-names.js';
import { createParametersChecker, type ParametersChecker } from './parameters-checker.js';
import { isPlainObject } from './parameters-schema.js';
import { parseConstraintMatch } from './parse-match.js';
import { sourceInvalid } from './source-invalid.js';
import { ENFORCEMENT_POINTS, type Constraint, type ConstraintTemplate, type EnforcementAction, type ScopedEnforcementAction } from './types.js';

export const CONSTRAINT_GROUP = 'constraints.gatekeeper.sh';
export const CONSTRAINT_VERSIONS = ['v1beta1', 'v1alpha1'] as const;
const ACTIONS: readonly EnforcementAction[] = ['deny', 'warn', 'dryrun'];
/** The spec fields of a constraint's CRD; any other is pruned by the API server. */
const SPEC_FIELDS = ['match', 'enforcementAction', 'scopedEnforcementActions', 'parameters'];
/** Gatekeeper's enforcement points (supportedEnforcementPoints, with vap.k8s.io and `*`) and bouncer's own. */
const KNOWN_POINTS: readonly string[] = [ENFORCEMENT_POINTS.validation, ENFORCEMENT_POINTS.audit, ENFORCEMENT_POINTS.gator, 'vap.k8s.io', '*', ENFORCEMENT_POINTS.bouncerWebhook];

/** What checks a constraint against its template: the templates by kind, and the parameters checker. */
export interface ConstraintContext {
  readonly templates: ReadonlyMap<string, ConstraintTemplate>;
  readonly parameters: ParametersChecker;
}

/**
 * The constraint `obj` read from `file`. With `templates`, its kind must be one of theirs and
 * spec.parameters is checked (and defaulted) against that template's schema; without, only
 * the constraint itself is checked (the cross-object checks come later, see check-objects.ts).
 */
export function parseConstraint(obj: Readonly<Record<string, unknown>>, file: string, templates?: readonly ConstraintTemplate[]): Constraint {
  const context = templates === undefined ? undefined : { templates: new Map(templates.map((t) => [t.kind, t])), parameters: createParametersChecker() };
  return parseConstraintAt(obj, file, file, context);
}

/** True when `obj` has a constraint's apiVersion (group constraints.gatekeeper.sh). */
export function isConstraintObject(obj: Readonly<Record<string, unknown>>): boolean {
  return typeof obj.apiVersion === 'string' && obj.apiVersion.split('/')[0] === CONSTRAINT_GROUP;
}

export function parseConstraintAt(obj: Readonly<Record<string, unknown>>, file: string, where: string, context?: ConstraintContext): Constraint {
  const [group, version] = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/') : [];
  if (group !== CONSTRAINT_GROUP || !CONSTRAINT_VERSIONS.some((v) => v === version))
    throw sourceInvalid(where, `not a Constraint (apiVersion ${CONSTRAINT_VERSIONS.map((v) => `${CONSTRAINT_GROUP}/${v}`).join(' or ')})`);
  const kind = obj.kind;
  if (typeof kind !== 'string' || kind === '') throw sourceInvalid(where, 'Constraint: kind is missing');
  const metadata = isPlainObject(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') throw sourceInvalid(where, `${kind}: metadata.name is missing`);
  // DNS-1123 (ValidateCR) and at most 63 characters (the constraint CRD's schema).
  if (!isDns1123Subdomain(name) || name.length > 63)
    throw sourceInvalid(where, `${kind} ${JSON.stringify(name)}: metadata.name is not a valid constraint name (a DNS-1123 subdomain of at most 63 characters)`);
  const at = `${where}: ${kind}/${name}`;
  const spec = obj.spec === undefined || obj.spec === null ? {} : obj.spec;
  if (!isPlainObject(spec)) throw sourceInvalid(at, 'spec must be an object');
  const unknown = Object.keys(spec).filter((k) => !SPEC_FIELDS.includes(k));
  if (unknown.length > 0)
    throw sourceInvalid(at, `${unknown.map((k) => `spec.${k}`).join(', ')}: not a field of a constraint (${SPEC_FIELDS.join(', ')}); the API server would drop it`);

  const enforcementAction = parseEnforcementAction(spec.enforcementAction, at);
  const scopedEnforcementActions = parseScopedActions(spec.scopedEnforcementActions, enforcementAction === 'scoped', at);
  const match = parseConstraintMatch(spec.match, at);
  let parameters: Record<string, unknown>;
  if (context) {
    const template = context.templates.get(kind);
    if (!template) {
      const sameName = [...context.templates.values()].find((t) => t.name === kind.toLowerCase());
      throw sourceInvalid(
        at,
        sameName
          ? `kind ${kind} is not the kind of ConstraintTemplate ${sameName.name} (${sameName.file}), which is ${sameName.kind}`
          : `no ConstraintTemplate defines kind ${kind} (Gatekeeper would look for the template ${kind.toLowerCase()})`,
      );
    }
    parameters = context.parameters.check(template, spec.parameters, at);
  } else {
    const raw = spec.parameters ?? {};
    if (!isPlainObject(raw)) throw sourceInvalid(at, 'spec.parameters must be an object');
    parameters = raw;
  }
  return { kind, name, id: `${kind}/${name}`, file, enforcementAction, scopedEnforcementActions, match, parameters, source: obj };
}

function parseEnforcementAction(raw: unknown, at: string): EnforcementAction | 'scoped' {
  if (raw === undefined || raw === null || raw === '') return 'deny';
  if (raw === 'scoped' || ACTIONS.includes(raw as EnforcementAction)) return raw as EnforcementAction | 'scoped';
  throw sourceInvalid(at, `spec.enforcementAction ${JSON.stringify(raw)} is not one of ${[...ACTIONS, 'scoped'].join(', ')}`);
}

/** Gatekeeper's ValidateScopedEnforcementAction: each entry an action and at least one known point. */
function parseScopedActions(raw: unknown, scoped: boolean, at: string): ScopedEnforcementAction[] {
  const field = 'spec.scopedEnforcementActions';
  if (raw === undefined || raw === null) {
    if (scoped) throw sourceInvalid(at, `${field} is required when spec.enforcementAction is scoped`);
    return [];
  }
  const shape = `${field} must be a list of {action: string, enforcementPoints: [{name: string}]}`;
  if (!Array.isArray(raw)) throw sourceInvalid(at, shape);
  return raw.map((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.action !== 'string' || (entry.enforcementPoints !== undefined && !Array.isArray(entry.enforcementPoints)))
      throw sourceInvalid(at, shape);
    const points = ((entry.enforcementPoints ?? []) as unknown[]).map((p) => {
      if (!isPlainObject(p) || typeof p.name !== 'string') throw sourceInvalid(at, shape);
      return p.name;
    });
    if (scoped) {
      if (!ACTIONS.includes(entry.action as EnforcementAction)) throw sourceInvalid(at, `${field}[${i}].action ${JSON.stringify(entry.action)} is not one of ${ACTIONS.join(', ')}`);
      if (points.length === 0) throw sourceInvalid(at, `${field}[${i}].enforcementPoints is empty: the action would apply nowhere`);
      const unknownPoint = points.find((p) => !KNOWN_POINTS.includes(p));
      if (unknownPoint !== undefined)
        throw sourceInvalid(at, `${field}[${i}].enforcementPoints: ${JSON.stringify(unknownPoint)} is not an enforcement point (${KNOWN_POINTS.join(', ')})`);
    }
    return { action: entry.action as EnforcementAction, enforcementPoints: points };
  });
}
