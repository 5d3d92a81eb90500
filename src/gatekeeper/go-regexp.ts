// Go RE2 syntax (package regexp, as gator compiles `message` and --run) translated to a
// JavaScript RegExp with the same matches, or refused. Where the two languages read the same
// text differently, the translation spells out Go's meaning:
//  - `.` never matches "\n" (JS also stops at "\r", U+2028, U+2029); `(?s)` lets it match;
//  - `^`/`$` are the text's start/end; under `(?m)` line starts/ends at "\n" only;
//  - `\A`, `\z` (text start/end), `\Q…\E` (literal text), `\a`, `\x{…}`, octal `\0`…`\377`,
//    POSIX classes `[[:alpha:]]`, `\pL`/`\p{Greek}` (JS spells scripts `\p{Script=Greek}`);
//  - `\s` is Go's ASCII `[\t\n\f\r ]` (JS's \s also matches \v and Unicode spaces);
//  - `(?P<name>…)`/`(?<name>…)` are plain groups (only whether a message matches counts);
//  - a `{` that does not start a repetition, a lone `}` or `]`, and escaped punctuation are
//    literal characters, as in Go.
// Refused (a case using them fails as gator fails an invalid regex, with the reason):
// what Go itself rejects (lookaround, backreferences, `\Z`, unknown escapes, repeat counts
// over 1000), and valid Go syntax that has no JS equivalent here: flag groups other than
// `(?i)`, `(?m)`, `(?s)` at the very start (e.g. `a(?i)b`, `(?i:b)`, `(?U)`), negated POSIX
// classes and `\S` inside a bracket class.
export class GoRegexpError extends Error {
  override readonly name = 'GoRegexpError';
}

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/');
const SPACE = '\\t\\n\\f\\r ';
const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

const fail = (reason: string, fragment: string): never => {
  throw new GoRegexpError(`error parsing regexp: ${reason}: \`${fragment}\``);
};
const unsupported = (fragment: string, why: string): never => {
  throw new GoRegexpError(`bouncer cannot evaluate this Go regexp: ${why}: \`${fragment}\``);
};

const hex2 = (code: number): string => `\\x${code.toString(16).padStart(2, '0')}`;
const codePointEscape = (code: number): string => (code < 0x100 ? hex2(code) : `\\u{${code.toString(16)}}`);
const isAsciiPunct = (c: string): boolean => /^[!-/:-@[-`{-~]$/.test(c);

class Translator {
  private i = 0;
  private out = '';
  private flags = { i: false, m: false, s: false };
  private atStart = true;

  constructor(private readonly src: string) {}

  translate(): { source: string; flags: string } {
    while (this.i < this.src.length) this.atom();
    return { source: this.out, flags: `u${this.flags.i ? 'i' : ''}` };
  }

  private peek(offset = 0): string {
    return this.src[this.i + offset] ?? '';
  }

  /** The next whole code point (a surrogate pair counts as one). */
  private next(): string {
    const cp = this.src.codePointAt(this.i) ?? 0;
    const c = String.fromCodePoint(cp);
    this.i += c.length;
    return c;
  }

  private emit(text: string): void {
    this.out += text;
    this.atStart = false;
  }

  private atom(): void {
    const c = this.peek();
    if (c === '(' && this.peek(1) === '?') return this.group();
    if (c === '\\') {
      this.escape(false);
      return;
    }
    if (c === '[') return this.charClass();
    this.i += 1;
    switch (c) {
      case '.':
        return this.emit(this.flags.s ? '[\\s\\S]' : '[^\\n]');
      case '^':
        return this.emit(this.flags.m ? '(?<![^\\n])' : '^');
      case '$':
        return this.emit(this.flags.m ? '(?![^\\n])' : '$');
      case '{':
        return this.brace();
      case '}':
      case ']':
        return this.emit(`\\${c}`);
      default:
        this.i -= 1;
        return this.emit(this.next());
    }
  }

  private brace(): void {
    const m = /^(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
    if (!m) return this.emit('\\{');
    const min = Number(m[1]);
    const max = m[3] ? Number(m[3]) : min;
    if (min > 1000 || max > 1000 || (m[3] && max < min)) fail('invalid repeat count', `{${m[0]}`);
    this.i += m[0].length;
    this.emit(`{${m[0]}`);
  }

  private group(): void {
    const rest = this.src.slice(this.i);
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named) {
      if (!/^[A-Za-z0-9_]+$/.test(named[1] ?? '')) fail('invalid named capture', named[0]);
      this.i += named[0].length;
      return this.emit('(');
    }
    if (rest.startsWith('(?:')) {
      this.i += 3;
      return this.emit('(?:');
    }
    const flags = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
    if (!flags || (flags[1] === '' && (flags[2] ?? '') === '')) return fail('invalid or unsupported Perl syntax', rest.slice(0, 3));
    const [text, on = '', off, end] = flags;
    if (end === ':' || !this.atStart || off !== undefined || on.includes('U')) {
      return unsupported(text, 'flags are supported only as (?i), (?m), (?s) at the start of the pattern');
    }
    for (const f of on) this.flags[f as 'i' | 'm' | 's'] = true;
    this.i += text.length;
  }

  /** An escape sequence; inside a bracket class when `inClass`. Returns what it emitted. */
  private escape(inClass: boolean): string {
    const start = this.i;
    this.i += 1;
    const c = this.next();
    const fragment = (): string => this.src.slice(start, this.i);
    let js: string;
    switch (c) {
      case '':
        return fail('trailing backslash at end of expression', '');
      case 'd': case 'D': case 'w': case 'W':
        js = `\\${c}`;
        break;
      case 'b': case 'B':
        if (inClass) fail('invalid escape sequence', fragment());
        js = `\\${c}`;
        break;
      case 'A':
      case 'z':
        if (inClass) fail('invalid escape sequence', fragment());
        js = c === 'A' ? '(?<![\\s\\S])' : '(?![\\s\\S])';
        break;
      case 's':
        js = inClass ? SPACE : `[${SPACE}]`;
        break;
      case 'S':
        if (inClass) unsupported(fragment(), '\\S inside a bracket class');
        js = `[^${SPACE}]`;
        break;
      case 'p':
      case 'P':
        js = this.unicodeClass(c === 'P', start);
        break;
      case 'Q': {
        if (inClass) fail('invalid escape sequence', fragment());
        const end = this.src.indexOf('\\E', this.i);
        const literal = end < 0 ? this.src.slice(this.i) : this.src.slice(this.i, end);
        this.i = end < 0 ? this.src.length : end + 2;
        js = [...literal].map((ch) => (JS_SYNTAX.has(ch) ? `\\${ch}` : ch)).join('');
        break;
      }
      case 'a':
        js = '\\x07';
        break;
      case 'f': case 't': case 'n': case 'r': case 'v':
        js = `\\${c}`;
        break;
      case 'x':
        js = this.hexEscape(start);
        break;
      default:
        if (/^[0-7]$/.test(c)) {
          if (c !== '0' && !/^[0-7]$/.test(this.peek())) fail('invalid escape sequence', fragment());
          let digits = c;
          while (digits.length < 3 && /^[0-7]$/.test(this.peek())) digits += this.next();
          js = codePointEscape(parseInt(digits, 8));
        } else if (isAsciiPunct(c)) {
          js = JS_SYNTAX.has(c) || (inClass && c === '-') ? `\\${c}` : c;
        } else {
          return fail('invalid escape sequence', fragment());
        }
    }
    if (!inClass) this.emit(js);
    return js;
  }

  private hexEscape(start: number): string {
    if (this.peek() === '{') {
      const m = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.i));
      const code = m ? parseInt(m[1] ?? '', 16) : NaN;
      if (!m || code > 0x10ffff) return fail('invalid escape sequence', this.src.slice(start, this.i + 1));
      this.i += m[0].length;
      return codePointEscape(code);
    }
    const m = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.i));
    if (!m) return fail('invalid escape sequence', this.src.slice(start, this.i + 2));
    this.i += 2;
    return `\\x${m[0]}`;
  }

  private unicodeClass(negated: boolean, start: number): string {
    let name: string;
    if (this.peek() === '{') {
      const end = this.src.indexOf('}', this.i);
      if (end < 0) return fail('invalid character class range', this.src.slice(start));
      name = this.src.slice(this.i + 1, end);
      this.i = end + 1;
    } else {
      name = this.next();
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) return fail('invalid character class range', this.src.slice(start, this.i));
    const property = GENERAL_CATEGORIES.has(name) || name === 'Any' ? name : `Script=${name}`;
    try {
      new RegExp(`\\p{${property}}`, 'u');
    } catch {
      fail('invalid character class range', this.src.slice(start, this.i));
    }
    return `\\${negated ? 'P' : 'p'}{${property}}`;
  }

  private charClass(): void {
    const start = this.i;
    this.i += 1;
    let body = '';
    if (this.peek() === '^') {
      body += '^';
      this.i += 1;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === '') return fail('missing closing ]', this.src.slice(start));
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i));
        const range = m ? POSIX[m[2] ?? ''] : undefined;
        if (m && range === undefined) fail('invalid character class range', m[0]);
        if (m && range !== undefined) {
          if (m[1]) unsupported(m[0], 'negated POSIX classes');
          body += range;
          this.i += m[0].length;
          continue;
        }
      }
      body += this.classChar();
    }
    this.i += 1;
    this.emit(`[${body}]`);
  }

  private classChar(): string {
    const c = this.peek();
    if (c === '\\') return this.escape(true);
    const ch = this.next();
    return ch === '[' || ch === ']' || ch === '/' ? `\\${ch}` : ch;
  }
}

/** Compiles a Go regexp; throws GoRegexpError when Go would refuse it or JS cannot express it. */
export function compileGoRegexp(pattern: string): RegExp {
  const { source, flags } = new Translator(pattern).translate();
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new GoRegexpError(`error parsing regexp: ${goReason((err as Error).message)}: \`${pattern}\``);
  }
}

/** Go's wording for what V8 reports (regexp/syntax ErrorCode); V8's own text otherwise. */
function goReason(v8: string): string {
  const reasons: [RegExp, string][] = [
    [/Unterminated group/, 'missing closing )'],
    [/Unmatched '\)'/, 'unexpected )'],
    [/Nothing to repeat/, 'missing argument to repetition operator'],
    [/numbers out of order/, 'invalid repeat count'],
    [/Range out of order|Invalid character class/, 'invalid character class range'],
  ];
  return reasons.find(([re]) => re.test(v8))?.[1] ?? v8.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '');
}
