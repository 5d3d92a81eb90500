// PLACEHOLDER until the match helper's parse-match.ts lands on main: the lead drops this file
// at merge. It only checks that spec.match is an object; the real one checks every field.
import { BouncerError } from '../errors/errors.js';
import type { ConstraintMatch } from './types.js';

/** spec.match of a constraint, checked; `where` names the file and the constraint for messages. */
export function parseConstraintMatch(raw: unknown, where: string): ConstraintMatch {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BouncerError('POLICY_SOURCE_INVALID', `${where}: spec.match must be an object`);
  return raw as ConstraintMatch;
}
