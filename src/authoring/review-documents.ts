// Reads AdmissionReview documents from files (JSON, or YAML with several documents per
// file) for `bouncer review`, and turns each into the exact bytes the server would get.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { BouncerError } from '../errors/errors.js';
import { parseJson } from '../json/parse-json.js';

export interface ReviewDocument {
  readonly source: string;
  readonly value: unknown;
  /** JSON bytes, as the API server would send them. */
  readonly raw: Uint8Array;
}

const encoder = new TextEncoder();

export function parseDocuments(text: string, source: string): ReviewDocument[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const value: unknown = parseJson(text);
      const values = Array.isArray(value) ? value : [value];
      return values.map((v, i) => ({ source: values.length > 1 ? `${source}#${i + 1}` : source, value: v, raw: encoder.encode(JSON.stringify(v)) }));
    } catch {
      // Not JSON after all: YAML is a superset, let the YAML parser report precisely.
    }
  }
  const docs = parseAllDocuments(text);
  const out: ReviewDocument[] = [];
  (Array.isArray(docs) ? docs : [docs]).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new BouncerError('INPUT_INVALID', `${source}: document ${i + 1} is not valid YAML: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    out.push({ source: `${source}#${i + 1}`, value, raw: encoder.encode(JSON.stringify(value)) });
  });
  return out;
}

export function readDocuments(file: string, stdin: () => string): ReviewDocument[] {
  let text: string;
  try {
    text = file === '-' ? stdin() : readFileSync(file, 'utf8');
  } catch (cause) {
    throw new BouncerError('INPUT_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const docs = parseDocuments(text, file === '-' ? 'stdin' : file);
  if (docs.length === 0) throw new BouncerError('INPUT_INVALID', `${file} holds no documents`);
  return docs;
}
