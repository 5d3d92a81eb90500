// Wiring of rollouts for `bouncer serve`: the recorder every decision goes through, the
// shadow runner the reviewer hands shadow work to (its disagreements into the decision log,
// with both verdicts), and, in the cluster mode, the report and promotion loops.
import type { PolicyRegistry } from '../bundles/registry.js';
import type { BundleStore } from '../cluster/bundle-store.js';
import type { EvalBackend } from '../engine/backend.js';
import type { NamespaceLookup } from '../gatekeeper/types.js';
import type { Decision } from '../review/decision.js';
import { toDecisionEvent } from '../review/decision-event.js';
import type { InventoryHealth } from '../review/inventory-gate.js';
import { createRolloutRecorder, type RolloutRecorder } from '../review/rollout-recorder.js';
import { createShadowRunner, type ShadowComparison, type ShadowRunner } from '../review/shadow-runner.js';
import type { CandidateState } from '../sources/candidate-reconciler.js';
import { createRolloutLoops, type RolloutLoops } from '../sources/rollout-loops.js';
import type { DecisionLog } from '../telemetry/decision-log.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { loadKubeConfig } from '../cluster/kubeconfig.js';

export interface ServeRollout {
  readonly recorder: RolloutRecorder;
  readonly shadow: ShadowRunner | undefined;
}

export interface ServeRolloutDeps {
  readonly registry: PolicyRegistry;
  readonly backend: EvalBackend;
  readonly maxConcurrent: number;
  readonly timeoutMs: number;
  readonly namespaces?: NamespaceLookup;
  readonly inventory?: InventoryHealth;
  readonly metrics: Metrics;
  readonly decisionLog: DecisionLog;
  readonly logger: Logger;
}

/** The decision-log event of a shadow decision: the shadow's verdict, the active one it was compared with, and each disagreement. */
export function shadowEvent(shadow: Decision, comparison: ShadowComparison) {
  return {
    ...toDecisionEvent(shadow),
    rollout: { role: 'shadow', canaries: [] },
    shadow: {
      bundle: comparison.candidate.bundle,
      sequence: comparison.candidate.sequence,
      revision: comparison.candidate.revision,
      compared_with: { decision_id: comparison.active.decisionId, allowed: comparison.active.allowed, revision: comparison.active.revision ?? null },
      disagreements: comparison.disagreements,
    },
  };
}

export function createServeRollout(deps: ServeRolloutDeps): ServeRollout {
  const recorder = createRolloutRecorder({ snapshot: deps.registry.snapshot, metrics: deps.metrics.rollout });
  const log = deps.logger.child({ component: 'shadow' });
  const shadow =
    deps.maxConcurrent > 0
      ? createShadowRunner({
          backend: deps.backend,
          maxConcurrent: deps.maxConcurrent,
          timeoutMs: deps.timeoutMs,
          ...(deps.namespaces ? { namespaces: deps.namespaces } : {}),
          ...(deps.inventory ? { inventory: deps.inventory } : {}),
          metrics: deps.metrics.rollout,
          windows: recorder.windows,
          onDisagreement: (decision, comparison) => {
            try {
              if (deps.decisionLog.active) deps.decisionLog.record(shadowEvent(decision, comparison));
            } catch (err) {
              log.warn({ err }, 'a shadow disagreement could not be recorded');
            }
          },
        })
      : undefined;
  return { recorder, shadow };
}

/** The report and promotion loops of the cluster mode (started once the bundle watch is). */
export async function createRolloutLoopsFor(
  kc: ReturnType<typeof loadKubeConfig>,
  options: { store: BundleStore; replica: string; intervalMs: number; candidates: () => ReadonlyMap<string, CandidateState>; recorder: RolloutRecorder; logger: Logger; metrics: Metrics },
): Promise<RolloutLoops> {
  const { createLeaderElector } = await import('../cluster/lease.js');
  const elector = createLeaderElector(kc, options.store.namespace, 'bouncer-rollout', options.replica, Math.max(15, Math.ceil((3 * options.intervalMs) / 1000)));
  return createRolloutLoops({
    store: options.store,
    elector,
    replica: options.replica,
    intervalMs: options.intervalMs,
    candidates: options.candidates,
    windows: () => options.recorder.current(),
    log: options.logger.child({ component: 'rollout' }),
    metrics: options.metrics.rollout,
  });
}
