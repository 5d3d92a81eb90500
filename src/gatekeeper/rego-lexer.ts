// A small Rego lexer: enough to tell code from comments and strings, so the template rewrite
// (rewrite-template.ts) touches only code tokens. It does not parse Rego; OPA does that when
// the rewritten modules are compiled, and its errors then point at the template's own lines
// because the rewrite never adds or removes a line.
// Lexical grammar: https://www.openpolicyagent.org/docs/policy-reference/#grammar
import { parseJson } from '../json/parse-json.js';

export type RegoTokenKind = 'ident' | 'string' | 'rawString' | 'number' | 'punct';

export interface RegoToken {
  readonly kind: RegoTokenKind;
  readonly text: string;
  /** Offsets into the source: text === source.slice(start, end). */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the token's first character. */
  readonly line: number;
}

const TWO_CHAR_PUNCT = new Set([':=', '==', '!=', '<=', '>=']);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/** A lexing failure: an unterminated string or raw string, or a character Rego does not use. */
export class RegoLexError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'RegoLexError';
  }
}

/**
 * The code tokens of `source`, in order; whitespace and `#` comments are skipped. The literal
 * parts of template strings ($"...{expr}...", $`...{expr}...`) are skipped too, while the
 * code of their embedded expressions is lexed like any other code.
 */
export function lexRego(source: string): RegoToken[] {
  const tokens: RegoToken[] = [];
  let i = 0;
  let line = 1;
  const push = (kind: RegoTokenKind, start: number, end: number, startLine: number): void => {
    tokens.push({ kind, text: source.slice(start, end), start, end, line: startLine });
  };

  /** Skips a template string's literal text from i (just past the opening quote) to its end. */
  const templateString = (quote: '"' | '`'): void => {
    const startLine = line;
    for (;;) {
      const d = source[i];
      if (d === undefined || (d === '\n' && quote === '"')) throw new RegoLexError('unterminated template string', startLine);
      i++;
      if (d === '\n') line++;
      else if (d === '\\' && quote === '"') i++;
      else if (d === quote) return;
      else if (d === '{') code(true);
    }
  };

  /** Lexes code from i; inside a template string's expression, up to and past its closing brace. */
  const code = (inTemplate: boolean): void => {
    let depth = 0;
    while (i < source.length) {
      const c = source[i] as string;
      if (c === '\n') {
        line++;
        i++;
      } else if (c === ' ' || c === '\t' || c === '\r') {
        i++;
      } else if (c === '#') {
        while (i < source.length && source[i] !== '\n') i++;
      } else if (c === '"') {
        const start = i++;
        for (;;) {
          const d = source[i];
          if (d === undefined || d === '\n') throw new RegoLexError('unterminated string', line);
          i++;
          if (d === '\\') i++;
          else if (d === '"') break;
        }
        push('string', start, i, line);
      } else if (c === '`') {
        const start = i++;
        const startLine = line;
        while (i < source.length && source[i] !== '`') {
          if (source[i] === '\n') line++;
          i++;
        }
        if (i >= source.length) throw new RegoLexError('unterminated raw string', startLine);
        i++;
        push('rawString', start, i, startLine);
      } else if (c === '$' && (source[i + 1] === '"' || source[i + 1] === '`')) {
        i += 2;
        templateString(source[i - 1] as '"' | '`');
      } else if (IDENT_START.test(c)) {
        const start = i++;
        while (i < source.length && IDENT_PART.test(source[i] as string)) i++;
        push('ident', start, i, line);
      } else if (DIGIT.test(c)) {
        const start = i++;
        while (i < source.length && /[0-9.eE]/.test(source[i] as string)) {
          // An exponent may carry a sign: 1e-3.
          if (/[eE]/.test(source[i] as string) && /[+-]/.test(source[i + 1] ?? '')) i++;
          i++;
        }
        push('number', start, i, line);
      } else if (TWO_CHAR_PUNCT.has(source.slice(i, i + 2))) {
        push('punct', i, i + 2, line);
        i += 2;
      } else if ('.,;:[](){}=<>+-*/%&|!'.includes(c)) {
        if (inTemplate && c === '}' && depth === 0) {
          i++;
          return;
        }
        if (c === '{') depth++;
        if (c === '}') depth--;
        push('punct', i, i + 1, line);
        i++;
      } else {
        throw new RegoLexError(`unexpected character ${JSON.stringify(c)}`, line);
      }
    }
    if (inTemplate) throw new RegoLexError('unterminated template string expression', line);
  };

  code(false);
  return tokens;
}

/** The value of a string or raw-string token (Rego string escapes are JSON's). */
export function stringTokenValue(token: RegoToken): string {
  return token.kind === 'rawString' ? token.text.slice(1, -1) : (parseJson(token.text) as string);
}
