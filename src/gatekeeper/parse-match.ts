// PLACEHOLDER until the match helper's parse-match.ts lands (it replaces this file).
import { BouncerError } from '../errors/errors.js';
import type { ConstraintMatch } from './types.js';

export function parseConstraintMatch(raw: unknown, where: string): ConstraintMatch {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BouncerError('POLICY_SOURCE_INVALID', `${where}: match must be an object`);
  return raw as ConstraintMatch;
}
