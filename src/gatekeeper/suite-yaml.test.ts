// YAML as gator reads it: parseObjects and parseFirstDocument against go.yaml.in/yaml/v3 +
// encoding/json (the oracle runs when Go and the module are in the local cache), and gator's
// splitting of object files.
import { describe, expect, it } from 'vitest';
import { goAvailable, runGo } from '../../test/support/go-oracle.js';
import { goInteger, goTimestamp, parseFirstDocument, parseObjects } from './suite-yaml.js';

const PROGRAM = `package main
import ("encoding/json"; "os"; "go.yaml.in/yaml/v3")
func main() {
  var docs []string
  if err := json.NewDecoder(os.Stdin).Decode(&docs); err != nil { panic(err) }
  out := []interface{}{}
  for _, d := range docs {
    m := map[string]interface{}{}
    if err := yaml.Unmarshal([]byte(d), m); err != nil { out = append(out, "error"); continue }
    b, err := json.Marshal(m)
    if err != nil { out = append(out, "error"); continue }
    var v interface{}
    _ = json.Unmarshal(b, &v)
    out = append(out, v)
  }
  json.NewEncoder(os.Stdout).Encode(out)
}
`;

const DOCUMENTS = [
  'mode: 0644\nhex: 0x1F\noct: 0o17\nbin: 0b101\nneg: -12\nplus: +7\nunder: 1_000\nleading: 089\nzero: 0\nfloat: 1.5\nexp: 1e3\ndot: .5',
  'yes: yes\nno: no\non: on\ny: y\nt: True\nf: FALSE\nn: ~\nN: Null\ns: "0644"\nq: \'1_000\'',
  'date: 2001-12-14\nutc: 2001-12-14T21:59:43.10Z\nlower: 2001-12-14t21:59:43.10-05:00\nspaced: 2001-12-14 21:59:43.10\nshort: 2001-1-2\nquoted: "2001-12-14"\nnotdate: 2001-13-01\ntext: 20011214',
  'base: &b {a: 1, b: 2}\nmerged:\n  <<: *b\n  b: 3\nlist: [*b]',
  'block: |\n  line one\n  line two\nfolded: >\n  a\n  b\nempty:\nnested: {x: [1, {y: z}]}',
  // Continuation lines of quoted scalars at their key's own indentation: libyaml reads them.
  'spec:\n  description: "When set to `true` the TLS {} is optional, defaults\n  to false."\n  other: \'it\'\'s\n  here\'\n  after: 1',
];

describe('Go YAML resolution', () => {
  it.each([
    ['0644', 420], ['0x1F', 31], ['0o17', 15], ['0b101', 5], ['-0b11', -3], ['1_000', 1000], ['089', 89], ['+12', 12], ['0', 0], ['0x', undefined], ['12a', undefined],
  ])('integer %s', (source, value) => expect(goInteger(source)).toBe(value));

  it.each([
    ['2001-12-14', '2001-12-14T00:00:00Z'], ['2001-12-14T21:59:43.10Z', '2001-12-14T21:59:43.1Z'], ['2001-1-2 3:4:5', '2001-01-02T03:04:05Z'],
    ['2001-12-14t21:59:43-05:00', '2001-12-14T21:59:43-05:00'], ['2001-02-30', undefined],
  ])('timestamp %s', (source, value) => expect(goTimestamp(source)).toBe(value));
});

describe.skipIf(!goAvailable())('YAML values, checked against yaml.v3 and encoding/json', () => {
  it('reads every document to the values gator gets', (ctx) => {
    let go: unknown[];
    try {
      go = runGo<unknown[]>(PROGRAM, DOCUMENTS, ['go.yaml.in/yaml/v3 v3.0.6']);
    } catch {
      ctx.skip(); // go.yaml.in/yaml/v3 v3.0.6 is not in the local module cache
      return;
    }
    expect(DOCUMENTS.map((d) => parseObjects(d, 'doc.yaml')[0])).toEqual(go);
  }, 60_000);
});

describe('parseObjects (reader.ReadUnstructureds)', () => {
  it('splits at "\\n---", drops blank and comment-only parts, and keeps a null part as {}', () => {
    const text = '# header\na: 1\n---\n# only a comment\n---\n\n---\nb: 2\n--- # trailing\nc: 3\n---\n~\n';
    expect(parseObjects(text, 'f.yaml')).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, {}]);
  });

  it('drops comment-looking lines inside block scalars, as gator does', () => {
    expect(parseObjects('script: |\n  echo a\n  # not a comment\n  echo b\n', 'f.yaml')).toEqual([{ script: 'echo a\necho b\n' }]);
  });

  it('names the file and line of a syntax error', () => {
    expect(() => parseObjects('a: 1\nb: [1,\n', '/x/obj.yaml')).toThrow(/^\/x\/obj\.yaml:\d+: invalid yaml: /);
  });

  it('refuses a part that is not a mapping', () => {
    expect(() => parseObjects('- a\n- b\n', '/x/list.yaml')).toThrow('/x/list.yaml:1: invalid yaml: cannot read a sequence as an object');
  });
});

describe('parseFirstDocument', () => {
  it('reads only the first document, as yaml.Unmarshal', () => {
    expect(parseFirstDocument('a: 1\n---\nb: 2\n', 'f')?.value).toEqual({ a: 1 });
  });

  it('is undefined for an empty file', () => {
    expect(parseFirstDocument('# nothing\n', 'f')).toBeUndefined();
  });
});
