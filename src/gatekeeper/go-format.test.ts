// goQuote, goStringSlice and goSeconds against Go's fmt (go run, when a Go toolchain is present).
import { describe, expect, it } from 'vitest';
import { goAvailable, runGo } from '../../test/support/go-oracle.js';
import { goQuote, goSeconds, goStringSlice } from './go-format.js';

const PROGRAM = `package main
import ("encoding/json"; "fmt"; "os"; "time")
type in struct { Strings []string; Slices [][]string; Nanos []int64 }
type out struct { Quoted []string; Slices []string; Seconds []string }
func main() {
  var x in
  if err := json.NewDecoder(os.Stdin).Decode(&x); err != nil { panic(err) }
  var o out
  for _, s := range x.Strings { o.Quoted = append(o.Quoted, fmt.Sprintf("%q", s)) }
  for _, s := range x.Slices { o.Slices = append(o.Slices, fmt.Sprintf("%v", s)) }
  for _, n := range x.Nanos { o.Seconds = append(o.Seconds, fmt.Sprintf("%.3fs", time.Duration(n).Seconds())) }
  json.NewEncoder(os.Stdout).Encode(o)
}
`;

const STRINGS = ['', 'plain', 'with "quotes"', 'back\\slash', 'tab\there', 'nl\n', '\x07\b\f\r\v', '\x00\x1f\x7f', 'é日本', '😀', '\u00a0nbsp', '\u200bzero-width', '\u2028', '\ufeff', 'container <nginx> has no resource limits', '(?i)^x$'];
const SLICES = [[], ['a'], ['a b', 'c'], ['', '']];
const NANOS = [0, 1, 499_999, 500_000, 1_500_000, 62_500_000, 187_500_000, 999_499_999, 999_500_000, 1_000_000_000, 12_345_678_901, 3_062_500_000];

describe.skipIf(!goAvailable())('Go formatting, checked against fmt', () => {
  it("renders %q, %v of []string and verify.Duration as Go's fmt does", () => {
    const go = runGo<{ Quoted: string[]; Slices: string[]; Seconds: string[] }>(PROGRAM, { Strings: STRINGS, Slices: SLICES, Nanos: NANOS });
    expect(STRINGS.map(goQuote)).toEqual(go.Quoted);
    expect(SLICES.map(goStringSlice)).toEqual(go.Slices);
    expect(NANOS.map(goSeconds)).toEqual(go.Seconds);
  }, 60_000);
});
