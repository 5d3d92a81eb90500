// The decoder and the policy engine read one JSON language, checked on generated bodies
// against the real parsers rather than expectations written by hand: for every body,
//
//   the decoder accepts it  ⇔  OPA's WASM parser parses it (run through the real engine:
//                              a policy that returns its whole input), JavaScript accepts
//                              it (JSON.parse, through parseJson, which reads escaped keys
//                              right where V8 does not), and the two values are equal;
//
// and when the decoder accepts it, what JavaScript reads (the envelope, request.object)
// is what the policy read. The generator aims at the places the two parsers differ:
// escapes, surrogates (paired, lone, reversed), duplicate keys, numbers (signs, leading
// zeros, missing digits, huge exponents, many digits), whitespace, separators, literals,
// raw control characters, and encodings (BOM, UTF-16, invalid and overlong UTF-8).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import type { AdmissionReview } from '../../src/admission/types.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import { parseJson } from '../../src/json/parse-json.js';

const RUNS = Number(process.env.BOUNCER_FUZZ_RUNS ?? 150);
/**
 * Fixed in `npm test`, so that a run is reproducible and a green CI run means the same code
 * passed the same cases; BOUNCER_FUZZ_SEED=random (or another number) explores further.
 */
const SEED = process.env.BOUNCER_FUZZ_SEED === 'random' ? undefined : Number(process.env.BOUNCER_FUZZ_SEED ?? 20_261_201);
/**
 * The seed that found V8's key misreading on Node v24.21.0 (src/json/parse-json.ts): after
 * the earlier cases had parsed a key `"\\"`, JSON.parse read case 193's key `"\u0061"` as
 * `\`, so the decoder's JavaScript and the policy disagreed about a body both accept. Kept as
 * a case on every Node.
 */
const KEY_MISREAD_SEED = 529_950_135;

/** Bytes of a body: text (encoded as UTF-8) and raw byte runs. */
type Part = string | readonly number[];

const hex4 = (n: number, upper: boolean) => (upper ? n.toString(16).toUpperCase() : n.toString(16)).padStart(4, '0');
const unit = (range: [number, number]) => fc.tuple(fc.integer({ min: range[0], max: range[1] }), fc.boolean()).map(([n, up]) => `\\u${hex4(n, up)}`);
const HIGH: [number, number] = [0xd800, 0xdbff];
const LOW: [number, number] = [0xdc00, 0xdfff];

// Deviations are generated one weight unit each against many units of plain JSON, so that
// most bodies hold one deviation or none, and all three outcomes are common.
const w = <T,>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ weight, arbitrary });

// One piece of a string's content, as JSON text or raw bytes.
const stringPiece: fc.Arbitrary<Part> = fc.oneof(
  w(40, fc.stringMatching(/^[ -!#-[\]-~]{1,4}$/)),
  w(6, fc.constantFrom('é', '€', '😀', '\u2028', '\u00a0', '\ufeff', '\ufffd', '\u007f', '\u0085')),
  w(6, fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t')),
  w(1, fc.constantFrom('\\x', '\\a', '\\0', '\\U0041', '\\u12', '\\u12g4', "\\'", '\\ ', '\\v')),
  w(6, unit([0, 0xffff])),
  w(4, fc.tuple(unit(HIGH), unit(LOW)).map(([h, l]) => h + l)),
  w(1, unit(HIGH)),
  w(1, unit(LOW)),
  w(1, fc.tuple(unit(LOW), unit(HIGH)).map(([l, h]) => l + h)),
  w(1, fc.tuple(unit(HIGH), unit(HIGH)).map(([a, b]) => a + b)),
  w(1, fc.tuple(unit(HIGH), fc.constantFrom('\\u0041', 'x', '\\n', '')).map(([h, after]) => h + after)),
  w(1, fc.integer({ min: 0, max: 0x1f }).map((c) => [c])),
  w(1, fc.constantFrom<readonly number[]>([0xff], [0x80], [0xc0, 0xaf], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0xf0, 0x9f, 0x98])),
);
const jsonString: fc.Arbitrary<Part[]> = fc.array(stringPiece, { maxLength: 3 }).map((pieces) => ['"', ...pieces, '"']);

const digits = fc.stringMatching(/^[0-9]{1,4}$/);
const jsonNumber: fc.Arbitrary<Part[]> = fc
  .oneof(
    w(
      10,
      fc
        .tuple(
          fc.oneof(w(12, fc.constantFrom('', '-')), w(1, fc.constant('+'))),
          fc.oneof(w(12, fc.oneof(fc.constant('0'), fc.stringMatching(/^[1-9][0-9]{0,3}$/))), w(1, fc.constantFrom('00', '01', '', '0x1f'))),
          fc.oneof(w(12, fc.oneof(fc.constant(''), digits.map((d) => `.${d}`))), w(1, fc.constantFrom('.', '.e'))),
          fc.oneof(w(12, fc.oneof(fc.constant(''), digits.map((d) => `e${d}`), fc.constantFrom('E+5', 'e-7', 'e308', 'e-400', 'e-330'))), w(1, fc.constantFrom('e', 'E', 'e+', 'e-', 'e309', 'e400'))),
        )
        .map((parts) => parts.join('')),
    ),
    w(2, fc.stringMatching(/^-?[1-9][0-9]{15,40}$/)),
    w(1, fc.integer({ min: 300, max: 320 }).map((n) => '1'.padEnd(n, '0'))),
    w(2, fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '-0.0', '1.7976931348623157e308', '1.7976931348623159e308', '5e-324', '9007199254740993')),
  )
  .map((n) => [n]);
const literal: fc.Arbitrary<Part[]> = fc.oneof(w(12, fc.constantFrom('true', 'false', 'null')), w(1, fc.constantFrom('tru', 'nul', 'True', 'NULL', 'set()', 'nullx'))).map((l) => [l]);
const space: fc.Arbitrary<Part> = fc.oneof(
  w(30, fc.constant('')),
  w(10, fc.constantFrom(' ', '\t', '\n', '\r', '\r\n  ')),
  w(1, fc.constantFrom('\f', '\v', '\u00a0', '\u2028', '\ufeff')),
  w(1, fc.constantFrom<readonly number[]>([0x00], [0x0b], [0x0c], [0x1c])),
);
const comma: fc.Arbitrary<Part> = fc.oneof(w(40, fc.constant(',')), w(1, fc.constantFrom('', ',,', ' , ')));
// Keys from a small set, so duplicates (also spelled differently: "a" and "\u0061") are common.
const key: fc.Arbitrary<Part[]> = fc.oneof(
  w(12, fc.constantFrom('"a"', '"b"', '"\\u0061"', '"__proto__"', '"constructor"', '""').map((k) => [k])),
  w(6, jsonString),
  w(1, fc.constantFrom('1', 'null', 'a').map((k) => [k])),
);
const colon = fc.oneof(w(40, fc.constant(':')), w(1, fc.constantFrom('', '::')));
const trailingComma = fc.oneof(w(40, fc.constant('')), w(1, fc.constant(',')));

/**
 * A generated value: its parts, and whether a member in it is overwritten by a later one
 * with the same key. Both parsers keep the last value, so the overwritten one is invisible
 * in what they return: the oracle cannot tell whether they would have read it alike.
 */
interface Gen {
  readonly parts: Part[];
  readonly overwrites: boolean;
}
const plain = (parts: fc.Arbitrary<Part[]>): fc.Arbitrary<Gen> => parts.map((p) => ({ parts: p, overwrites: false }));

function keyName(parts: readonly Part[]): string {
  const text = Buffer.from(bytesOf(parts)).toString('utf8');
  try {
    return String(JSON.parse(text));
  } catch {
    return text;
  }
}

const { value } = fc.letrec<{ value: Gen; array: Gen; object: Gen }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, plain(jsonString), plain(jsonNumber), plain(literal), tie('array'), tie('object')),
  array: fc
    .tuple(fc.array(fc.tuple(space, tie('value'), space), { maxLength: 3 }), fc.array(comma, { minLength: 3, maxLength: 3 }), trailingComma)
    .map(([elements, commas, trailing]) => ({
      parts: ['[', ...elements.flatMap(([a, v, b], i) => [...(i > 0 ? [commas[i - 1] as Part] : []), a, ...v.parts, b]), trailing, ']'],
      overwrites: elements.some(([, v]) => v.overwrites),
    })),
  object: fc
    .tuple(fc.array(fc.tuple(key, space, tie('value')), { maxLength: 3 }), fc.array(comma, { minLength: 3, maxLength: 3 }), colon, trailingComma)
    .map(([members, commas, colon, trailing]) => ({
      parts: ['{', ...members.flatMap(([k, s, v], i) => [...(i > 0 ? [commas[i - 1] as Part] : []), ...k, s, colon, s, ...v.parts]), trailing, '}'],
      overwrites: members.some(([, , v]) => v.overwrites) || new Set(members.map(([k]) => keyName(k))).size < members.length,
    })),
}));

const encoder = new TextEncoder();
function bytesOf(parts: readonly Part[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const envelope = (object: Part[], extra: Part[], namespace: Part[], lead: Part, trail: Part): Part[] => [
  lead,
  '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"uid-prop","kind":{"group":"","version":"v1","kind":"ConfigMap"},',
  '"resource":{"group":"","version":"v1","resource":"configmaps"},"operation":"CREATE","namespace":',
  ...namespace,
  ',"userInfo":{"username":"u","extra":{"x":',
  ...extra,
  '}},"object":{"metadata":{"name":"cm"},"data":{"x":',
  ...object,
  '}}}}',
  trail,
];

// A generated value inside request.object (read lazily by JS), one inside the envelope
// (parsed up front by JS), a generated namespace string (read by JS for scoping), and what
// surrounds the whole body, re-encoded now and then.
const body: fc.Arbitrary<{ bytes: Uint8Array; overwrites: boolean }> = fc
  .tuple(
    value,
    fc.oneof(fc.constant<Gen>({ parts: ['"plain"'], overwrites: false }), value),
    fc.oneof(fc.constant<Part[]>(['"team"']), jsonString),
    space,
    space,
    fc.oneof(w(40, fc.constant('utf8')), w(1, fc.constantFrom('bom', 'utf16le', 'utf16be'))),
  )
  .map(([object, extra, namespace, lead, trail, encoding]) => {
    const overwrites = object.overwrites || extra.overwrites;
    const bytes = bytesOf(envelope(object.parts, extra.parts, namespace, lead, trail));
    if (encoding === 'bom') return { bytes: bytesOf([[0xef, 0xbb, 0xbf], [...bytes]]), overwrites };
    if (encoding === 'utf8') return { bytes, overwrites };
    const le = Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf16le');
    return { bytes: Uint8Array.from(encoding === 'utf16le' ? le : le.swap16()), overwrites };
  });

type Verdict = { ok: true; value: unknown } | { ok: false; why: string };

describe('one JSON language for the decoder and the policy engine', () => {
  let echo: LoadedBundle;
  let entry: number;
  beforeAll(async () => {
    echo = await loadBundle('echo', readFileSync(inject('bundles').echo as string));
    entry = echo.policies.find((p) => p.meta.id === 'echo')?.validate as number;
  });

  /** What the policy engine read: the input the echo policy returned. */
  const engine = (bytes: Uint8Array): Verdict => {
    const [outcome] = echo.evaluator.evaluate(bytes, [entry]);
    if (!outcome?.ok) return { ok: false, why: outcome ? `${outcome.failure.class}: ${outcome.failure.message}` : 'no outcome' };
    return { ok: true, value: (outcome.value as { warn: { details: { input: unknown } }[] }).warn[0]?.details.input };
  };
  const jsonParse = (bytes: Uint8Array): Verdict => {
    try {
      // fatal: invalid UTF-8 is an error; ignoreBOM: a BOM stays in the text, where JSON.parse refuses it.
      return { ok: true, value: parseJson(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)) };
    } catch (err) {
      return { ok: false, why: (err as Error).message };
    }
  };
  const decoder = (bytes: Uint8Array): { ok: true; review: AdmissionReview } | { ok: false; why: string } => {
    try {
      return { ok: true, review: decodeReview(bytes) };
    } catch (err) {
      return { ok: false, why: `${(err as { code?: string }).code}: ${(err as Error).message}` };
    }
  };

  const checkLanguage = (seed: number | undefined) => {
    const seen = { accepted: 0, refusedByBoth: 0, readDifferently: 0, overwrites: 0 };
    const differences: string[] = [];
    fc.assert(
      fc.property(body, ({ bytes, overwrites }) => {
        const wasm = engine(bytes);
        const parsed = jsonParse(bytes);
        const same = wasm.ok && parsed.ok && isEqual(wasm.value, parsed.value);
        const js = decoder(bytes);
        const context = { body: Buffer.from(bytes).toString('latin1'), wasm: wasm.ok ? 'parsed' : wasm.why, jsonParse: parsed.ok ? 'parsed' : parsed.why, js: js.ok ? 'accepted' : js.why };
        // Accepted ⇒ read alike, always. Read alike ⇒ accepted, unless a duplicate key hid a
        // value from both results (the decoder still refuses it when it is outside the language).
        if (overwrites) {
          seen.overwrites++;
          if (js.ok) expect(same, JSON.stringify(context)).toBe(true);
        } else expect(js.ok, JSON.stringify(context)).toBe(same);
        if (!wasm.ok && !parsed.ok) seen.refusedByBoth++;
        else if (!same) {
          seen.readDifferently++;
          differences.push(`${context.body.slice(190, 260)} → wasm ${context.wasm}, JSON.parse ${context.jsonParse}`);
        }
        if (!js.ok || !wasm.ok) return;
        seen.accepted++;
        // What JavaScript reads is what the policy read.
        const input = wasm.value as { request: { object: unknown; namespace: unknown } };
        expect(js.review.request.object).toEqual(input.request.object);
        expect(js.review.request.namespace ?? '').toBe(input.request.namespace);
      }),
      { numRuns: RUNS * 4, ...(seed === undefined ? {} : { seed }) },
    );
    // The generator must reach every region: accepted, refused by both, read differently, duplicates.
    expect(seen.accepted).toBeGreaterThan(RUNS / 10);
    expect(seen.refusedByBoth).toBeGreaterThan(RUNS / 10);
    expect(seen.readDifferently, differences.join('\n')).toBeGreaterThan(RUNS / 50);
    expect(seen.overwrites).toBeGreaterThan(RUNS / 50);
  };

  it('accepts a body exactly when the engine and JSON.parse both read it to the same value, and then reads that value', () => checkLanguage(SEED));

  it(`reads keys alike after earlier bodies had a key holding a backslash (seed ${KEY_MISREAD_SEED})`, () => checkLanguage(KEY_MISREAD_SEED));
});

/**
 * Equality of JSON values, as JavaScript holds them: tells -0 from 0, compares keys as sets,
 * and holds a number JSON.parse read as ±Infinity equal to nothing — it is no JSON value in
 * JavaScript any more (JSON.stringify writes null), while OPA keeps the decimal.
 */
function isEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Number.isFinite(a) && Object.is(a, b);
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
