// Whether the background audit may evaluate a policy or a template. The audit evaluates
// existing objects as CREATE requests, with no old object and no requesting user, so a policy
// whose result depends on the operation, the old object or the user would be judged on made-up
// input: `bouncer build` marks it not auditable (src/authoring/audit-lint.ts) and the audit
// reports it as skipped, never as passing. Carried in the manifest as `audit` on each entry of
// metadata.bouncer.policies and metadata.bouncer.gatekeeper.templates; absent means auditable.
import { BouncerError } from '../errors/errors.js';

export interface AuditMark {
  readonly auditable: false;
  /** What makes it so, naming each reference and where it is (file:line). */
  readonly reason: string;
}

/** Checks an `audit` member; undefined when absent. `where` names the entry for messages. */
export function parseAuditMark(raw: unknown, where: string): AuditMark | undefined {
  if (raw === undefined || raw === null) return undefined;
  const fail = (): never => {
    throw new BouncerError('BUNDLE_MANIFEST_INVALID', `${where}: audit must be {"auditable": false, "reason": "<why>"}`);
  };
  if (typeof raw !== 'object' || Array.isArray(raw)) fail();
  const a = raw as Record<string, unknown>;
  if (Object.keys(a).some((k) => k !== 'auditable' && k !== 'reason')) fail();
  if (a.auditable !== false || typeof a.reason !== 'string' || a.reason === '') fail();
  return { auditable: false, reason: a.reason as string };
}
