// Builtins OPA's WASM library implements inside the module, re-routed to the host by
// rewriting the module's code before it is compiled. regex.match is the one: the library's
// version (wasm/src/regex.cc) keeps compiled RE2 patterns in a builtin cache that
// opa_heap_ptr_set empties, and the engine resets the heap before every evaluation, so each
// review compiled every pattern again (at 100 constraints of a template with a regex
// parameter, most of a review's CPU). Go OPA, which Gatekeeper runs, keeps them across
// queries. On the host the compiled patterns live in JavaScript and survive evaluations.
//
// The rewrite replaces the body of the library function (found by name in the module's
// "name" section) with a call to the host import opa_builtin2 under an id the module's own
// builtins() table does not use; function indices, types and everything else stay as they
// are. A module without the function (a policy that calls no regex.match) is unchanged.
// https://webassembly.github.io/spec/core/binary/modules.html

/** Library function → the builtin name the host implements it under. */
const ROUTED: Readonly<Record<string, string>> = { opa_regex_match: 'regex.match' };

/** Ids given to routed builtins: above any id OPA assigns (they count up from 0). */
const FIRST_ROUTED_ID = 0x40000000;

export interface RoutedModule {
  readonly bytes: Uint8Array;
  /** Builtin id the rewritten module calls the host with → builtin name. */
  readonly routed: Readonly<Record<number, string>>;
}

const SECTION = { custom: 0, type: 1, import: 2, function: 3, code: 10 } as const;
const I32 = 0x7f;

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.at++];
      if (b === undefined) throw new Error('truncated module');
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }

  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + length));
    this.at += length;
    return text;
  }

  limits(): void {
    const flags = this.u32();
    this.u32();
    if (flags & 1) this.u32();
  }
}

function u32Bytes(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value >>>= 7;
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

function i32Bytes(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

interface Section {
  readonly id: number;
  /** Offset of the section's content, and its end. */
  readonly start: number;
  readonly end: number;
  /** Offset of the section's id byte. */
  readonly header: number;
}

function sections(bytes: Uint8Array): Section[] {
  const list: Section[] = [];
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const header = r.at;
    const id = bytes[r.at++] as number;
    const size = r.u32();
    list.push({ id, start: r.at, end: r.at + size, header });
    r.at += size;
  }
  return list;
}

/** Function index → name, from the "name" section's function names. */
function functionNames(bytes: Uint8Array, all: readonly Section[]): Map<string, number> {
  const names = new Map<string, number>();
  for (const s of all.filter((x) => x.id === SECTION.custom)) {
    const r = new Reader(bytes, s.start);
    if (r.name() !== 'name') continue;
    while (r.at < s.end) {
      const sub = bytes[r.at++] as number;
      const size = r.u32();
      const next = r.at + size;
      if (sub === 1) {
        for (let n = r.u32(); n > 0; n--) {
          const index = r.u32();
          names.set(r.name(), index);
        }
      }
      r.at = next;
    }
  }
  return names;
}

/** The function imports in order (their index is their position), by field name. */
function functionImports(bytes: Uint8Array, section: Section | undefined): string[] {
  const names: string[] = [];
  if (!section) return names;
  const r = new Reader(bytes, section.start);
  for (let n = r.u32(); n > 0; n--) {
    r.name();
    const field = r.name();
    const kind = bytes[r.at++];
    if (kind === 0) {
      r.u32();
      names.push(field);
    } else if (kind === 1) {
      r.at++;
      r.limits();
    } else if (kind === 2) r.limits();
    else if (kind === 3) r.at += 2;
    else throw new Error(`unknown import kind ${String(kind)}`);
  }
  return names;
}

/** Whether defined function `defined` has type (i32, i32) -> i32. */
function takesTwoI32s(bytes: Uint8Array, all: readonly Section[], defined: number): boolean {
  const fn = all.find((s) => s.id === SECTION.function);
  const types = all.find((s) => s.id === SECTION.type);
  if (!fn || !types) return false;
  const f = new Reader(bytes, fn.start);
  if (defined >= f.u32()) return false;
  for (let i = 0; i < defined; i++) f.u32();
  const typeIndex = f.u32();
  const t = new Reader(bytes, types.start);
  const count = t.u32();
  if (typeIndex >= count) return false;
  for (let i = 0; ; i++) {
    if (bytes[t.at++] !== 0x60) return false;
    const params = Array.from({ length: t.u32() }, () => bytes[t.at++]);
    const results = Array.from({ length: t.u32() }, () => bytes[t.at++]);
    if (i === typeIndex) return params.length === 2 && params.every((p) => p === I32) && results.length === 1 && results[0] === I32;
  }
}

/**
 * The module with each routed library function's body replaced by a host call, and the ids
 * it calls with. Throws on bytes that are not a module (compileWasm reports it as invalid).
 */
export function routeBuiltinsToHost(bytes: Uint8Array): RoutedModule {
  const all = sections(bytes);
  const names = functionNames(bytes, all);
  const imports = functionImports(bytes, all.find((s) => s.id === SECTION.import));
  const builtin2 = imports.indexOf('opa_builtin2');
  const code = all.find((s) => s.id === SECTION.code);
  const targets = new Map<number, number>();
  const routed: Record<number, string> = {};
  for (const [fn, builtin] of Object.entries(ROUTED)) {
    const index = names.get(fn);
    if (index === undefined || builtin2 < 0 || !code || index < imports.length || !takesTwoI32s(bytes, all, index - imports.length)) continue;
    const id = FIRST_ROUTED_ID + Object.keys(routed).length;
    targets.set(index - imports.length, id);
    routed[id] = builtin;
  }
  if (targets.size === 0 || !code) return { bytes, routed: {} };

  const r = new Reader(bytes, code.start);
  const count = r.u32();
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const id = targets.get(i);
    // (no locals) i32.const id; i32.const 0 (ctx); local.get 0; local.get 1; call opa_builtin2; end
    const body = id === undefined ? bytes.subarray(r.at, r.at + size) : Uint8Array.from([0, 0x41, ...i32Bytes(id), 0x41, 0, 0x20, 0, 0x20, 1, 0x10, ...u32Bytes(builtin2), 0x0b]);
    bodies.push(Uint8Array.from([...u32Bytes(body.length)]), body);
    r.at += size;
  }
  const content = concat([Uint8Array.from(u32Bytes(count)), ...bodies]);
  const section = concat([Uint8Array.from([SECTION.code, ...u32Bytes(content.length)]), content]);
  return { bytes: concat([bytes.subarray(0, code.header), section, bytes.subarray(code.end)]), routed };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
