import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseConstraint } from './parse-constraint.js';
import { parseConstraintTemplate } from './parse-template.js';
import type { ConstraintTemplate } from './types.js';

type Obj = Record<string, unknown>;

function template(validation?: Obj, apiVersion = 'templates.gatekeeper.sh/v1'): ConstraintTemplate {
  return parseConstraintTemplate(
    {
      apiVersion,
      kind: 'ConstraintTemplate',
      metadata: { name: 'k8sdemo' },
      spec: {
        crd: { spec: { names: { kind: 'K8sDemo' }, ...(validation ? { validation } : {}) } },
        targets: [{ target: 'admission.k8s.gatekeeper.sh', rego: 'package k8sdemo\nviolation[{"msg": "no"}] { false }\n' }],
      },
    },
    'template.yaml',
  );
}

function constraint(spec?: Obj, name = 'demo', kind = 'K8sDemo'): Obj {
  return { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind, metadata: { name }, ...(spec ? { spec } : {}) };
}

const SCHEMA = {
  openAPIV3Schema: {
    type: 'object',
    properties: {
      repos: { type: 'array', items: { type: 'string' } },
      mode: { type: 'string', enum: ['strict', 'lax'], default: 'strict' },
      limit: { type: 'integer', format: 'int32', minimum: 1, maximum: 10, exclusiveMaximum: true, example: 3 },
      port: { 'x-kubernetes-int-or-string': true },
      note: { type: 'string', nullable: true },
      extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      nested: { type: 'object', properties: { on: { type: 'boolean', default: true } } },
    },
  },
};

describe('parseConstraint', () => {
  it('reads a constraint without templates: deny by default, {} parameters, the id', () => {
    const c = parseConstraint(constraint(), 'c.yaml');
    expect(c).toMatchObject({ kind: 'K8sDemo', name: 'demo', id: 'K8sDemo/demo', file: 'c.yaml', enforcementAction: 'deny', scopedEnforcementActions: [], match: {}, parameters: {} });
  });

  it('reads v1alpha1, every action, and scoped actions with their points', () => {
    const alpha = { ...constraint({ enforcementAction: 'dryrun' }), apiVersion: 'constraints.gatekeeper.sh/v1alpha1' };
    expect(parseConstraint(alpha, 'c.yaml').enforcementAction).toBe('dryrun');
    expect(parseConstraint(constraint({ enforcementAction: 'warn' }), 'c.yaml').enforcementAction).toBe('warn');
    const scoped = parseConstraint(
      constraint({
        enforcementAction: 'scoped',
        scopedEnforcementActions: [
          { action: 'warn', enforcementPoints: [{ name: 'audit.gatekeeper.sh' }, { name: 'validate.bouncer.dev' }] },
          { action: 'deny', enforcementPoints: [{ name: '*' }] },
        ],
      }),
      'c.yaml',
    );
    expect(scoped.scopedEnforcementActions).toEqual([
      { action: 'warn', enforcementPoints: ['audit.gatekeeper.sh', 'validate.bouncer.dev'] },
      { action: 'deny', enforcementPoints: ['*'] },
    ]);
  });

  it('checks parameters against the schema and applies its defaults, as the API server stores them', () => {
    const c = parseConstraint(
      constraint({ parameters: { repos: ['a'], limit: 9, port: '80', note: null, extra: { any: { thing: 1 } }, labels: { a: 'b' }, nested: {} } }),
      'c.yaml',
      [template(SCHEMA)],
    );
    expect(c.parameters).toEqual({ repos: ['a'], mode: 'strict', limit: 9, port: '80', note: null, extra: { any: { thing: 1 } }, labels: { a: 'b' }, nested: { on: true } });
    expect(parseConstraint(constraint({ parameters: { port: 8080 } }), 'c.yaml', [template(SCHEMA)]).parameters.port).toBe(8080);
  });

  it('lets a non-nullable null take its default, as the API server does', () => {
    expect(parseConstraint(constraint({ parameters: { mode: null } }), 'c.yaml', [template(SCHEMA)]).parameters).toEqual({ mode: 'strict' });
  });

  it('keeps unknown parameters of a legacySchema template (v1beta1 default), and any parameters when it has no schema', () => {
    const beta = template({ openAPIV3Schema: { properties: { repos: { type: 'array', items: { type: 'string' } } } } }, 'templates.gatekeeper.sh/v1beta1');
    expect(parseConstraint(constraint({ parameters: { repos: ['a'], other: { x: 1 } } }), 'c.yaml', [beta]).parameters).toEqual({ repos: ['a'], other: { x: 1 } });
    const bare = template(undefined, 'templates.gatekeeper.sh/v1beta1');
    expect(parseConstraint(constraint({ parameters: { whatever: [1] } }), 'c.yaml', [bare]).parameters).toEqual({ whatever: [1] });
    // Still typed where the schema says so.
    expect(thrown(() => parseConstraint(constraint({ parameters: { repos: 'a' } }), 'c.yaml', [beta])).message).toContain('spec.parameters.repos must be array');
  });

  const where = 'c.yaml: K8sDemo/demo: ';
  it.each([
    { name: 'another group', obj: { ...constraint(), apiVersion: 'example.com/v1beta1' }, message: 'c.yaml: not a Constraint' },
    { name: 'an unsupported version', obj: { ...constraint(), apiVersion: 'constraints.gatekeeper.sh/v1' }, message: 'c.yaml: not a Constraint' },
    { name: 'a missing name', obj: { ...constraint(), metadata: {} }, message: 'c.yaml: K8sDemo: metadata.name is missing' },
    { name: 'a name that is no DNS-1123 subdomain', obj: constraint({}, 'Demo_1'), message: 'K8sDemo "Demo_1": metadata.name is not a valid constraint name' },
    { name: 'a name over 63 characters', obj: constraint({}, 'a'.repeat(64)), message: 'metadata.name is not a valid constraint name (a DNS-1123 subdomain of at most 63 characters)' },
    { name: 'an unknown spec field', obj: constraint({ paramaters: {} }), message: `${where}spec.paramaters: not a field of a constraint (match, enforcementAction, scopedEnforcementActions, parameters); the API server would drop it` },
    { name: 'an unknown action', obj: constraint({ enforcementAction: 'block' }), message: `${where}spec.enforcementAction "block" is not one of deny, warn, dryrun, scoped` },
    { name: 'scoped without scoped actions', obj: constraint({ enforcementAction: 'scoped' }), message: 'spec.scopedEnforcementActions is required when spec.enforcementAction is scoped' },
    {
      name: 'a scoped action that is not an action',
      obj: constraint({ enforcementAction: 'scoped', scopedEnforcementActions: [{ action: 'scoped', enforcementPoints: [{ name: '*' }] }] }),
      message: 'spec.scopedEnforcementActions[0].action "scoped" is not one of deny, warn, dryrun',
    },
    {
      name: 'a scoped action without points',
      obj: constraint({ enforcementAction: 'scoped', scopedEnforcementActions: [{ action: 'deny', enforcementPoints: [] }] }),
      message: 'spec.scopedEnforcementActions[0].enforcementPoints is empty',
    },
    {
      name: 'an unknown enforcement point',
      obj: constraint({ enforcementAction: 'scoped', scopedEnforcementActions: [{ action: 'deny', enforcementPoints: [{ name: 'webhook' }] }] }),
      message: 'spec.scopedEnforcementActions[0].enforcementPoints: "webhook" is not an enforcement point',
    },
    { name: 'malformed scoped actions', obj: constraint({ scopedEnforcementActions: { action: 'deny' } }), message: 'spec.scopedEnforcementActions must be a list of {action: string, enforcementPoints: [{name: string}]}' },
    { name: 'parameters that are not an object', obj: constraint({ parameters: ['a'] }), message: `${where}spec.parameters must be an object` },
  ])('refuses $name', ({ obj, message }) => {
    const err = thrown(() => parseConstraint(obj, 'c.yaml'));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(message);
  });

  it.each([
    { name: 'a kind without template', obj: constraint({}, 'demo', 'K8sOther'), message: `c.yaml: K8sOther/demo: no ConstraintTemplate defines kind K8sOther` },
    { name: 'a field outside the schema', obj: constraint({ parameters: { repo: ['a'] } }), message: `${where}spec.parameters.repo is not in the template's parameters schema: the API server would drop the field` },
    { name: 'a nested field outside the schema', obj: constraint({ parameters: { nested: { off: 1 } } }), message: 'spec.parameters.nested.off is not in the template' },
    { name: 'a non-nullable null without default', obj: constraint({ parameters: { repos: null } }), message: 'spec.parameters.repos is null and its schema is not nullable: the API server would drop the field' },
    { name: 'a wrong type', obj: constraint({ parameters: { repos: 'a' } }), message: `${where}spec.parameters.repos must be array` },
    { name: 'a wrong item type', obj: constraint({ parameters: { repos: ['a', 2] } }), message: 'spec.parameters.repos[1] must be string' },
    { name: 'a value outside the enum', obj: constraint({ parameters: { mode: 'loose' } }), message: 'spec.parameters.mode must be equal to one of the allowed values ("strict", "lax")' },
    { name: 'an exclusive maximum (OpenAPI boolean form)', obj: constraint({ parameters: { limit: 10 } }), message: 'spec.parameters.limit must be < 10' },
    { name: 'a minimum', obj: constraint({ parameters: { limit: 0 } }), message: 'spec.parameters.limit must be >= 1' },
    { name: 'int-or-string given a list', obj: constraint({ parameters: { port: [80] } }), message: 'spec.parameters.port must be integer' },
    { name: 'a map value of the wrong type', obj: constraint({ parameters: { labels: { a: 1 } } }), message: 'spec.parameters.labels.a must be string' },
    { name: 'all errors at once', obj: constraint({ parameters: { repos: 'a', limit: 0 } }), message: 'spec.parameters.repos must be array; spec.parameters.limit must be >= 1' },
  ])('refuses, against the template, $name', ({ obj, message }) => {
    const err = thrown(() => parseConstraint(obj, 'c.yaml', [template(SCHEMA)]));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(message);
  });

  it('refuses parameters for a v1 template without a schema: the API server would drop them', () => {
    const err = thrown(() => parseConstraint(constraint({ parameters: { a: 1 } }), 'c.yaml', [template()]));
    expect(err.message).toContain(`${where}spec.parameters: the ConstraintTemplate k8sdemo (template.yaml) declares no parameters (no spec.crd.spec.validation.openAPIV3Schema), so the API server would drop spec.parameters`);
    expect(parseConstraint(constraint({ parameters: {} }), 'c.yaml', [template()]).parameters).toEqual({});
  });

  it('refuses a template schema ajv cannot compile, naming the template', () => {
    const err = thrown(() => parseConstraint(constraint(), 'c.yaml', [template({ openAPIV3Schema: { type: 'object', minProperties: 'two' } })]));
    expect(err.message).toContain('template.yaml: ConstraintTemplate k8sdemo: spec.crd.spec.validation.openAPIV3Schema is not a valid schema');
  });
});
