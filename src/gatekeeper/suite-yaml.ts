// YAML as gator reads it (go.yaml.in/yaml/v3, then a JSON round trip): YAML 1.2 core, plus
// what yaml.v3 resolves differently from the core schema, so an object under review has the
// same values in bouncer as in gator:
//  - integers: underscores dropped, then Go's strconv.ParseInt base 0 — `0644` is octal (420),
//    `0x1F`, `0o17`, `0b101`; a leading-zero number with 8 or 9 is a float (`089` → 89);
//  - unquoted timestamps (`2001-12-14`, `2001-12-14T21:59:43.1Z`, `2001-12-14 21:59:43`)
//    become time.Time, which JSON prints as RFC 3339 (`2001-12-14T00:00:00Z`);
//  - merge keys (`<<`) are applied;
//  - a multi-line quoted scalar whose continuation lines are not indented past their parent
//    (`description: "a\n  b"` at the key's own indentation) is read as libyaml reads it: the
//    YAML spec wants more indentation, the gatekeeper-library has such templates, and leading
//    spaces of continuation lines are folded away, so indenting them changes no value.
// Only the first document of a suite, template or constraint file counts (yaml.Unmarshal);
// object and inventory files are split on "\n---" after gator's clean-up (reader.ReadUnstructureds).
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type ScalarTag, type Tags } from 'yaml';
import { BouncerError } from '../errors/errors.js';

const GO_INT: ScalarTag = {
  identify: (v) => typeof v === 'number' && Number.isInteger(v),
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?(?:0[xX][0-9a-fA-F_]*|0[oO][0-7_]*|0[bB][01_]*|[0-9][0-9_]*)$/,
  resolve: (source) => goInteger(source) ?? source,
};

const GO_TIMESTAMP: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:timestamp',
  test: /^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))|(?: \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?))?$/,
  resolve: (source) => goTimestamp(source) ?? source,
};

const PARSE_OPTIONS = { merge: true, customTags: (tags: Tags): Tags => [GO_INT, GO_TIMESTAMP, ...tags] } as const;

/** strconv.ParseInt(s, 0, 64) after removing underscores, then yaml.v3's float fallback; undefined: a string. */
export function goInteger(source: string): number | undefined {
  const plain = source.replaceAll('_', '');
  const match = /^([-+]?)(0[xX]|0[oO]|0[bB]|0(?=[0-9]))?([0-9a-fA-F]*)$/.exec(plain);
  if (!match) return undefined;
  const [, sign = '', prefix = '', digits = ''] = match;
  const base = { '': 10, '0x': 16, '0X': 16, '0o': 8, '0O': 8, '0b': 2, '0B': 2, '0': 8 }[prefix] ?? 10;
  const valid = { 16: /^[0-9a-fA-F]+$/, 10: /^[0-9]+$/, 8: /^[0-7]+$/, 2: /^[01]+$/ }[base];
  if (prefix !== '' && prefix !== '0' && digits === '') return undefined;
  if (valid?.test(digits) !== true) {
    // "089": not octal, but yaml.v3 then reads it as the float 89.
    return prefix === '0' && /^[0-9]+$/.test(digits) ? Number(`${sign}${digits}`) : undefined;
  }
  const value = digits.split('').reduce((n, d) => n * base + parseInt(d, 16), 0);
  return sign === '-' ? -value : value;
}

/** The RFC 3339 text encoding/json gives the time.Time yaml.v3 parses from an unquoted timestamp. */
export function goTimestamp(source: string): string | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?)?$/.exec(source);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
  const daysInMonth = new Date(Date.UTC(year ?? 0, month ?? 0, 0)).getUTCDate();
  if (!month || month > 12 || !day || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const two = (n: number): string => String(n).padStart(2, '0');
  const fraction = (m[7] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[8] === undefined || m[8] === 'Z' || m[8] === '+00:00' || m[8] === '-00:00' ? 'Z' : m[8];
  return `${m[1]}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}:${two(second)}${fraction ? `.${fraction}` : ''}${zone}`;
}

export interface ParsedDocument {
  readonly node: Node;
  /** The document as JSON-shaped data. */
  readonly value: Record<string, unknown>;
  readonly isMap: boolean;
  readonly nodeType: string;
  readonly line: number;
  /** The 1-based line a node starts on. */
  readonly lineOf: (node: Node | null | undefined) => number;
  /** The node an alias (*name) stands for; any other node itself. */
  readonly resolve: (node: Node | null | undefined) => Node | null | undefined;
}

/** The first YAML document of a file, or undefined when it is empty (null). */
export function parseFirstDocument(text: string, file: string): ParsedDocument | undefined {
  const lines = new LineCounter();
  const docs = parseAllDocuments(relaxQuotedScalarIndent(text), { ...PARSE_OPTIONS, lineCounter: lines });
  const first = (Array.isArray(docs) ? docs : [docs])[0] as Document | undefined;
  if (!first) return undefined;
  throwFirstError(first, file);
  const node = first.contents;
  if (node === null || (isScalar(node) && node.value === null)) return undefined;
  const lineOf = (n: Node | null | undefined): number => (n?.range ? lines.linePos(n.range[0]).line : 1);
  const value: unknown = first.toJS({ maxAliasCount: 1000 });
  return {
    node,
    value: isPlainObject(value) ? value : {},
    isMap: isMap(node),
    nodeType: isSeq(node) ? 'a sequence' : 'a scalar',
    line: lineOf(node),
    lineOf,
    resolve: (n) => (isAlias(n) ? (n.resolve(first) as Node | undefined) : n),
  };
}

/** The object of a template or constraint file: its first document, a mapping ({} when empty). */
export function parseFirstObject(text: string, file: string): Record<string, unknown> {
  const doc = parseFirstDocument(text, file);
  if (doc === undefined) return {};
  if (!doc.isMap) throw yamlError(file, doc.line, `cannot read ${doc.nodeType} as an object`);
  return doc.value;
}

/**
 * The objects of an object or inventory file, as gator's reader.ReadUnstructureds splits them:
 * the text is cut at every "\n---", blank and comment-only lines are dropped from each part,
 * and each non-empty part is one object (a part holding only `null` is the object {}).
 */
export function parseObjects(text: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const part of text.split('\n---')) {
    const cleaned = part
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
      .map((line) => `${line}\n`)
      .join('');
    if (cleaned === '') continue;
    out.push(parseFirstObject(cleaned, file));
  }
  return out;
}

/**
 * The text with the continuation lines of under-indented multi-line quoted scalars indented
 * one column past their opening quote (libyaml's leniency; see the header). Unchanged when the
 * YAML parser reports no unterminated quoted scalar. Line and column of everything else stay.
 */
export function relaxQuotedScalarIndent(text: string): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const docs = parseAllDocuments(text, PARSE_OPTIONS);
    const error = (Array.isArray(docs) ? docs : [docs]).flatMap((d) => d.errors).find((e) => e.code === 'MISSING_CHAR' && /^Missing closing (["'])quote/.test(e.message));
    if (!error) return text;
    const quote = /^Missing closing (["'])quote/.exec(error.message)?.[1] as '"' | "'";
    const repaired = reindentScalar(text, error.pos[0], quote);
    if (repaired === text) return text;
    text = repaired;
  }
  return text;
}

function reindentScalar(text: string, cut: number, quote: '"' | "'"): string {
  let open = text.lastIndexOf(quote, cut - 1);
  while (quote === '"' && open > 0 && escaped(text, open)) open = text.lastIndexOf(quote, open - 1);
  if (open < 0) return text;
  let close = text.indexOf(quote, cut);
  while (close >= 0 && (quote === '"' ? escaped(text, close) : text[close + 1] === "'")) close = text.indexOf(quote, close + (quote === '"' ? 1 : 2));
  if (close < 0) return text;
  const column = open - (text.lastIndexOf('\n', open) + 1);
  const body = text
    .slice(open, close)
    .split('\n')
    .map((line, i) => {
      if (i === 0 || line.trim() === '') return line;
      const indent = /^ */.exec(line)?.[0].length ?? 0;
      return indent > column ? line : `${' '.repeat(column + 1 - indent)}${line}`;
    })
    .join('\n');
  return text.slice(0, open) + body + text.slice(close);
}

function escaped(text: string, at: number): boolean {
  let n = 0;
  while (text[at - 1 - n] === '\\') n++;
  return n % 2 === 1;
}

function throwFirstError(doc: Document, file: string): void {
  const error = doc.errors[0];
  if (!error) return;
  const line = error.linePos?.[0]?.line ?? 1;
  const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  throw yamlError(file, line, message);
}

function yamlError(file: string, line: number, message: string): BouncerError {
  return new BouncerError('SUITE_INVALID', `${file}:${line}: invalid yaml: ${message}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
