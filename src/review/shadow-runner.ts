// Shadow evaluation: a candidate revision evaluated on live traffic beside the active one,
// never enforced. The contract with the answer path:
//
// - submit() only reserves a slot and schedules the work (setImmediate): the answer is
//   computed before and sent without waiting; nothing the shadow does reaches it.
// - Shadow work has its own budget: at most `maxConcurrent` evaluations at a time (beyond
//   that a review's shadow is skipped and counted), each within `timeoutMs` (a deadline the
//   worker pool enforces; past it the result is ignored and counted as a timeout).
// - A shadow that throws is counted as failed. No failure is ever retried or surfaced to
//   the API server.
//
// Only the candidate bundle is evaluated: the other bundles' outcomes are the active
// decision's, so the shadow's verdict is what the whole set would have answered with the
// candidate in place. Each policy whose verdict differs is a disagreement (kind: denied,
// allowed, warned, unwarned, patched, error) counted by policy, and the review's shadow
// decision is handed to `onDisagreement` with both verdicts (the decision log).
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { WindowTracker } from '../bundles/canary-window.js';
import type { StagedCandidate } from '../bundles/rollout-snapshot.js';
import type { EvalBackend } from '../engine/backend.js';
import type { NamespaceLookup } from '../gatekeeper/types.js';
import type { DisagreementKind, RolloutMetrics } from '../telemetry/metrics.js';
import { planConstraints } from './constraint-plan.js';
import { decide } from './decide.js';
import type { Decision, PolicyOutcome } from './decision.js';
import { evaluatePolicies } from './evaluate-policies.js';
import { exemptions } from './exemptions.js';
import type { InventoryHealth } from './inventory-gate.js';

export interface ShadowJob {
  readonly decision: Decision;
  readonly shadows: readonly StagedCandidate[];
  readonly endpoint: Endpoint;
  readonly request: AdmissionRequest;
  readonly raw: Uint8Array;
}

export interface Disagreement {
  readonly policy: string;
  readonly kind: DisagreementKind;
}

export interface ShadowComparison {
  readonly candidate: { readonly bundle: string; readonly sequence: number; readonly revision: string };
  readonly active: { readonly decisionId: string; readonly allowed: boolean; readonly revision: string | undefined };
  readonly disagreements: readonly Disagreement[];
}

export interface ShadowRunner {
  submit(job: ShadowJob): void;
  /** Settles when no shadow evaluation is running (tests, shutdown). */
  idle(): Promise<void>;
}

export interface ShadowRunnerDeps {
  readonly backend: EvalBackend;
  readonly maxConcurrent: number;
  readonly timeoutMs: number;
  readonly namespaces?: NamespaceLookup;
  readonly inventory?: InventoryHealth;
  readonly metrics?: Pick<RolloutMetrics, 'shadow' | 'shadowDisagreement'>;
  readonly windows?: Pick<WindowTracker, 'shadow'>;
  /** The shadow's decision of a review it disagrees on, with both verdicts. Must not throw. */
  readonly onDisagreement?: (shadow: Decision, comparison: ShadowComparison) => void;
  /** Where the work is deferred to (default setImmediate: after the answer is sent). */
  readonly schedule?: (work: () => void) => void;
  readonly now?: () => number;
}

const blocks = (o: PolicyOutcome | undefined) => o !== undefined && (o.action === 'deny' || (o.action === 'error' && o.failure === 'fail-closed'));
const warns = (o: PolicyOutcome | undefined) => o !== undefined && o.action === 'warn';

/** Each policy whose verdict differs between the active and the shadow outcomes of one bundle, ordered by policy. */
export function compareVerdicts(active: readonly PolicyOutcome[], shadow: readonly PolicyOutcome[]): Disagreement[] {
  const a = new Map(active.map((o) => [o.policy, o]));
  const s = new Map(shadow.map((o) => [o.policy, o]));
  const out: Disagreement[] = [];
  for (const policy of [...new Set([...a.keys(), ...s.keys()])].sort()) {
    const x = a.get(policy);
    const y = s.get(policy);
    let kind: DisagreementKind | undefined;
    if (!blocks(x) && blocks(y)) kind = 'denied';
    else if (blocks(x) && !blocks(y)) kind = 'allowed';
    else if (y?.action === 'error' && x?.action !== 'error') kind = 'error';
    else if (!warns(x) && warns(y)) kind = 'warned';
    else if (warns(x) && !warns(y)) kind = 'unwarned';
    else if (JSON.stringify(x?.patch ?? null) !== JSON.stringify(y?.patch ?? null)) kind = 'patched';
    if (kind) out.push({ policy, kind });
  }
  return out;
}

export function createShadowRunner(deps: ShadowRunnerDeps): ShadowRunner {
  const schedule = deps.schedule ?? ((work) => void setImmediate(work));
  const now = deps.now ?? Date.now;
  const namespaces: NamespaceLookup = deps.namespaces ?? (() => undefined);
  let running = 0;
  let waiters: (() => void)[] = [];
  const release = () => {
    running--;
    if (running === 0) {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    }
  };

  /** Resolves when the evaluation itself has ended (the slot is held until then, past a timeout too). */
  async function evaluate(job: ShadowJob, candidate: StagedCandidate): Promise<void> {
    const bundle = candidate.bundle.name;
    const started = now();
    const deadline = started + deps.timeoutMs;
    const { endpoint, request, decision } = job;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), deps.timeoutMs);
      timer.unref();
    });
    try {
      const plan = endpoint === 'validate' ? planConstraints(candidate.alone, request, namespaces, { requireNamespace: deps.namespaces !== undefined }) : undefined;
      // The time the active set saw, when pinned, and the candidate's own exceptions at the same
      // moment: an outcome the active set's exception exempted is compared with the candidate's
      // exempted outcome, not reported as a disagreement.
      const at = decision.nowNs === undefined ? Date.now() : Number(decision.nowNs / 1_000_000n);
      const work = evaluatePolicies(candidate.alone, endpoint, request, job.raw, deps.backend, deadline, plan, deps.inventory, decision.nowNs).then((evaluated) =>
        exemptions(candidate.alone, request, evaluated, { at, namespaces }),
      );
      const result = await Promise.race([work, timedOut]);
      if (result === 'timeout') {
        deps.metrics?.shadow('timeout');
        deps.windows?.shadow(bundle, candidate.sequence, 'timeout');
        await work.catch(() => undefined);
        return;
      }
      const active = decision.outcomes.filter((o) => o.bundle === bundle);
      const disagreements = compareVerdicts(active, result);
      const outcomes = [...decision.outcomes.filter((o) => o.bundle !== bundle), ...result];
      const shadow = decide({
        id: decision.id,
        endpoint,
        request: decision.request,
        revision: candidate.set.revision,
        outcomes,
        durationMs: now() - started,
      });
      deps.metrics?.shadow('compared', (now() - started) / 1000);
      for (const d of disagreements) deps.metrics?.shadowDisagreement(d.policy, d.kind);
      deps.windows?.shadow(bundle, candidate.sequence, 'compared', disagreements.length > 0, decision.allowed && !shadow.allowed);
      if (disagreements.length > 0 || shadow.allowed !== decision.allowed) {
        deps.onDisagreement?.(shadow, {
          candidate: { bundle, sequence: candidate.sequence, revision: candidate.bundle.revision },
          active: { decisionId: decision.id, allowed: decision.allowed, revision: decision.revision },
          disagreements,
        });
      }
    } catch {
      deps.metrics?.shadow('failed');
      deps.windows?.shadow(bundle, candidate.sequence, 'failed');
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    submit(job) {
      for (const candidate of job.shadows) {
        if (running >= deps.maxConcurrent) {
          deps.metrics?.shadow('skipped');
          deps.windows?.shadow(candidate.bundle.name, candidate.sequence, 'skipped');
          continue;
        }
        running++;
        schedule(() => {
          evaluate(job, candidate).finally(release);
        });
      }
    },
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}
