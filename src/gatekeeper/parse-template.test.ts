import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseConstraintTemplate } from './parse-template.js';

type Obj = Record<string, unknown>;

const ENTRY = 'package k8sdemo\nviolation[{"msg": "no"}] { input.review.object.bad }\n';

/** A valid v1 template (Rego v0 in code[]) with `patch` applied to its spec.targets[0] and the object. */
function template(target: Obj = {}, top: (t: Obj) => void = () => {}): Obj {
  const t: Obj = {
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: 'k8sdemo' },
    spec: {
      crd: { spec: { names: { kind: 'K8sDemo' } } },
      targets: [{ target: 'admission.k8s.gatekeeper.sh', code: [{ engine: 'Rego', source: { rego: ENTRY } }], ...target }],
    },
  };
  top(t);
  return t;
}
const spec = (t: Obj): Obj => t.spec as Obj;
const crdSpec = (t: Obj): Obj => (spec(t).crd as Obj).spec as Obj;

describe('parseConstraintTemplate', () => {
  it('reads a v1 template with code[] Rego (v0 when source.version is absent)', () => {
    const t = parseConstraintTemplate(template(), 't.yaml');
    expect(t).toMatchObject({ name: 'k8sdemo', kind: 'K8sDemo', file: 't.yaml', rego: ENTRY, libs: [], regoVersion: 'v0', legacySchema: false });
    expect(t.parametersSchema).toBeUndefined();
    expect(t.operations).toBeUndefined();
  });

  it('reads code[].source.version v1 and the libs', () => {
    const rego = 'package k8sdemo\nviolation contains {"msg": "no"} if { input.review.object.bad }\n';
    const t = parseConstraintTemplate(template({ code: [{ engine: 'Rego', source: { rego, version: 'v1', libs: ['package lib.a\nx := 1\n'] } }] }), 't.yaml');
    expect(t).toMatchObject({ regoVersion: 'v1', libs: ['package lib.a\nx := 1\n'] });
  });

  it('reads the legacy targets[0].rego and libs as v0, winning over a code[] Rego entry (Gatekeeper replaces its source)', () => {
    const t = parseConstraintTemplate(
      template({ rego: ENTRY, libs: ['package lib.b\ny := 2\n'], code: [{ engine: 'Rego', source: { rego: 'package other\nviolation contains 1 if { true }', version: 'v1' } }] }),
      't.yaml',
    );
    expect(t).toMatchObject({ rego: ENTRY, libs: ['package lib.b\ny := 2\n'], regoVersion: 'v0' });
  });

  it('reads v1beta1 as legacySchema by default, and v1 when it says legacySchema: true', () => {
    const beta = template({}, (t) => (t.apiVersion = 'templates.gatekeeper.sh/v1beta1'));
    expect(parseConstraintTemplate(beta, 't.yaml').legacySchema).toBe(true);
    const alpha = template({}, (t) => (t.apiVersion = 'templates.gatekeeper.sh/v1alpha1'));
    expect(parseConstraintTemplate(alpha, 't.yaml').legacySchema).toBe(true);
    const v1 = template({}, (t) => (crdSpec(t).validation = { legacySchema: true }));
    expect(parseConstraintTemplate(v1, 't.yaml').legacySchema).toBe(true);
    const betaNot = template({}, (t) => {
      t.apiVersion = 'templates.gatekeeper.sh/v1beta1';
      crdSpec(t).validation = { legacySchema: false, openAPIV3Schema: { type: 'object' } };
    });
    expect(parseConstraintTemplate(betaNot, 't.yaml')).toMatchObject({ legacySchema: false, parametersSchema: { type: 'object' } });
  });

  it('accepts a legacy schema that is not structural (Gatekeeper makes it so with preserve-unknown-fields)', () => {
    const beta = template({}, (t) => {
      t.apiVersion = 'templates.gatekeeper.sh/v1beta1';
      crdSpec(t).validation = { openAPIV3Schema: { properties: { a: { items: { type: 'string' } } } } };
    });
    expect(parseConstraintTemplate(beta, 't.yaml').parametersSchema).toEqual({ properties: { a: { items: { type: 'string' } } } });
  });

  it('prefers Rego where a template has both Rego and CEL', () => {
    const t = parseConstraintTemplate(template({ code: [{ engine: 'K8sNativeValidation', source: { validations: [] } }, { engine: 'Rego', source: { rego: ENTRY } }] }), 't.yaml');
    expect(t.rego).toBe(ENTRY);
  });

  it('reads operations, * meaning all', () => {
    expect(parseConstraintTemplate(template({ operations: ['CREATE', 'UPDATE'] }), 't.yaml').operations).toEqual(['CREATE', 'UPDATE']);
    expect(parseConstraintTemplate(template({ operations: ['*'] }), 't.yaml').operations).toEqual(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
  });

  it.each([
    { name: 'another group', obj: template({}, (t) => (t.apiVersion = 'example.com/v1')), message: 't.yaml: not a ConstraintTemplate' },
    { name: 'a missing name', obj: template({}, (t) => (t.metadata = {})), message: 't.yaml: ConstraintTemplate: metadata.name is missing' },
    { name: 'a name that is no DNS-1123 subdomain', obj: template({}, (t) => (t.metadata = { name: 'K8sDemo' })), message: 'metadata.name is not a valid name (a DNS-1123 subdomain' },
    {
      name: 'a name other than the lowercase kind',
      obj: template({}, (t) => (t.metadata = { name: 'k8sother' })),
      message: 't.yaml: ConstraintTemplate k8sother: metadata.name must be the lowercase of spec.crd.spec.names.kind "K8sDemo", that is "k8sdemo", as Gatekeeper requires',
    },
    { name: 'a missing kind', obj: template({}, (t) => (crdSpec(t).names = {})), message: 'spec.crd.spec.names.kind is missing' },
    {
      name: 'a kind that is no DNS-1035 label',
      obj: template({}, (t) => {
        crdSpec(t).names = { kind: '9Demo' };
        t.metadata = { name: '9demo' };
      }),
      message: 'spec.crd.spec.names.kind "9Demo": its lowercase must be a DNS-1035 label',
    },
    { name: 'no targets', obj: template({}, (t) => (spec(t).targets = [])), message: 'spec.targets is missing: a ConstraintTemplate must specify exactly one target' },
    {
      name: 'two targets',
      obj: template({}, (t) => (spec(t).targets = [...(spec(t).targets as unknown[]), ...(spec(t).targets as unknown[])])),
      message: 'spec.targets has 2 targets: Gatekeeper supports exactly one (multi-target templates are not supported)',
    },
    {
      name: 'another target',
      obj: template({ target: 'audit.example.com' }),
      message: 'spec.targets[0].target is "audit.example.com": the only target bouncer enforces is admission.k8s.gatekeeper.sh',
    },
    {
      name: 'a CEL-only template',
      obj: template({ code: [{ engine: 'K8sNativeValidation', source: { validations: [] } }] }),
      message: 'spec.targets[0].code has only a K8sNativeValidation (CEL) engine: bouncer runs the Rego engine only',
    },
    { name: 'no Rego at all', obj: template({ code: [] }), message: 'no Rego: neither spec.targets[0].rego nor a spec.targets[0].code[] entry with engine Rego' },
    { name: 'a Rego entry without source', obj: template({ code: [{ engine: 'Rego' }] }), message: 'spec.targets[0].code[0].source is missing' },
    { name: 'a Rego source without rego', obj: template({ code: [{ engine: 'Rego', source: {} }] }), message: 'spec.targets[0].code[0].source.rego is missing' },
    {
      name: 'an unknown Rego version',
      obj: template({ code: [{ engine: 'Rego', source: { rego: ENTRY, version: 'V1' } }] }),
      message: 'spec.targets[0].code[0].source.version is "V1": it must be v0 or v1',
    },
    { name: 'libs that are not strings', obj: template({ rego: ENTRY, libs: [1] }), message: 'spec.targets[0].libs: must be a list of Rego modules' },
    { name: 'an unknown operation', obj: template({ operations: ['PATCH'] }), message: 'spec.targets[0].operations must be a list of CREATE, UPDATE, DELETE, CONNECT, *' },
    {
      name: 'a v1 schema node without a type (not structural)',
      obj: template({}, (t) => (crdSpec(t).validation = { openAPIV3Schema: { type: 'object', properties: { repos: { items: { type: 'string' } } } } })),
      message: 'spec.crd.spec.validation.openAPIV3Schema.properties.repos.type is missing: a non-legacy schema must be structural',
    },
    {
      name: 'a schema whose items are not a schema',
      obj: template({}, (t) => (crdSpec(t).validation = { openAPIV3Schema: { type: 'object', properties: { repos: { type: 'array', items: 'string' } } } })),
      message: 'spec.crd.spec.validation.openAPIV3Schema.properties.repos.items must be a schema (an object), not "string"',
    },
    {
      name: 'an unknown type',
      obj: template({}, (t) => (crdSpec(t).validation = { openAPIV3Schema: { type: 'map' } })),
      message: 'spec.crd.spec.validation.openAPIV3Schema.type "map" is not one of object, array, string, integer, number, boolean',
    },
    {
      name: 'a Rego error (found by the rewrite)',
      obj: template({ code: [{ engine: 'Rego', source: { rego: 'package k8sdemo\nviolation[{"msg": m}] { m := data.other.x }\n' } }] }),
      message: 't.yaml: ConstraintTemplate k8sdemo: spec.targets[0].code[0].source.rego: line 2: disallowed ref data.other.x',
    },
  ])('refuses $name', ({ obj, message }) => {
    const err = thrown(() => parseConstraintTemplate(obj, 't.yaml'));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(message);
  });
});
