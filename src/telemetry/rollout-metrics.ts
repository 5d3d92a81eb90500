// The metrics of rollouts (shadow, canary, promotion and rollback): the `rollout` member of
// Metrics. Labels are bounded: bundle names, roles (active, canary), modes (shadow,
// canary), policy ids, disagreement kinds, error codes and step actions.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Role = 'active' | 'canary';

/** How the shadow's verdict for one policy differs from the active one's. */
export type DisagreementKind = 'denied' | 'allowed' | 'warned' | 'unwarned' | 'patched' | 'error';
export const DISAGREEMENT_KINDS: readonly DisagreementKind[] = ['denied', 'allowed', 'warned', 'unwarned', 'patched', 'error'];

/** What became of one shadow evaluation. */
export type ShadowResult = 'compared' | 'skipped' | 'failed' | 'timeout';

export interface RolloutMetrics {
  /** bouncer_rollout_candidate{bundle,mode}: 1 while this replica runs a candidate of the bundle (the series removed after). */
  candidate(bundle: string, mode: 'shadow' | 'canary' | undefined): void;
  /** bouncer_rollout_candidate_refusals_total{bundle,code}: candidates that did not load (the active revision kept serving alone). */
  candidateRefused(bundle: string, code: string): void;
  /** bouncer_rollout_decisions_total{role,decision}, bouncer_rollout_errored_decisions_total{role}, bouncer_rollout_decision_duration_seconds{role}. */
  decision(role: Role, allowed: boolean, errored: boolean, seconds: number): void;
  /** bouncer_shadow_evaluations_total{result} and, when compared, bouncer_shadow_evaluation_duration_seconds. */
  shadow(result: ShadowResult, seconds?: number): void;
  /** bouncer_shadow_disagreements_total{policy,kind}. */
  shadowDisagreement(policy: string, kind: DisagreementKind): void;
  /** bouncer_rollout_steps_total{bundle,action}: promotions and rollbacks the promotion controller took. */
  step(bundle: string, action: 'promote' | 'rollback'): void;
  /** bouncer_rollout_last_rollback_timestamp_seconds{bundle}: when this replica last saw a candidate rolled back (automatically or by hand). */
  rolledBack(bundle: string): void;
}

const DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export function rolloutMetrics(registers: Registry[]): RolloutMetrics {
  const candidates = new Gauge({ name: 'bouncer_rollout_candidate', help: 'A candidate revision this replica runs beside the active one (value 1), by bundle and mode (shadow, canary).', labelNames: ['bundle', 'mode'], registers });
  const refused = new Counter({
    name: 'bouncer_rollout_candidate_refusals_total',
    help: 'Shadow or canary candidates that did not load (the active revision kept serving alone), by bundle and error code.',
    labelNames: ['bundle', 'code'],
    registers,
  });
  const decisions = new Counter({
    name: 'bouncer_rollout_decisions_total',
    help: 'Reviews decided while a canary runs, by the role of the revision that decided them (active, canary) and decision (allowed, denied).',
    labelNames: ['role', 'decision'],
    registers,
  });
  const errored = new Counter({
    name: 'bouncer_rollout_errored_decisions_total',
    help: 'Reviews decided while a canary runs in which a policy failed to evaluate, by role (active, canary).',
    labelNames: ['role'],
    registers,
  });
  const durations = new Histogram({
    name: 'bouncer_rollout_decision_duration_seconds',
    help: 'Evaluation time of reviews decided while a canary runs, by role (active, canary).',
    labelNames: ['role'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const shadows = new Counter({
    name: 'bouncer_shadow_evaluations_total',
    help: 'Shadow evaluations, by result (compared; skipped: over the shadow concurrency budget; failed: threw; timeout: past the shadow deadline). None affects an answer.',
    labelNames: ['result'],
    registers,
  });
  const shadowDurations = new Histogram({ name: 'bouncer_shadow_evaluation_duration_seconds', help: 'Time of compared shadow evaluations, off the answer path.', buckets: DURATION_BUCKETS, registers });
  const disagreements = new Counter({
    name: 'bouncer_shadow_disagreements_total',
    help: "Reviews where a shadow candidate's verdict for a policy differs from the active revision's, by policy and kind (denied, allowed, warned, unwarned, patched, error).",
    labelNames: ['policy', 'kind'],
    registers,
  });
  const steps = new Counter({
    name: 'bouncer_rollout_steps_total',
    help: 'Canaries promoted or rolled back by the promotion controller (the replica holding the rollout Lease), by bundle and action (promote, rollback).',
    labelNames: ['bundle', 'action'],
    registers,
  });
  const lastRollback = new Gauge({ name: 'bouncer_rollout_last_rollback_timestamp_seconds', help: 'When this replica last saw a candidate of the bundle rolled back.', labelNames: ['bundle'], registers });
  for (const result of ['compared', 'skipped', 'failed', 'timeout']) shadows.inc({ result }, 0);
  for (const role of ['active', 'canary']) for (const decision of ['allowed', 'denied']) decisions.inc({ role, decision }, 0);
  const modes = new Map<string, string>();
  return {
    candidate(bundle, mode) {
      const old = modes.get(bundle);
      if (old && old !== mode) candidates.remove({ bundle, mode: old });
      if (mode) {
        candidates.set({ bundle, mode }, 1);
        modes.set(bundle, mode);
      } else modes.delete(bundle);
    },
    candidateRefused: (bundle, code) => refused.inc({ bundle, code }),
    decision(role, allowed, wasErrored, seconds) {
      decisions.inc({ role, decision: allowed ? 'allowed' : 'denied' });
      if (wasErrored) errored.inc({ role });
      durations.observe({ role }, seconds);
    },
    shadow(result, seconds) {
      shadows.inc({ result });
      if (result === 'compared' && seconds !== undefined) shadowDurations.observe(seconds);
    },
    shadowDisagreement: (policy, kind) => disagreements.inc({ policy, kind }),
    step: (bundle, action) => steps.inc({ bundle, action }),
    rolledBack: (bundle) => lastRollback.set({ bundle }, Date.now() / 1000),
  };
}
