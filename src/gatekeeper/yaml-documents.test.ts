import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseYamlDocuments, reindentQuotedContinuations } from './yaml-documents.js';

describe('parseYamlDocuments', () => {
  it('gives each document its index and first line, empty documents as null', () => {
    const docs = parseYamlDocuments('# head\na: 1\n---\n\nb: 2\n---\n', 'f.yaml');
    expect(docs).toEqual([
      { index: 1, line: 2, value: { a: 1 } },
      { index: 2, line: 5, value: { b: 2 } },
      { index: 3, line: 6, value: null },
    ]);
  });

  it('parses YAML 1.2: yes/no/on are strings, not booleans', () => {
    expect(parseYamlDocuments('a: yes\nb: on\nc: true\n', 'f.yaml')[0]?.value).toEqual({ a: 'yes', b: 'on', c: true });
  });

  it('accepts, as go-yaml does, a quoted scalar continued at its key indentation', () => {
    const text = 'props:\n  flag:\n    description: "When set, the TLS {} is optional, defaults\n    to false."\n    type: boolean\n';
    expect(parseYamlDocuments(text, 'f.yaml')[0]?.value).toEqual({ props: { flag: { description: 'When set, the TLS {} is optional, defaults to false.', type: 'boolean' } } });
    expect(reindentQuotedContinuations("- k: 'it''s\n  open'\n")).toBe("- k: 'it''s\n   open'\n");
  });

  it.each([
    { name: 'a syntax error', text: 'a: 1\n---\nb: [1, 2\n', message: 'f.yaml (document 2, line 4): not valid YAML' },
    { name: 'a duplicate key', text: 'a: 1\na: 2\n', message: 'f.yaml (document 1, line 2): not valid YAML: Map keys must be unique' },
  ])('refuses $name with the document and line', ({ text, message }) => {
    const err = thrown(() => parseYamlDocuments(text, 'f.yaml'));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(message);
  });
});
