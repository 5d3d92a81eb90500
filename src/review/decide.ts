// From policy outcomes to the decision: enforcement actions and failure modes applied,
// messages and warnings worded, audit annotations filled. Pure; no I/O.
import type { Endpoint } from '../admission/respond.js';
import type { JsonPatchOperation } from '../admission/types.js';
import type { Decision, DecisionRollout, PolicyOutcome, RequestSummary } from './decision.js';

export interface DecideInput {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly request: RequestSummary;
  readonly revision: string | undefined;
  readonly outcomes: readonly PolicyOutcome[];
  readonly patch?: readonly JsonPatchOperation[];
  readonly durationMs: number;
  /** The outcomes came from the decision cache. */
  readonly cached?: boolean;
  /** While a canary runs: the role of the revision that decided. */
  readonly rollout?: DecisionRollout;
}

const MESSAGE_PREFIX = 'bouncer denied the request';

function ids(outcomes: readonly PolicyOutcome[]): string {
  return [...new Set(outcomes.map((o) => o.policy))].join(',');
}

/** How messages name an outcome: a Gatekeeper constraint by its name, as Gatekeeper does; a policy by its id. */
function label(o: PolicyOutcome): string {
  return o.constraint?.name ?? o.policy;
}

function errorLine(o: PolicyOutcome): string {
  return `policy failed to evaluate (${o.error?.class ?? 'error'}): ${o.error?.message ?? 'unknown error'}`;
}

function exemptionWarning(o: PolicyOutcome): string {
  const e = o.exemption;
  const ticket = e?.ticket ? ` (${e.ticket})` : '';
  const would = [...o.violations, ...o.warnings].map((v) => v.msg).join('; ');
  return `[${label(o)}] exempted by policy exception ${e?.exception ?? '?'}${ticket} until ${e?.expiresAt ?? '?'}; would have been ${e?.action ?? '?'}${would ? `: ${would}` : ''}`;
}

/** The annotation set every decision carries (keys are prefixed by the webhook name in the audit log). */
function auditAnnotations(input: DecideInput, allowed: boolean): Record<string, string> {
  const by = (pred: (o: PolicyOutcome) => boolean): PolicyOutcome[] => input.outcomes.filter(pred);
  const denied = by((o) => o.action === 'deny' || (o.action === 'error' && o.failure === 'fail-closed'));
  const warned = by((o) => o.action === 'warn');
  const dryrun = by((o) => o.action === 'dryrun');
  const mutated = by((o) => o.action === 'mutate');
  const errors = by((o) => o.action === 'error');
  const exempted = by((o) => o.action === 'exempt');
  const out: Record<string, string> = {
    decision: allowed ? 'allowed' : 'denied',
    'decision-id': input.id,
    'policy-set': input.revision ?? 'none',
  };
  if (denied.length > 0) out['denied-by'] = ids(denied);
  if (warned.length > 0) out['warned-by'] = ids(warned);
  if (dryrun.length > 0) {
    out['dryrun-violations'] = ids(dryrun);
    out['dryrun-messages'] = dryrun.flatMap((o) => [...o.violations, ...o.warnings].map((v) => `[${label(o)}] ${v.msg}`)).join('; ');
  }
  if (mutated.length > 0) out['mutated-by'] = ids(mutated);
  if (errors.length > 0) out['policy-errors'] = errors.map((o) => `${o.policy}:${o.error?.class ?? 'error'}:${o.failure}`).join(',');
  // `<policy>:<exception>` pairs: what was exempted, and by which exception (docs/exceptions.md).
  if (exempted.length > 0) out['exempted-by'] = exempted.map((o) => `${o.policy}:${o.exemption?.exception ?? '?'}`).join(',');
  if (input.rollout) {
    out['rollout-role'] = input.rollout.role;
    if (input.rollout.canaries.length > 0) out['canary-revisions'] = input.rollout.canaries.map((c) => `${c.bundle}#${c.sequence}`).join(',');
  }
  return out;
}

/**
 * The one Decision of a review, from the outcomes of every in-scope policy: a deny (or a
 * fail-closed error) rejects, with a message naming each policy and its violations; warn
 * and fail-open errors admit with warnings; dryrun admits and records the would-be denial
 * in audit annotations; the combined patch rides along when admitted. Pure: the response,
 * the metrics and the decision log are all made from what it returns.
 */
export function decide(input: DecideInput): Decision {
  const lines: string[] = [];
  // Gatekeeper's form for constraints: one `[name] msg` line per violation, joined by newlines.
  const constraintLines: { msg: string; line: string }[] = [];
  const warnings: string[] = [];
  let policyDenied = false;
  let errorDenied = false;
  for (const o of input.outcomes) {
    switch (o.action) {
      case 'deny':
        policyDenied = true;
        for (const v of o.violations) {
          if (o.constraint) constraintLines.push({ msg: v.msg, line: `[${label(o)}] ${v.msg}` });
          else lines.push(`[${label(o)}] ${v.msg}`);
        }
        for (const v of o.warnings) warnings.push(`[${label(o)}] ${v.msg}`);
        break;
      case 'warn':
        for (const v of [...o.violations, ...o.warnings]) warnings.push(`[${label(o)}] ${v.msg}`);
        break;
      case 'error':
        if (o.failure === 'fail-closed') {
          errorDenied = true;
          lines.push(`[${o.policy}] ${errorLine(o)}`);
        } else {
          warnings.push(`[${o.policy}] policy failed to evaluate; admitted because it is fail-open`);
        }
        break;
      case 'exempt':
        // Shown to the requester too: an exemption is never silent, and it says when it ends.
        warnings.push(exemptionWarning(o));
        break;
      default:
        break;
    }
  }
  if (input.revision === undefined) {
    errorDenied = true;
    lines.push('no policy set is active yet');
  }
  const allowed = !policyDenied && !errorDenied;
  // Gatekeeper orders its results by message (as Go compares strings) before wording the denial.
  constraintLines.sort((a, b) => Buffer.compare(Buffer.from(a.msg), Buffer.from(b.msg)));
  const message = [...(lines.length > 0 ? [`${MESSAGE_PREFIX}: ${lines.join('; ')}`] : []), ...constraintLines.map((c) => c.line)].join('\n');
  return {
    id: input.id,
    endpoint: input.endpoint,
    request: input.request,
    allowed,
    ...(allowed ? {} : { code: policyDenied ? 403 : 500, message }),
    warnings,
    ...(allowed && input.patch && input.patch.length > 0 ? { patch: input.patch } : {}),
    revision: input.revision,
    outcomes: input.outcomes,
    auditAnnotations: auditAnnotations(input, allowed),
    durationMs: input.durationMs,
    ...(input.cached ? { cached: true } : {}),
    ...(input.rollout ? { rollout: input.rollout } : {}),
  };
}
