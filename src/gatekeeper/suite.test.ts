// Finding and reading suites as gator does: PATH forms, which files count, the names gator
// prints, and bad input (a missing PATH, YAML that does not parse, fields of the wrong type)
// stopping the run with the file and line.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { gatorInputPath, parseSuite, readSuites } from './suite.js';

const HEAD = 'kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\n';
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bouncer-suites-'));
  const write = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write('tests/b.yaml', `${HEAD}tests: [{name: b}]\n`);
  write('tests/a.yml', `${HEAD}tests: [{name: a}]\n`);
  write('tests/not-a-suite.yaml', 'apiVersion: v1\nkind: Pod\n');
  write('tests/other-group.yaml', 'apiVersion: example.com/v1alpha1\nkind: Suite\n');
  write('tests/empty.yaml', '');
  write('tests/readme.md', 'not yaml');
  write('tests/suite.json', '{}');
  write('tests/deep/c.yaml', `${HEAD}tests: [{name: c}]\n`);
  write('tests/deep/deeper/d.yaml', `${HEAD}tests: [{name: d}]\n`);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const names = async (paths: string[], cwd = root): Promise<string[]> => (await readSuites(paths, { cwd })).map((s) => s.inputPath);

describe('readSuites', () => {
  it('a directory: its own .yaml/.yml Suites, sorted by path; other files and kinds ignored', async () => {
    expect(await names(['tests'])).toEqual(['tests/a.yml', 'tests/b.yaml']);
    expect(await names(['tests/'])).toEqual(['tests/a.yml', 'tests/b.yaml']);
  });

  it('DIR/...: every Suite below DIR', async () => {
    expect(await names(['tests/...'])).toEqual(['tests/a.yml', 'tests/b.yaml', 'tests/deep/c.yaml', 'tests/deep/deeper/d.yaml']);
  });

  it('a file: that suite, named as given', async () => {
    expect(await names(['./tests/deep/c.yaml'])).toEqual(['./tests/deep/c.yaml']);
    expect(await names([join(root, 'tests/b.yaml')], '/')).toEqual([join(root, 'tests/b.yaml')]);
  });

  it('a YAML file that is not a Suite yields nothing', async () => {
    expect(await names(['tests/not-a-suite.yaml'])).toEqual([]);
  });

  it('several PATHs, in argument order', async () => {
    expect(await names(['tests/deep/...', 'tests'])).toEqual(['tests/deep/c.yaml', 'tests/deep/deeper/d.yaml', 'tests/a.yml', 'tests/b.yaml']);
  });

  it('./... names each suite "./" + its absolute path without the leading "/", as gator prints it', async () => {
    const suites = await names(['./...'], join(root, 'tests/deep'));
    expect(suites).toEqual([`./${join(root, 'tests/deep/c.yaml').slice(1)}`, `./${join(root, 'tests/deep/deeper/d.yaml').slice(1)}`]);
  });

  it.each([
    [['nope'], /^listing test files: stat .*nope: no such file or directory$/],
    [['tests/readme.md'], /^listing test files: unsupported extension: "\.md"$/],
    [['tests/b.yaml/...'], /^listing test files: can only recursively traverse directories, not a directory: ".*b\.yaml"$/],
    [[], /^no PATH given/],
  ])('bad PATH %j is SUITE_INVALID', async (paths, message) => {
    const err = await readSuites(paths, { cwd: root }).catch((e: unknown) => e);
    expect(isBouncerError(err, 'SUITE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe('gatorInputPath', () => {
  it.each([
    ['tests', '/home/u/p/tests/a.yaml', 'tests/a.yaml'],
    ['tests/', '/home/u/p/tests/a.yaml', 'tests/a.yaml'],
    ['../p/tests', '/home/u/p/tests/a.yaml', '../p/tests/a.yaml'],
    ['/home/u/p/tests', '/home/u/p/tests/a.yaml', '/home/u/p/tests/a.yaml'],
    // strings.Cut finds the first occurrence, even inside a parent directory's name.
    ['p', '/home/u/p/p/a.yaml', 'p/p/a.yaml'],
  ])('%s → %s', (arg, file, want) => expect(gatorInputPath(arg, arg, file)).toBe(want));
});

describe('parseSuite', () => {
  const suite = (body: string): ReturnType<typeof parseSuite> => parseSuite(`${HEAD}${body}`, '/s/suite.yaml');

  it('reads tests, cases and assertions with defaults for absent fields', () => {
    const parsed = suite(
      'tests:\n- name: t\n  template: t.yaml\n  constraint: c.yaml\n  cases:\n  - name: c\n    object: o.yaml\n    inventory: [i.yaml]\n    assertions:\n    - violations: 2\n      message: x\n    - violations: "no"\n    -\n',
    );
    expect(parsed).toEqual({
      skip: false,
      tests: [
        {
          name: 't', template: 't.yaml', constraint: 'c.yaml', expansion: '', invalid: false, skip: false, line: 4,
          cases: [{ name: 'c', object: 'o.yaml', inventory: ['i.yaml'], skip: false, line: 8, assertions: [{ violations: 2, message: 'x', line: 12 }, { violations: 'no', line: 14 }, { line: 8 }] }],
        },
      ],
    });
  });

  it('YAML 1.2: yes and no are strings, so `violations: yes` is the string "yes"', () => {
    expect(suite('tests:\n- cases:\n  - assertions:\n    - violations: yes\n')?.tests[0]?.cases[0]?.assertions[0]?.violations).toBe('yes');
  });

  it('a document that is not a Suite is undefined', () => {
    expect(parseSuite('apiVersion: test.gatekeeper.sh/v1alpha1\nkind: Other\n', 'f')).toBeUndefined();
    expect(parseSuite('apiVersion: test.gatekeeper.sh/v1/extra\nkind: Suite\n', 'f')).toBeUndefined();
  });

  it.each([
    ['tests: {}\n', '/s/suite.yaml:3: invalid Suite: suite.tests must be a list'],
    ['tests:\n- name: 5\n', '/s/suite.yaml:4: invalid Suite: suite.tests[0].name must be a string'],
    ['tests:\n- name: t\n  skip: yes\n', '/s/suite.yaml:5: invalid Suite: suite.tests[0].skip must be true or false'],
    ['tests:\n- cases:\n  - assertions:\n    - violations: 1.5\n', '/s/suite.yaml:6: invalid Suite: suite.tests[0].cases[0].assertions[0].violations must be an integer, "yes" or "no"'],
    ['tests:\n- cases:\n  - assertions:\n    - message: [a]\n', '/s/suite.yaml:6: invalid Suite: suite.tests[0].cases[0].assertions[0].message must be a string'],
    ['tests:\n- cases:\n  - inventory: [1]\n', '/s/suite.yaml:5: invalid Suite: suite.tests[0].cases[0].inventory[0] must be a string'],
    ['tests:\n- cases: [\n', /^\/s\/suite\.yaml:\d+: invalid yaml: /],
    ['tests:\n- name: a\n  name: b\n', /^\/s\/suite\.yaml:5: invalid yaml: Map keys must be unique/],
  ])('%j is refused with the file and line', (body, message) => {
    let err: unknown;
    try {
      suite(body);
    } catch (e) {
      err = e;
    }
    expect(isBouncerError(err, 'SUITE_INVALID')).toBe(true);
    if (typeof message === 'string') expect((err as Error).message).toBe(message);
    else expect((err as Error).message).toMatch(message);
  });

  it('a suite file that is a list is refused', () => {
    expect(() => parseSuite('- a\n', '/s/list.yaml')).toThrow('/s/list.yaml:1: invalid yaml: a suite file must hold a mapping, found a sequence');
  });
});
