// Settings declared once. Each declaration carries its flag, its environment variable, its
// default, its check and its help text; the reader, the usage text and the docs table
// (docs/configuration.md, hack/gen-config-docs.ts) are all made from the same list, so they
// cannot drift apart. Flags win over environment variables, which win over defaults.
import { parseArgs } from 'node:util';
import { BouncerError } from '../errors/errors.js';

/** How a setting is written on the command line. */
export type Arity = 'value' | 'boolean' | 'multiple';

/** A declared setting whose value (after reading) has type `V`. */
export interface Setting<V> {
  /** The long flag, without the leading dashes. */
  readonly flag: string;
  /** The environment variable read when the flag is absent (multiple: comma-separated). */
  readonly env?: string;
  readonly arity: Arity;
  /** What the value looks like in the help text (N, D, FILE, …). */
  readonly metavar?: string;
  readonly help: string;
  /** Section of the help text and the docs table. */
  readonly group: string;
  /** Checks and converts one written value (one item of a `multiple`); throws a plain Error that says what to write. */
  readonly parse: (text: string) => unknown;
  /** The value when neither the flag nor the variable is given. */
  readonly default?: () => V;
  /** Type only: the value's type. */
  readonly _value?: V;
  /** How the default is shown in help and docs (when it is computed). */
  readonly defaultText?: string;
}

/** A setting's value type: `T` when it has a default, else `T | undefined`. */
export type ValueOf<S> = S extends { readonly default: () => infer T } ? T : S extends Setting<infer T> ? T | undefined : never;

export type Values<D> = { readonly [K in keyof D]: ValueOf<D[K]> };

/** Written settings: which ones came from the command line or the environment (for cross-checks). */
export interface ReadSettings<D> {
  readonly values: Values<D>;
  /** Settings given explicitly (by flag or variable), not defaulted. */
  readonly given: ReadonlySet<keyof D>;
}

type Env = Readonly<Record<string, string | undefined>>;

function invalid(message: string, usage: string): BouncerError {
  return new BouncerError('CONFIG_INVALID', `${message}\n${usage}`);
}

/**
 * Reads every declared setting from argv, then env, then its default, checking each value.
 * Errors are CONFIG_INVALID and name the flag and the variable that carried the bad value.
 */
export function readSettings<D extends Record<string, Setting<unknown>>>(declarations: D, argv: readonly string[], env: Env, usage: string): ReadSettings<D> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const s of Object.values(declarations)) options[s.flag] = s.arity === 'boolean' ? { type: 'boolean' } : { type: 'string', ...(s.arity === 'multiple' ? { multiple: true } : {}) };
  let flags: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values: flags } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (cause) {
    throw invalid((cause as Error).message, usage);
  }
  const values: Record<string, unknown> = {};
  const given = new Set<keyof D>();
  for (const [key, s] of Object.entries(declarations)) {
    const flag = flags[s.flag];
    const fromEnv = s.env === undefined ? undefined : env[s.env];
    const where = flag !== undefined ? `--${s.flag}` : `${s.env}`;
    try {
      if (flag !== undefined) {
        values[key] = s.arity === 'multiple' ? (flag as string[]).map((v) => s.parse(v)) : s.arity === 'boolean' ? flag : s.parse(flag as string);
        given.add(key);
      } else if (fromEnv !== undefined && fromEnv !== '') {
        values[key] = s.arity === 'multiple' ? commaList(fromEnv).map((v) => s.parse(v)) : s.arity === 'boolean' ? booleanText(fromEnv) : s.parse(fromEnv);
        given.add(key);
      } else {
        values[key] = s.default?.();
      }
    } catch (cause) {
      throw invalid(`${where}: ${(cause as Error).message}`, usage);
    }
  }
  for (const [key, value] of Object.entries(values)) if (Array.isArray(value)) values[key] = Object.freeze([...value]);
  return Object.freeze({ values: Object.freeze(values) as Values<D>, given });
}

/** "a, b,,c" → ["a", "b", "c"]. */
export const commaList = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function booleanText(text: string): boolean {
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new Error(`must be true or false, got ${JSON.stringify(text)}`);
}

function defaultShown(s: Setting<unknown>): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  if (!s.default || s.arity === 'boolean') return undefined;
  const value = s.default();
  if (Array.isArray(value)) return value.length ? value.join(',') : undefined;
  return value === undefined ? undefined : String(value);
}

/** The `--help` text: one line (or more) per setting, grouped. */
export function usageText(header: string, declarations: Record<string, Setting<unknown>>): string {
  const lines = [header];
  let group = '';
  for (const s of Object.values(declarations)) {
    if (s.group !== group) {
      group = s.group;
      lines.push('', `${group}:`);
    }
    const left = `  --${s.flag}${s.metavar ? ` ${s.metavar}` : ''}${s.arity === 'multiple' ? ' ...' : ''}`;
    const shown = defaultShown(s);
    const right = [s.help, shown !== undefined ? `(default ${shown})` : '', s.env ? `[env ${s.env}]` : ''].filter(Boolean).join(' ');
    lines.push(left.length < 30 ? `${left.padEnd(30)}${right}` : `${left}\n${' '.repeat(30)}${right}`);
  }
  return lines.join('\n');
}

/** The docs table (Markdown) of the same declarations. */
export function settingsTable(declarations: Record<string, Setting<unknown>>): string {
  const rows = ['| flag | environment variable | default | meaning |', '|---|---|---|---|'];
  let group = '';
  for (const s of Object.values(declarations)) {
    if (s.group !== group) {
      group = s.group;
      rows.push(`| **${group}** | | | |`);
    }
    const shown = defaultShown(s);
    const flag = `\`--${s.flag}${s.metavar ? ` ${s.metavar}` : ''}\`${s.arity === 'multiple' ? ' (repeatable)' : ''}`;
    const env = s.env ? `\`${s.env}\`${s.arity === 'multiple' ? ' (comma-separated)' : ''}` : '';
    rows.push(`| ${flag} | ${env} | ${shown !== undefined ? `\`${shown}\`` : ''} | ${s.help.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

// Declaring a setting: `value(group, parse)({ flag, env, help, default, … })`; the
// declaration keeps its literal type, so a setting with a default reads as its value type.

type Options<V> = Omit<Setting<V>, 'arity' | 'parse' | 'group' | 'default' | '_value'> & { readonly default?: V | (() => V) };
type Declared<V, O> = Omit<O, 'default'> & Setting<V> & (O extends { default: unknown } ? { readonly default: () => V } : unknown);

function declare<V>(group: string, arity: Setting<V>['arity'], parse: (text: string) => unknown) {
  return <const O extends Options<V>>(o: O): Declared<V, O> => {
    const { default: d, ...rest } = o;
    const fallback = d === undefined ? {} : { default: typeof d === 'function' ? (d as () => V) : () => d as V };
    return { ...rest, group, arity, parse, ...fallback } as Declared<V, O>;
  };
}

/** A setting written once, checked and converted by `parse`. */
export const value = <T>(group: string, parse: (text: string) => T) => declare<T>(group, 'value', parse);
/** A repeatable flag (comma-separated in its variable). */
export const multiple = <T>(group: string, parse: (text: string) => T) => declare<T[]>(group, 'multiple', parse);
/** A flag without a value (true/false in its variable). */
export const toggle = (group: string) => declare<boolean>(group, 'boolean', anyText);

// Value checks shared by the declarations. Each throws a message that says what to write.

export function portNumber(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`must be a port number (0-65535), got ${JSON.stringify(text)}`);
  return n;
}

export function integer(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "500ms", "90s", "10m", "720h", "2d" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new Error(`must be a duration like 500ms, 30s, 10m, 720h or 2d, got ${JSON.stringify(text)}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

export function oneOf<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!choices.includes(text as T)) throw new Error(`must be one of ${choices.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

export function matching(pattern: RegExp, what: string): (text: string) => string {
  return (text) => {
    if (!pattern.test(text)) throw new Error(`must be ${what}, got ${JSON.stringify(text)}`);
    return text;
  };
}

export const anyText = (text: string): string => text;
