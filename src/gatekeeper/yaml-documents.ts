// YAML 1.2 documents with their lines, for Gatekeeper objects. One leniency, because the
// gatekeeper-library relies on it: go-yaml (which kubectl, Gatekeeper and gator use) accepts
// a multi-line quoted scalar whose continuation lines are indented no deeper than its key,
// which YAML 1.2 (and the `yaml` package) refuses. When a file fails to parse, such lines are
// indented one column past their key and the file is parsed again; the value is the same,
// since a quoted scalar's line breaks fold and its continuation indentation is dropped.
import { LineCounter, parseAllDocuments } from 'yaml';
import { sourceInvalid } from './source-invalid.js';

export interface YamlDocument {
  /** 1-based index in the file. */
  readonly index: number;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  /** The document as plain data; null for an empty document. */
  readonly value: unknown;
}

export function parseYamlDocuments(text: string, file: string): YamlDocument[] {
  const first = tryParse(text);
  if (!('error' in first)) return first.docs;
  const repaired = reindentQuotedContinuations(text);
  if (repaired !== text) {
    const second = tryParse(repaired);
    if (!('error' in second)) return second.docs;
  }
  throw sourceInvalid(`${file} (document ${first.error.index}, line ${first.error.line})`, `not valid YAML: ${first.error.message}`);
}

type Parsed = { docs: YamlDocument[] } | { error: { index: number; line: number; message: string } };

function tryParse(text: string): Parsed {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, version: '1.2' });
  if (!Array.isArray(parsed)) return { docs: [] };
  const docs: YamlDocument[] = [];
  for (const [i, doc] of parsed.entries()) {
    const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
    const [error] = doc.errors;
    if (error) return { error: { index: i + 1, line: error.linePos?.[0].line ?? line, message: error.message } };
    docs.push({ index: i + 1, line, value: doc.contents === null ? null : (doc.toJS() as unknown) });
  }
  return { docs };
}

/** Indents the continuation lines of multi-line quoted scalars one column past their key. */
export function reindentQuotedContinuations(text: string): string {
  const lines = text.split('\n');
  let open: { quote: string; minIndent: number } | undefined;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    if (open) {
      const indent = line.length - line.trimStart().length;
      if (line.trim() !== '' && indent < open.minIndent) lines[n] = ' '.repeat(open.minIndent - indent) + line;
      if (closes(line, 0, open.quote)) open = undefined;
      continue;
    }
    // `key: "...`, `- "...`, `- key: '...`: a quoted value opening on this line.
    const m = /^(\s*(?:-\s+)*)(?:[^\s#'"-][^#'"]*?:\s+)(["'])/.exec(line);
    if (m && !closes(line, m[0].length, m[2] as string)) open = { quote: m[2] as string, minIndent: (m[1] as string).length + 1 };
  }
  return lines.join('\n');
}

/** True when the quoted scalar running from `from` ends on this line. */
function closes(line: string, from: number, quote: string): boolean {
  for (let i = from; i < line.length; i++) {
    const c = line[i];
    if (quote === '"' && c === '\\') i++;
    else if (c === quote) {
      if (quote === "'" && line[i + 1] === "'") i++;
      else return true;
    }
  }
  return false;
}
