// The canonical JSON encoding OPA hashes structured bundle files with (data.json,
// .manifest): object keys sorted by their UTF-8 bytes, no whitespace, numbers exactly as
// written (OPA decodes them as json.Number), strings as Go's encoder writes them with HTML
// escaping off. Signatures made by `opa build --signing-key` verify only if this matches
// byte for byte. https://github.com/open-policy-agent/opa/blob/main/v1/bundle/hash.go
import { BouncerError } from '../errors/errors.js';
import { parseJson } from '../json/parse-json.js';

function fail(message: string): never {
  throw new BouncerError('BUNDLE_SIGNATURE_INVALID', `a signed JSON file does not parse: ${message}`);
}

/** Go's encoding of a string: like JSON.stringify, but U+2028 and U+2029 are escaped too. */
function goString(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Parses JSON text and re-encodes it canonically, keeping number literals verbatim. */
export function canonicalJson(text: string): string {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const stringToken = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (i >= text.length) fail('unterminated string');
    i++;
    return parseJson(text.slice(start, i)) as string;
  };
  const value = (): string => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries = new Map<string, string>();
      ws();
      if (text[i] === '}') {
        i++;
        return '{}';
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = stringToken();
        ws();
        if (text[i++] !== ':') fail('expected :');
        entries.set(key, value());
        ws();
        const sep = text[i++];
        if (sep === '}') break;
        if (sep !== ',') fail('expected , or }');
      }
      return `{${[...entries.keys()].sort(byUtf8).map((k) => `${goString(k)}:${entries.get(k) as string}`).join(',')}}`;
    }
    if (c === '[') {
      i++;
      const items: string[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        ws();
        const sep = text[i++];
        if (sep === ']') break;
        if (sep !== ',') fail('expected , or ]');
      }
      return `[${items.join(',')}]`;
    }
    if (c === '"') return goString(stringToken());
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!literal) fail(`unexpected character at offset ${i}`);
    i += literal[0].length;
    return literal[0];
  };
  const out = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return out;
}
