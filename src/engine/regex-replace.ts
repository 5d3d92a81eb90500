// regex.replace(s, pattern, value) as OPA computes it: Go's regexp (RE2 syntax)
// ReplaceAllString, with `$1` / `${name}` expansion. The pattern is translated to an
// equivalent JavaScript RegExp (u flag); the replacement loop and the expansion follow
// Go's regexp.go rather than String.prototype.replace, which differ on empty matches next
// to a previous match and on `$1x` (Go reads the longest name, `${1x}`).
// An invalid RE2 pattern is OPA's builtin error (undefined); valid RE2 that has no
// JavaScript equivalent here throws RegexUnsupported, failing the policy instead of
// answering differently from OPA.
import { str, type RegoValue } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';

export class RegexUnsupported extends Error {
  override readonly name = 'RegexUnsupported';
  constructor(what: string) {
    super(`regex.replace: the RE2 pattern uses ${what}, which bouncer cannot translate to a JavaScript RegExp`);
  }
}

const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7f', blank: '\\t ', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9',
  graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ', upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const hexEscape = (ch: string): string => `\\u{${(ch.codePointAt(0) as number).toString(16)}}`;

/** Translates an RE2 pattern into JavaScript RegExp source and flags. */
export function translateRe2(pattern: string): { source: string; flags: string } {
  let flags = 'u';
  let at = 0;
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    if (lead[1]?.includes('U')) throw new RegexUnsupported('the (?U) flag');
    flags += (lead[1] ?? '').replace(/[^ims]/g, '');
    at = lead[0].length;
  }
  const dotAll = flags.includes('s');
  const multiline = flags.includes('m');
  let out = '';
  let inClass = false;
  let classStart = false;
  const chars = [...pattern.slice(at)];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    const first = classStart;
    classStart = false;
    if (c === '\\') {
      const e = chars[++i];
      if (e === undefined) throw new BuiltinError('trailing backslash');
      if (/[dDwWtnrf]/.test(e)) out += `\\${e}`;
      else if (e === 's') out += inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      else if (e === 'S') {
        if (inClass) throw new RegexUnsupported('\\S inside a character class');
        out += '[^\\t\\n\\f\\r ]';
      } else if (e === 'b' || e === 'B') {
        if (inClass) throw new BuiltinError('invalid escape');
        out += `\\${e}`;
      } else if (e === 'v') out += '\\x0b';
      else if (e === 'a') out += '\\x07';
      else if (e === 'A' && !inClass) out += '(?<![\\s\\S])';
      else if (e === 'z' && !inClass) out += '(?![\\s\\S])';
      else if (e === 'x') {
        const braced = /^\{([0-9A-Fa-f]+)\}/.exec(chars.slice(i + 1).join(''));
        if (braced) {
          out += `\\u{${braced[1]}}`;
          i += braced[0].length;
        } else {
          const two = chars.slice(i + 1, i + 3).join('');
          if (!/^[0-9A-Fa-f]{2}$/.test(two)) throw new BuiltinError('invalid escape');
          out += `\\x${two}`;
          i += 2;
        }
      } else if (e === 'p' || e === 'P') {
        const rest = chars.slice(i + 1).join('');
        const m = /^\{(\^?)([A-Za-z_]+)\}|^([A-Za-z])/.exec(rest);
        if (!m) throw new BuiltinError('invalid character class range');
        const name = m[2] ?? m[3] ?? '';
        const negate = (e === 'P') !== (m[1] === '^');
        const prop = name === 'Any' ? null : /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
        out += prop === null ? (negate ? '[^\\s\\S]' : '[\\s\\S]') : `\\${negate ? 'P' : 'p'}{${prop}}`;
        i += m[0].length;
      } else if (e === 'Q') {
        const rest = chars.slice(i + 1).join('');
        const end = rest.indexOf('\\E');
        const literal = end < 0 ? rest : rest.slice(0, end);
        out += [...literal].map((ch) => (SYNTAX.has(ch) || ch === '-' ? hexEscape(ch) : ch)).join('');
        i += [...literal].length + (end < 0 ? 0 : 2);
      } else if (/[0-9A-Za-z]/.test(e)) throw new BuiltinError(`invalid escape \\${e}`);
      else out += SYNTAX.has(e) ? `\\${e}` : hexEscape(e);
      continue;
    }
    if (inClass) {
      if (c === '[' && chars[i + 1] === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(chars.slice(i).join(''));
        const set = m ? POSIX[m[2] ?? ''] : undefined;
        if (!m || set === undefined) throw new BuiltinError('invalid character class range');
        if (m[1] === '^') throw new RegexUnsupported('a negated POSIX class');
        out += set;
        i += m[0].length - 1;
      } else if (c === ']' && !first) {
        inClass = false;
        out += ']';
      } else if (c === '[' || c === ']' || c === '/' || c === '|' || c === '{' || c === '}' || c === '(' || c === ')') out += `\\${c}`;
      else if (c === '^' && first) {
        out += '^';
        classStart = true;
      } else out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = true;
      out += '[';
    } else if (c === '.') out += dotAll ? '[\\s\\S]' : '[^\\n]';
    else if (c === '(' && chars[i + 1] === '?') {
      const rest = chars.slice(i).join('');
      const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += named[0].length - 1;
      } else if (rest.startsWith('(?:')) {
        out += '(?:';
        i += 2;
      } else if (/^\(\?(?:[=!]|<[=!])/.test(rest)) throw new BuiltinError('RE2 has no lookaround');
      else throw new RegexUnsupported('inline flags or a group kind other than (?:…) and (?P<name>…)');
    } else if (c === '$' && multiline) out += '(?=\\n|(?![\\s\\S]))';
    else if (c === '^' && multiline) out += '(?<=\\n|(?<![\\s\\S]))';
    else out += c;
  }
  if (inClass) throw new BuiltinError('missing closing ]');
  return { source: out, flags: flags.replace(/[ms]/g, '') };
}

/** Go's Regexp.ExpandString template: `$n`, `$name`, `${name}`, `$$`. */
function expand(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template.charAt(i);
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i++;
      continue;
    }
    const m = /^\{([A-Za-z0-9_]+)\}|^([A-Za-z0-9_]+)/.exec(rest);
    if (!m) {
      out += '$';
      continue;
    }
    const name = m[1] ?? m[2] ?? '';
    i += m[0].length;
    const group = /^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name];
    out += group ?? '';
  }
  return out;
}

/** regex.replace(s, pattern, value): every match replaced, as Go's ReplaceAllString does. */
export function regexReplace(args: readonly RegoValue[]): RegoValue {
  const s = stringOperand(args[0], 1);
  const pattern = stringOperand(args[1], 2);
  const value = stringOperand(args[2], 3);
  const { source, flags } = translateRe2(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, `${flags}g`);
  } catch (cause) {
    throw new BuiltinError(`error parsing regexp: ${String(cause)}`);
  }
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= s.length) {
    re.lastIndex = searchPos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += s.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expand(value, m);
    lastMatchEnd = end;
    const width = searchPos < s.length ? ((s.codePointAt(searchPos) as number) > 0xffff ? 2 : 1) : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return str(out + s.slice(lastMatchEnd));
}
