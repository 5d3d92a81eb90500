// The build's not-auditable lint: a policy the background audit must skip, and why. The audit
// evaluates an existing object as a CREATE request without an old object or a requesting user,
// so a policy reading the operation, the old object or the user (rego-reads.ts says how those
// reads are found), or evaluated only for operations other than CREATE, is marked
// `audit: {auditable: false, reason}` in the manifest and reported by the audit as skipped.
import type { AuditMark } from '../bundles/audit-mark.js';
import type { RegoReads } from './rego-reads.js';

export function auditMark(reads: RegoReads, operations: readonly string[]): AuditMark | undefined {
  const reasons: string[] = [];
  if (reads.requestFields.length > 0) reasons.push(`reads ${reads.requestFields.join(', ')}`);
  if (!operations.includes('CREATE')) reasons.push(`is evaluated only for ${operations.join(', ')}`);
  if (reasons.length === 0) return undefined;
  return { auditable: false, reason: `${reasons.join('; and ')}: the audit evaluates existing objects as CREATE requests, without an old object or a requesting user` };
}
