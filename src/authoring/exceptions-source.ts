// The policy exceptions of a policies directory: every `PolicyException` document of the
// YAML files under <dir>/exceptions/, checked by the same parser the bundle loader uses
// (bundles/policy-exception.ts) plus the build's own rules — the expiry horizon
// (--exception-max-days) and no exception already expired (it would exempt nothing: remove it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { checkExceptionHorizon, DEFAULT_EXCEPTION_MAX_DAYS, parsePolicyException, type PolicyException } from '../bundles/policy-exception.js';
import { parseYamlDocuments } from '../gatekeeper/yaml-documents.js';

/** The folder of a policies directory that holds exceptions rather than a native policy. */
export const EXCEPTIONS_DIR = 'exceptions';

export interface ExceptionSourceOptions {
  /** Days an exception may run at most from `now` (default 90). */
  readonly maxDays?: number;
  /** Epoch ms (default Date.now()). */
  readonly now?: number;
}

export interface ExceptionSource {
  /** Ordered by name. */
  readonly exceptions: readonly PolicyException[];
  /** What the author should know: exceptions the audit cannot apply. */
  readonly notes: readonly string[];
}

/**
 * Reads <policiesDir>/exceptions/*.yaml|yml; `known` are the ids the bundle's policies and
 * constraints are named by. Throws EXCEPTION_INVALID naming the file, the exception and the field.
 */
export function readExceptions(policiesDir: string, known: ReadonlySet<string>, options: ExceptionSourceOptions = {}): ExceptionSource {
  const dir = join(policiesDir, EXCEPTIONS_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { exceptions: [], notes: [] };
  const now = options.now ?? Date.now();
  const maxDays = options.maxDays ?? DEFAULT_EXCEPTION_MAX_DAYS;
  const exceptions: PolicyException[] = [];
  const origin = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const path = join(dir, file);
    let docs;
    try {
      docs = parseYamlDocuments(readFileSync(path, 'utf8'), path);
    } catch (cause) {
      throw new BouncerError('EXCEPTION_INVALID', (cause as Error).message, { cause });
    }
    for (const doc of docs) {
      if (doc.value === null) continue;
      const where = `${path} (document ${doc.index}, line ${doc.line})`;
      const e = parsePolicyException(doc.value, { where, code: 'EXCEPTION_INVALID', known });
      const first = origin.get(e.name);
      if (first !== undefined) throw new BouncerError('EXCEPTION_INVALID', `${where}: exception ${e.name} is also defined in ${first}`);
      origin.set(e.name, where);
      if (e.expiresAtMs <= now) throw new BouncerError('EXCEPTION_INVALID', `${where}: exception ${e.name}: expiresAt ${e.expiresAt} has passed; remove the exception (or renew it with a new date)`);
      try {
        checkExceptionHorizon([e], now, maxDays, 'EXCEPTION_INVALID');
      } catch (err) {
        throw new BouncerError('EXCEPTION_INVALID', `${where}: ${(err as Error).message}`, { cause: err });
      }
      exceptions.push(e);
    }
  }
  exceptions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const notes = exceptions
    .filter((e) => e.match.subjects)
    .map((e) => `exception ${e.name} matches requesters (subjects): the background audit has none, so it reports what the exception admits`);
  return { exceptions, notes };
}
