// The documents `bouncer import gatekeeper` reads from a file: multi-document YAML or JSON
// (YAML 1.2, as the rest of bouncer reads policy files), with lists flattened: `kind: List`
// as `kubectl get -o yaml` prints it, and typed lists (`ConstraintTemplateList`, a
// constraint kind's `…List`) as the API server answers them, whose items may omit
// apiVersion and kind. Each document keeps where it came from, for messages.
import { LineCounter, parseAllDocuments } from 'yaml';
import { BouncerError } from '../errors/errors.js';

/** One object read for import, with where it came from ("file.yaml (document 2)", "cluster …"). */
export interface ImportDocument {
  readonly object: unknown;
  readonly source: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A `List` or a typed `<Kind>List` with an items array (what kubectl and the API server print). */
function listItems(doc: Record<string, unknown>): unknown[] | undefined {
  if (typeof doc.kind !== 'string' || !doc.kind.endsWith('List') || !Array.isArray(doc.items)) return undefined;
  // A typed list's items may leave out their type (the list names it once).
  const itemKind = doc.kind === 'List' ? undefined : doc.kind.slice(0, -'List'.length);
  return doc.items.map((item) =>
    isObject(item) && itemKind && item.kind === undefined && item.apiVersion === undefined ? { apiVersion: doc.apiVersion, kind: itemKind, ...item } : item,
  );
}

/**
 * The documents of one file's text; empty documents are left out. A YAML syntax error is
 * IMPORT_INPUT_INVALID naming the file and line.
 */
export function readImportDocuments(text: string, file: string): ImportDocument[] {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { prettyErrors: false, lineCounter });
  const many = parsed.length > 1;
  const out: ImportDocument[] = [];
  parsed.forEach((doc, i) => {
    const where = many ? `${file} (document ${i + 1})` : file;
    const error = doc.errors[0];
    if (error) {
      const line = lineCounter.linePos(error.pos[0]).line;
      throw new BouncerError('IMPORT_INPUT_INVALID', `${file}${line ? `: line ${line}` : ''}: not readable as YAML or JSON: ${error.message.split('\n')[0]}`);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      throw new BouncerError('IMPORT_INPUT_INVALID', `${where}: ${(cause as Error).message}`, { cause });
    }
    if (value === null || value === undefined) return;
    const items = isObject(value) ? listItems(value) : undefined;
    if (items) items.forEach((item, j) => out.push({ object: item, source: `${where} item ${j + 1}` }));
    else out.push({ object: value, source: where });
  });
  return out;
}
