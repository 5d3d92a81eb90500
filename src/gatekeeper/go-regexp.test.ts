// compileGoRegexp against Go's regexp package itself (go run, when a Go toolchain is present):
// for every pattern, Go's verdict on each subject (or Go's refusal) must be bouncer's.
import { describe, expect, it } from 'vitest';
import { goAvailable, runGo } from '../../test/support/go-oracle.js';
import { compileGoRegexp, GoRegexpError } from './go-regexp.js';

const PROGRAM = `package main
import ("encoding/json"; "os"; "regexp")
type c struct { Pattern string; Subjects []string }
type r struct { Error bool; Matches []bool }
func main() {
  var cases []c
  if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil { panic(err) }
  out := []r{}
  for _, x := range cases {
    re, err := regexp.Compile(x.Pattern)
    if err != nil { out = append(out, r{Error: true}); continue }
    m := []bool{}
    for _, s := range x.Subjects { m = append(m, re.MatchString(s)) }
    out = append(out, r{Matches: m})
  }
  json.NewEncoder(os.Stdout).Encode(out)
}
`;

const SUBJECTS = ['', 'a', 'abc', 'ABC', 'a\nb', 'a\rb', 'a\u2028b', 'x{', 'x{2}', 'xx', 'a.c', 'a-b', '\v', ' ', '\t', 'é', 'É', 'α', '日本', '😀', 'a b', '42', 'foo_bar', '[x]', 'a}', '"q"', "it's", '\\', 'line1\nline2\n'];

// Patterns Go accepts, each translated to a JS regexp with Go's matches.
const ACCEPTED = [
  'a', 'abc', '^a', 'c$', '^abc$', '(?i)abc', '(?s)a.b', 'a.b', '(?m)^b', '(?m)a$', '(?m)^line2$', '(?i)(?m)^B', '(?is)A.B',
  '\\Aabc\\z', '\\Aa', 'b\\z', 'x{', 'x{2}', 'x\\{2\\}', 'x{1,}', 'x{0,1}y', 'a}', '\\}', ']', '[]a]', '[^]a]', '[a-c]+', '[^a-c]',
  '\\Q.*\\E', '\\Qa.c', '[[:alpha:]]+', '[[:digit:][:space:]]', '[[:punct:]]', '\\pL', '\\PL', '\\p{Lu}', '\\p{Greek}', '\\p{Han}+', '\\p{^Greek}',
  '[\\p{L}\\d]+', '(?P<name>a)b', '(?<n>a)', '(?:ab)+', 'a|b', '\\s', '\\S', '[\\s]', '\\d+', '[\\d]', '\\w+', '\\W', '\\bfoo', 'o\\B',
  '\\-', '\\.', '\\"', "\\'", '\\\\', '[\\-a]', '[a\\]]', '\\x41', '\\x{1F600}', '\\101', '\\0', '\\a', '\\t', '[\\t ]', '.', '..', '😀', '[😀]',
  'é', '(?i)É', '(?i)α', '[é-ë]', 'a*?', 'a+?b', 'a??', '(a)(b)?', '\\[x\\]', '[[]', '[a-]', '[-a]', '[\\[]', '/', 'a/b', '[/]',
  'container <\\w+> has no resource limits', 'prefix.*suffix', '^$',
];

// Patterns Go refuses: bouncer must refuse them too.
const REFUSED = ['(?=a)', '(?!a)', '(?<=a)b', '(?<!a)b', '\\1', '(a)\\1', '\\Z', '\\8', '\\e', '(abc', 'abc)', '[a', '[z-a]', 'a{1001}', 'a{2,1}', '*a', 'a**', '(?P<>a)', '(?P<a-b>x)', '\\p{NoSuchScript}', '\\x{110000}', '\\xZZ', '\\', '(?#comment)'];

describe.skipIf(!goAvailable())('compileGoRegexp, checked against Go regexp', () => {
  it('matches what Go matches, and refuses what Go refuses', () => {
    const cases = [...ACCEPTED, ...REFUSED].map((pattern) => ({ Pattern: pattern, Subjects: SUBJECTS }));
    const go = runGo<{ Error: boolean; Matches: boolean[] | null }[]>(PROGRAM, cases);
    const differences: string[] = [];
    cases.forEach(({ Pattern }, i) => {
      const want = go[i];
      let got: boolean[] | 'error';
      try {
        const re = compileGoRegexp(Pattern);
        got = SUBJECTS.map((s) => re.test(s));
      } catch (err) {
        if (!(err instanceof GoRegexpError)) throw err;
        got = 'error';
      }
      const expected = want?.Error ? 'error' : want?.Matches;
      if (JSON.stringify(got) !== JSON.stringify(expected)) differences.push(`${JSON.stringify(Pattern)}: go ${JSON.stringify(expected)}, bouncer ${JSON.stringify(got)}`);
    });
    expect(differences).toEqual([]);
    // The lists are what they claim to be.
    expect(go.slice(0, ACCEPTED.length).every((r) => !r.Error)).toBe(true);
    expect(go.slice(ACCEPTED.length).every((r) => r.Error)).toBe(true);
  }, 60_000);
});

describe('compileGoRegexp refusals of valid Go syntax', () => {
  it.each(['a(?i)b', '(?i:a)b', '(?U)a+', '(?-i)a', '[[:^alpha:]]', '[\\S]'])('%s is refused with a reason', (pattern) => {
    expect(() => compileGoRegexp(pattern)).toThrow(/bouncer cannot evaluate this Go regexp/);
  });

  it("reports syntax errors in Go's words", () => {
    expect(() => compileGoRegexp('(a')).toThrow('error parsing regexp: missing closing ): `(a`');
    expect(() => compileGoRegexp('(?=a)')).toThrow('error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    expect(() => compileGoRegexp('\\1')).toThrow('error parsing regexp: invalid escape sequence: `\\1`');
  });
});
