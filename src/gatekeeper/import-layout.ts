// The policy-directory layout `bouncer import gatekeeper` writes, and the build reads:
//   DIR/gatekeeper/<template-name>/template.yaml            one ConstraintTemplate
//   DIR/gatekeeper/<template-name>/constraints/<name>.yaml  one Constraint per file
// Only DIR/gatekeeper is ever written. It must be absent or empty, or `force` is given:
// then that folder alone is replaced, the rest of DIR is left as it is. The new folder is
// written next to it and renamed into place, so a failed import leaves the old one intact.
//
// The YAML is deterministic: keys in the order read, no line folding (Rego stays a literal
// block), and strings quoted wherever YAML 1.1 (kubectl, gator: sigs.k8s.io/yaml) would read
// them as something else (`"yes"`, `"on"`, `"1_000"`, `"1:20"`), so every reader — YAML 1.2
// or 1.1 — sees the same values. Importing the written files again gives the same bytes.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import { BouncerError } from '../errors/errors.js';
import type { ImportPlan } from './import-plan.js';

export const GATEKEEPER_FOLDER = 'gatekeeper';

export interface ImportFile {
  /** Relative to DIR, with '/' separators: gatekeeper/<template>/template.yaml, …/constraints/<name>.yaml. */
  readonly path: string;
  readonly text: string;
}

/** The YAML of one object; read back (YAML 1.2, as bouncer reads it) it must give the object again. */
export function importYaml(object: unknown): string {
  const text = stringify(object, { version: '1.1', lineWidth: 0 });
  if (!isDeepStrictEqual(parse(text), object)) throw new BouncerError('INTERNAL', 'the YAML written for an imported object does not read back as the same object');
  return text;
}

/** The files of the plan, templates by name, each followed by its constraints by name. */
export function renderImportLayout(plan: ImportPlan): ImportFile[] {
  const files: ImportFile[] = [];
  for (const t of plan.templates) {
    files.push({ path: `${GATEKEEPER_FOLDER}/${t.name}/template.yaml`, text: importYaml(t.object) });
    for (const c of t.constraints) files.push({ path: `${GATEKEEPER_FOLDER}/${t.name}/constraints/${c.name}.yaml`, text: importYaml(c.object) });
  }
  return files;
}

function entryKind(path: string): 'absent' | 'empty' | 'occupied' {
  let stat;
  try {
    stat = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new BouncerError('IMPORT_TARGET_NOT_EMPTY', `cannot inspect ${path}: ${(err as Error).message}`, { cause: err });
  }
  return stat.isDirectory() && readdirSync(path).length === 0 ? 'empty' : 'occupied';
}

/**
 * Writes `files` under `dir` (created when missing). Returns the folder written and whether
 * an earlier one was replaced.
 */
export function writeImportLayout(dir: string, files: readonly ImportFile[], options: { force?: boolean } = {}): { target: string; replaced: boolean } {
  const target = join(dir, GATEKEEPER_FOLDER);
  const state = entryKind(target);
  if (state === 'occupied' && !options.force) {
    throw new BouncerError('IMPORT_TARGET_NOT_EMPTY', `${target} already exists and is not empty; import into another directory, or pass --force to replace that folder (nothing else in ${dir} is touched)`);
  }
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, `.${GATEKEEPER_FOLDER}-import-`));
  try {
    for (const f of files) {
      if (!f.path.startsWith(`${GATEKEEPER_FOLDER}/`) || f.path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw new BouncerError('IMPORT_INPUT_INVALID', `refusing to write ${f.path}: outside ${GATEKEEPER_FOLDER}/`);
      }
      const path = join(staging, ...f.path.split('/').slice(1));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.text, { flag: 'wx' });
    }
    if (state !== 'absent') rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { target, replaced: state === 'occupied' };
}
