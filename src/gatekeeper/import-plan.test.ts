import { describe, expect, it } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { asServed, constraint, template } from '../../test/support/gatekeeper-objects.js';
import type { ImportDocument } from './import-documents.js';
import { planImport } from './import-plan.js';

/** The fields the cases edit. */
interface Editable {
  apiVersion: string;
  metadata: { name?: string };
  spec: { crd?: { spec: { names: { kind: string } } }; targets: { rego: string }[] };
}

const doc = (object: unknown, source = 'in.yaml'): ImportDocument => ({ object, source });

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('planImport', () => {
  it('groups constraints under their template by kind, both sorted by name, cleaned', () => {
    const plan = planImport([
      doc(asServed(constraint('zz', ['a']))),
      doc(asServed(template('BouncerOther'))),
      doc(asServed(constraint('aa', ['b']))),
      doc(asServed(template())),
      doc(asServed(constraint('mid', ['c'], 'BouncerOther'))),
    ]);
    expect(plan.templates.map((t) => [t.name, t.kind, t.constraints.map((c) => c.name)])).toEqual([
      ['bouncerother', 'BouncerOther', ['mid']],
      ['bouncerrequiredlabels', 'BouncerRequiredLabels', ['aa', 'zz']],
    ]);
    expect(plan.templates[1]?.object).toEqual(template());
    expect(plan.templates[1]?.constraints[0]?.object).toEqual(constraint('aa', ['b']));
    expect(plan.skipped).toEqual([]);
  });

  it('skips a constraint whose kind no template defines, with a warning naming it', () => {
    const plan = planImport([doc(template()), doc(constraint('orphan', ['x'], 'NoSuchKind'), 'c.yaml')]);
    expect(plan.templates[0]?.constraints).toEqual([]);
    expect(plan.skipped).toEqual([{ what: 'Constraint', id: 'NoSuchKind/orphan', source: 'c.yaml', reason: 'no ConstraintTemplate in the input defines kind NoSuchKind' }]);
  });

  const badTemplate = (change: (t: Editable) => void) => {
    const t = template() as unknown as Editable;
    change(t);
    return t;
  };
  it.each([
    ['a name that is not the lowercase kind', badTemplate((t) => (t.metadata.name = 'other')), /must be the lowercase of spec\.crd\.spec\.names\.kind "BouncerRequiredLabels"/],
    ['no kind', badTemplate((t) => delete t.spec.crd), /spec\.crd\.spec\.names\.kind is missing/],
    ['no name', badTemplate((t) => delete t.metadata.name), /metadata\.name is missing/],
    ['a path as its name', badTemplate((t) => (t.metadata.name = '../escape')), /not a valid Kubernetes object name/],
    ['an unknown version', badTemplate((t) => (t.apiVersion = 'templates.gatekeeper.sh/v2')), /not a version Gatekeeper serves/],
  ])('skips a template with %s, and its constraints with it', (_name, bad, reason) => {
    const plan = planImport([doc(bad, 't.yaml'), doc(constraint('c', ['x']), 'c.yaml')]);
    expect(plan.templates).toEqual([]);
    expect(plan.skipped[0]).toMatchObject({ what: 'ConstraintTemplate', source: 't.yaml' });
    expect(plan.skipped[0]?.reason).toMatch(reason);
    expect(plan.skipped[1]).toMatchObject({ what: 'Constraint', id: 'BouncerRequiredLabels/c' });
  });

  it('says when a constraint is skipped because its template was', () => {
    const plan = planImport([doc(badTemplate((t) => (t.spec.crd!.spec.names.kind = 'Other'))), doc(constraint('c', ['x'], 'Other'))]);
    expect(plan.skipped.map((s) => s.reason)).toEqual([expect.stringContaining('lowercase'), 'no ConstraintTemplate in the input defines kind Other']);
    const plan2 = planImport([doc(badTemplate((t) => (t.apiVersion = 'templates.gatekeeper.sh/v9'))), doc(constraint('c', ['x']))]);
    expect(plan2.skipped[1]?.reason).toBe('its ConstraintTemplate bouncerrequiredlabels was skipped');
  });

  it.each([
    ['a path as its name', (c: Editable) => (c.metadata.name = 'a/b'), /not a valid Kubernetes object name/],
    ['an unknown version', (c: Editable) => (c.apiVersion = 'constraints.gatekeeper.sh/v3'), /not a version Gatekeeper serves constraints at/],
  ])('skips a constraint with %s', (_name, change, reason) => {
    const c = constraint('c', ['x']) as unknown as Editable;
    change(c);
    const plan = planImport([doc(template()), doc(c)]);
    expect(plan.templates[0]?.constraints).toEqual([]);
    expect(plan.skipped[0]?.reason).toMatch(reason);
  });

  it('imports the same object read twice once (a file and the cluster)', () => {
    const plan = planImport([doc(template(), 'f.yaml'), doc(constraint('c', ['x']), 'f.yaml'), doc(asServed(template()), 'cluster'), doc(asServed(constraint('c', ['x'])), 'cluster')]);
    expect(plan.templates).toHaveLength(1);
    expect(plan.templates[0]?.source).toBe('f.yaml');
    expect(plan.templates[0]?.constraints).toHaveLength(1);
  });

  it.each([
    ['templates', [doc(template(), 'a.yaml'), doc(badTemplate((t) => (t.spec.targets[0]!.rego = 'package x')), 'b.yaml')], 'ConstraintTemplate bouncerrequiredlabels'],
    ['constraints', [doc(constraint('c', ['x']), 'a.yaml'), doc(constraint('c', ['y']), 'b.yaml')], 'Constraint BouncerRequiredLabels/c'],
  ])('refuses two different %s under one name, naming both sources', (_name, docs, what) => {
    const err = thrownBy(() => planImport(docs));
    expect(isBouncerError(err, 'IMPORT_INPUT_INVALID')).toBe(true);
    expect(err.message).toBe(`${what} is read twice with different contents: from a.yaml and from b.yaml; import one of them`);
  });

  it('ignores documents that are not Gatekeeper templates or constraints, counted by kind', () => {
    const plan = planImport([doc({ apiVersion: 'v1', kind: 'Pod' }), doc({ apiVersion: 'v1', kind: 'Pod' }), doc({ kind: 'Suite', apiVersion: 'test.gatekeeper.sh/v1alpha1' }), doc('text'), doc({ a: 1 }), doc({ apiVersion: 'mutations.gatekeeper.sh/v1', kind: 'Assign' })]);
    expect(plan.ignored).toEqual({ Pod: 2, Suite: 1, '(no kind)': 2, Assign: 1 });
    expect(plan.templates).toEqual([]);
  });
});
