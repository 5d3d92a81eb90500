// From one object's Decision to audit results. The mapping, per PolicyAction of each outcome:
//   an outcome carrying an error (a policy that failed to evaluate, a template failure, a
//   constraint that could not be matched)            → error   (whatever its failure mode)
//   deny                                              → fail    enforcement deny
//   dryrun                                            → fail    enforcement dryrun (a violation, recorded only)
//   warn (violations of a warn policy, or warn rules) → warn    enforcement of the policy
//   pass                                              → pass    (counted per namespace and policy)
//   mutate                                            → never on the validate endpoint
//   exempt (a policy exception in force overrode it)  → skip    message: the exception and what it would have been
//     (the same exemptions() admission applies, at the audit's time: review/exemptions.ts)
// Gatekeeper constraints carry their action at the audit point as `enforcement` (deny, warn,
// dryrun), so a warn constraint's violation is a warn and a dryrun one's a fail, like a native
// policy's. A deny policy's warn-rule messages alongside its violations stay in the fail's message.
import type { Decision, PolicyOutcome } from '../review/decision.js';
import type { AuditFinding, AuditResource } from './types.js';

/** Longest message kept in a finding (report formats bound messages too; the decision event has all of it). */
export const MAX_MESSAGE_CHARS = 1024;

export interface ObjectResults {
  readonly findings: readonly AuditFinding[];
  /** Policies the object passed. */
  readonly passed: readonly string[];
}

function clip(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function messages(o: PolicyOutcome): string {
  return [...o.violations, ...o.warnings].map((v) => v.msg).join('\n');
}

function result(o: PolicyOutcome): AuditFinding['result'] | 'pass' {
  if (o.action === 'exempt') return 'skip';
  if (o.error || o.action === 'error') return 'error';
  switch (o.action) {
    case 'deny':
    case 'dryrun':
      return 'fail';
    case 'warn':
      return 'warn';
    default:
      return 'pass';
  }
}

function exemptedMessage(o: PolicyOutcome): string {
  const e = o.exemption;
  const would = messages(o);
  return `exempted by policy exception ${e?.exception ?? '?'}${e?.ticket ? ` (${e.ticket})` : ''} until ${e?.expiresAt ?? '?'}; would have been ${e?.action ?? '?'}${would ? `: ${would}` : ''}`;
}

/** The findings and passes of one object's decision. */
export function objectResults(decision: Decision, resource: AuditResource): ObjectResults {
  const findings: AuditFinding[] = [];
  const passed: string[] = [];
  for (const o of decision.outcomes) {
    const r = result(o);
    if (r === 'pass') {
      passed.push(o.policy);
      continue;
    }
    const message = r === 'skip' ? exemptedMessage(o) : r === 'error' ? `policy failed to evaluate (${o.error?.class ?? 'error'}): ${o.error?.message ?? 'unknown error'}` : messages(o);
    const e = o.exemption;
    const exemption = e ? { exemption: { exception: e.exception, expiresAt: e.expiresAt, ...(e.ticket ? { ticket: e.ticket } : {}) } } : {};
    findings.push({ policy: o.policy, bundle: o.bundle, enforcement: o.enforcement, result: r, message: clip(message), resource, ...exemption });
  }
  return { findings, passed };
}

/** The order of AuditRun.findings: namespace, policy, kind, name, then result and message (deterministic). */
export function compareFindings(a: AuditFinding, b: AuditFinding): number {
  const keys = (f: AuditFinding) => [f.resource.namespace, f.policy, f.resource.apiVersion, f.resource.kind, f.resource.name, f.result, f.message];
  const x = keys(a);
  const y = keys(b);
  for (let i = 0; i < x.length; i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * Keeps the first `limit` findings in compareFindings order out of any number added, in
 * bounded memory (at most 2 × limit held): Gatekeeper bounds its audit results the same way
 * (pkg/audit/manager.go LimitQueue, --constraint-violations-limit).
 */
export class BoundedFindings {
  private items: AuditFinding[] = [];
  private cut = false;
  constructor(private readonly limit: number) {}

  add(f: AuditFinding): void {
    this.items.push(f);
    if (this.items.length >= 2 * Math.max(1, this.limit)) this.trim();
  }

  private trim(): void {
    this.items.sort(compareFindings);
    if (this.items.length > this.limit) {
      this.items.length = this.limit;
      this.cut = true;
    }
  }

  /** Records that findings were cut elsewhere (a part merged into this one was truncated). */
  markTruncated(): void {
    this.cut = true;
  }

  /** Sorted, at most `limit`. */
  result(): { findings: AuditFinding[]; truncated: boolean } {
    this.trim();
    return { findings: this.items, truncated: this.cut };
  }
}
