// The files a suite names, read as gator reads them (gatekeeper pkg/gator/reader and
// verify/runner.go), with gator's messages: gator opens files on an fs.FS rooted at "/", so
// its messages name them by their absolute path without the leading "/" (`shown`), and so do
// these, for output that compares equal. The template and the constraint
// are each the first document of their file; an object or inventory file holds one or more
// objects (parseObjects). Failures are messages for the test or case that named the file.
import { readFile } from 'node:fs/promises';
import { BouncerError } from '../errors/errors.js';
import { goGroupVersion } from './go-object.js';
import { isConstraintTemplate, parseGatekeeperDocuments } from './parse-documents.js';
import { parseConstraint } from './parse-constraint.js';
import { fsMessage } from './suite.js';
import { parseFirstObject, parseObjects, relaxQuotedScalarIndent } from './suite-yaml.js';
import type { Constraint, ConstraintTemplate } from './types.js';

/** A failure of one test or case; `message` is what the report prints. */
export class SuiteCaseError extends Error {
  override readonly name = 'SuiteCaseError';
}

/** A path as gator's messages show it: absolute, without the leading "/". */
export const shown = (file: string): string => file.replace(/^\/+/, '');

const messageOf = (err: unknown): string => (err instanceof BouncerError || err instanceof SuiteCaseError ? err.message : String((err as Error)?.message ?? err));

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new SuiteCaseError(`${what}${fsMessage('open', shown(file), cause)}`);
  }
}

export async function readTemplateFile(file: string): Promise<ConstraintTemplate> {
  const text = await readText(file, `reading ConstraintTemplate from "${shown(file)}": `);
  let obj: Record<string, unknown>;
  try {
    obj = parseFirstObject(text, file);
  } catch (err) {
    throw new SuiteCaseError(`adding template: parsing ConstraintTemplate YAML from "${shown(file)}": ${messageOf(err)}`);
  }
  if (goGroupVersion(obj['apiVersion']).group !== 'templates.gatekeeper.sh' || obj['kind'] !== 'ConstraintTemplate') {
    throw new SuiteCaseError(`path "${shown(file)}": not a ConstraintTemplate`);
  }
  try {
    const parsed = parseGatekeeperDocuments(relaxQuotedScalarIndent(text), file)[0];
    if (parsed === undefined || !isConstraintTemplate(parsed)) throw new SuiteCaseError('not a ConstraintTemplate');
    return parsed;
  } catch (err) {
    throw new SuiteCaseError(`adding template: ${messageOf(err)}`);
  }
}

export async function readConstraintFile(file: string): Promise<Record<string, unknown>> {
  const text = await readText(file, `reading Constraint from "${shown(file)}": `);
  let obj: Record<string, unknown>;
  try {
    obj = parseFirstObject(text, file);
  } catch (err) {
    throw new SuiteCaseError(`adding constraint: parsing Constraint from "${shown(file)}": ${messageOf(err)}`);
  }
  if (goGroupVersion(obj['apiVersion']).group !== 'constraints.gatekeeper.sh') throw new SuiteCaseError('not a Constraint');
  return obj;
}

/**
 * The constraint checked against its template, as gator's AddConstraint: `schema` tells a
 * constraint that is fine on its own but whose parameters the template's schema refuses
 * (Gatekeeper's ErrSchema, what `invalid: true` expects) from any other refusal.
 */
export function checkConstraint(
  obj: Record<string, unknown>,
  file: string,
  template: ConstraintTemplate,
): { readonly constraint: Constraint } | { readonly error: string; readonly schema: boolean } {
  let alone: Constraint;
  try {
    alone = parseConstraint(obj, file);
  } catch (err) {
    return { error: messageOf(err), schema: false };
  }
  if (alone.kind !== template.kind) {
    return { error: `constraint ${alone.name} is of kind ${alone.kind}, but the test's template ${template.name} defines kind ${template.kind}`, schema: false };
  }
  try {
    return { constraint: parseConstraint(obj, file, [template]) };
  } catch (err) {
    return { error: `schema validation failed: ${messageOf(err)}`, schema: true };
  }
}

/** The objects of an object or inventory file; at least one (gator's readObjects). */
export async function readObjectsFile(file: string): Promise<Record<string, unknown>[]> {
  const text = await readText(file, '');
  let objects: Record<string, unknown>[];
  try {
    objects = parseObjects(text, file);
  } catch (err) {
    throw new SuiteCaseError(`reading "${shown(file)}": ${messageOf(err)}`);
  }
  if (objects.length === 0) throw new SuiteCaseError(`missing objects: path "${shown(file)}" defines no YAML objects`);
  return objects;
}

export { messageOf };
