// The files `bouncer import gatekeeper FILES...` reads: each path a file, `-` for stdin, or a
// directory, read recursively for *.yaml, *.yml and *.json in name order (hidden entries
// such as .git left out), so a checkout of a Gatekeeper policy repository imports whole.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { readImportDocuments, type ImportDocument } from './import-documents.js';

const EXTENSIONS = /\.(ya?ml|json)$/i;

function filesUnder(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return entries.flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return e.isFile() && EXTENSIONS.test(e.name) ? [path] : [];
  });
}

function read(path: string, what: () => string): string {
  try {
    return what();
  } catch (cause) {
    throw new BouncerError('IMPORT_INPUT_INVALID', `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

export function readImportFiles(paths: readonly string[], stdin: () => string): ImportDocument[] {
  const out: ImportDocument[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push(...readImportDocuments(read('stdin', stdin), 'stdin'));
      continue;
    }
    const isDir = read(path, () => (statSync(path).isDirectory() ? 'dir' : 'file')) === 'dir';
    for (const file of isDir ? filesUnder(path) : [path]) {
      out.push(...readImportDocuments(read(file, () => readFileSync(file, 'utf8')), file));
    }
  }
  return out;
}
