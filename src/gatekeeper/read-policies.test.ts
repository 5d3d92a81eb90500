import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { readGatekeeperPolicies } from './read-policies.js';

const FIXTURE = 'test/fixtures/gatekeeper/policies';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of the fixture policy directory with `files` (relative to gatekeeper/) written over it. */
function policies(files: Record<string, string>, base = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-gk-'));
  dirs.push(dir);
  if (base) cpSync(FIXTURE, dir, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, 'gatekeeper', path, '..'), { recursive: true });
    writeFileSync(join(dir, 'gatekeeper', path), text);
  }
  return dir;
}

const constraint = (kind: string, name: string, extra = ''): string =>
  `apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: ${kind}\nmetadata:\n  name: ${name}\n${extra}`;

describe('readGatekeeperPolicies', () => {
  it('returns empty lists for a policy directory without gatekeeper/', () => {
    expect(readGatekeeperPolicies('policies')).toEqual({ templates: [], constraints: [] });
  });

  it('reads template folders, their constraints and plain multi-document files, ignoring everything else', () => {
    const { templates, constraints } = readGatekeeperPolicies(FIXTURE);
    expect(templates.map((t) => [t.name, t.kind, t.regoVersion, t.libs.length, t.legacySchema])).toEqual([
      ['teamimagetags', 'TeamImageTags', 'v0', 1, true],
      ['teamreplicalimit', 'TeamReplicaLimit', 'v1', 0, false],
      ['teamrequiredlabels', 'TeamRequiredLabels', 'v0', 1, false],
    ]);
    expect(templates[0]?.file).toBe(join(FIXTURE, 'gatekeeper/imagetags/template.yaml'));
    expect(templates[1]?.operations).toEqual(['CREATE', 'UPDATE']);
    expect(constraints.map((c) => [c.id, c.enforcementAction, c.parameters])).toEqual([
      // legacySchema (v1beta1): the field outside the schema is kept.
      ['TeamImageTags/no-latest', 'deny', { forbidden: ['latest'], note: 'kept' }],
      ['TeamReplicaLimit/at-most-five', 'scoped', { max: 5 }],
      // The schema's default fills `message`, as the API server would.
      ['TeamRequiredLabels/ns-need-owner', 'deny', { labels: ['owner'], message: 'missing labels' }],
      ['TeamRequiredLabels/pods-need-team', 'warn', { labels: ['team', 'tier'], message: 'pods need team and tier' }],
    ]);
    expect(constraints[1]?.scopedEnforcementActions).toEqual([
      { action: 'deny', enforcementPoints: ['validation.gatekeeper.sh'] },
      { action: 'warn', enforcementPoints: ['*'] },
    ]);
    expect(constraints[2]?.match).toEqual({ kinds: [{ apiGroups: [''], kinds: ['Namespace'] }] });
    expect(constraints[2]?.file).toBe(join(FIXTURE, 'gatekeeper/requiredlabels/constraints/namespaces.yaml'));
  });

  interface Case {
    name: string;
    /** Files written over a copy of the fixture; SELF stands for the fixture's imagetags template. */
    files: Record<string, string>;
    /** Copy imagetags/template.yaml to copy/template.yaml. */
    copyTemplate?: boolean;
    message: RegExp;
  }
  it.each<Case>([
    {
      name: 'a document that is neither a template nor a constraint, by file, document and line',
      files: { 'extra.yaml': `${constraint('TeamImageTags', 'ok')}---\n# a comment\napiVersion: v1\nkind: ConfigMap\n` },
      message: /extra\.yaml \(document 2, line 7\): apiVersion "v1" kind "ConfigMap" is neither a ConstraintTemplate .* nor a Constraint/,
    },
    {
      name: 'a constraint whose kind has no template',
      files: { 'extra.yaml': constraint('TeamNothing', 'x') },
      message: /extra\.yaml \(document 1, line 1\): TeamNothing\/x: no ConstraintTemplate defines kind TeamNothing/,
    },
    {
      name: 'a constraint whose kind differs from the template kind in case only',
      files: { 'extra.yaml': constraint('Teamimagetags', 'x') },
      message: /Teamimagetags\/x: kind Teamimagetags is not the kind of ConstraintTemplate teamimagetags .* which is TeamImageTags/,
    },
    {
      name: 'a duplicate constraint name within a kind',
      files: { 'extra.yaml': constraint('TeamRequiredLabels', 'ns-need-owner') },
      message: /(extra|namespaces)\.yaml \(document 1, line 1\): TeamRequiredLabels\/ns-need-owner: duplicate constraint name ns-need-owner for kind TeamRequiredLabels: .*(namespaces|extra)\.yaml \(document 1, line 1\) defines it too/,
    },
    {
      name: 'a duplicate template name',
      files: { 'copy/template.yaml': '' },
      copyTemplate: true,
      message: /(copy|imagetags)\/template\.yaml \(document 1, line 2\): ConstraintTemplate teamimagetags: duplicate template name: .*(imagetags|copy)\/template\.yaml \(document 1, line 2\) defines it too/,
    },
    {
      name: 'a template folder without template.yaml',
      files: { 'empty/constraints/a.yaml': constraint('TeamImageTags', 'y') },
      message: /empty: a template folder needs a template\.yaml/,
    },
    {
      name: 'a template.yaml with more than the template',
      files: { 'imagetags/template.yaml': 'SELF---\n' + constraint('TeamImageTags', 'z') },
      message: /imagetags\/template\.yaml: must hold exactly one ConstraintTemplate \(it holds 2 objects\)/,
    },
    {
      name: "a constraint of another kind in a template's constraints/",
      files: { 'imagetags/constraints/other.yaml': constraint('TeamRequiredLabels', 'misplaced') },
      message: /other\.yaml \(document 1, line 1\): TeamRequiredLabels\/misplaced: a constraint under .*imagetags\/constraints must be of its template's kind TeamImageTags/,
    },
    {
      name: 'parameters outside a non-legacy schema, which the API server would drop',
      files: { 'extra.yaml': constraint('TeamRequiredLabels', 'typo', 'spec:\n  parameters:\n    lables: [a]\n') },
      message: /TeamRequiredLabels\/typo: spec\.parameters\.lables is not in the template's parameters schema: the API server would drop the field/,
    },
    {
      name: 'invalid YAML, by line',
      files: { 'extra.yaml': 'a: [1, 2\n' },
      message: /extra\.yaml \(document 1, line \d\): not valid YAML/,
    },
  ])('refuses $name', ({ files, message, copyTemplate }) => {
    const dir = policies(files);
    if (copyTemplate) cpSync(join(dir, 'gatekeeper/imagetags/template.yaml'), join(dir, 'gatekeeper/copy/template.yaml'));
    const selfTemplate = files['imagetags/template.yaml'];
    if (selfTemplate) {
      const original = join(FIXTURE, 'gatekeeper/imagetags/template.yaml');
      writeFileSync(join(dir, 'gatekeeper/imagetags/template.yaml'), selfTemplate.replace('SELF', `${readFile(original)}`));
    }
    const err = thrown(() => readGatekeeperPolicies(dir));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toMatch(message);
  });

  it('ignores hidden entries of gatekeeper/', () => {
    const dir = policies({ '.git/config': 'not yaml', '.notes.yaml': 'a: [' });
    expect(readGatekeeperPolicies(dir).templates).toHaveLength(3);
  });

  it('reads a gatekeeper/ folder of plain files only, with the documents\' positions', () => {
    const dir = policies(
      {
        'all.yaml': [readFile(join(FIXTURE, 'gatekeeper/imagetags/template.yaml')), constraint('TeamImageTags', 'a'), constraint('TeamImageTags', 'b')].join('---\n'),
      },
      false,
    );
    const { templates, constraints } = readGatekeeperPolicies(dir);
    expect(templates[0]?.position).toEqual({ document: 1, line: 2 });
    expect(constraints.map((c) => [c.id, c.position])).toEqual([
      ['TeamImageTags/a', { document: 2, line: 41 }],
      ['TeamImageTags/b', { document: 3, line: 46 }],
    ]);
  });
});

function readFile(path: string): string {
  return readFileSync(path, 'utf8');
}
