import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isBouncerError } from '../errors/errors.js';
import { constraint, template } from '../../test/support/gatekeeper-objects.js';
import { readImportDocuments } from './import-documents.js';

describe('readImportDocuments', () => {
  it('reads multi-document YAML, leaving out empty documents, naming each document', () => {
    const text = `---\n${stringify(template())}---\n# only a comment\n---\n${stringify(constraint('a', ['x']))}`;
    const docs = readImportDocuments(text, 'p.yaml');
    expect(docs.map((d) => [d.source, (d.object as { kind: string }).kind])).toEqual([
      ['p.yaml (document 1)', 'ConstraintTemplate'],
      ['p.yaml (document 3)', 'BouncerRequiredLabels'],
    ]);
  });

  it('reads JSON', () => {
    expect(readImportDocuments(JSON.stringify(template()), 't.json')).toEqual([{ object: template(), source: 't.json' }]);
  });

  it('flattens a kind: List as kubectl get -o yaml prints it', () => {
    const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [template(), constraint('a', ['x'])] };
    const docs = readImportDocuments(stringify(list), 'list.yaml');
    expect(docs).toEqual([
      { object: template(), source: 'list.yaml item 1' },
      { object: constraint('a', ['x']), source: 'list.yaml item 2' },
    ]);
  });

  it('gives the items of a typed list their type when they leave it out, as the API server does', () => {
    const { apiVersion: _a, kind: _k, ...item } = template();
    const list = { apiVersion: 'templates.gatekeeper.sh/v1', kind: 'ConstraintTemplateList', items: [item] };
    expect(readImportDocuments(JSON.stringify(list), 'l.json')[0]?.object).toEqual(template());
  });

  it.each([
    ['a syntax error', 'a: [1, 2\nb: c\n', /^x\.yaml: line \d+: not readable as YAML or JSON/],
    ['a duplicate key', 'a: 1\na: 2\n', /^x\.yaml: line 2: .*unique/],
  ])('refuses %s with IMPORT_INPUT_INVALID naming the file and line', (_name, text, message) => {
    let thrown: unknown;
    try {
      readImportDocuments(text, 'x.yaml');
    } catch (err) {
      thrown = err;
    }
    expect(isBouncerError(thrown, 'IMPORT_INPUT_INVALID')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});
