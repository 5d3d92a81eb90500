// Counts each decision into the rollout's windows (canary-window.ts) and metrics: a review a
// canary decided into that canary's counts, a review the active revision decided into the
// baseline of every canary running, each with its evaluation time. The windows follow the
// registry's snapshot: a candidate that changes (promoted, rolled back, replaced) ends its
// window, and a new one starts at zero.
import { createWindowTracker, type CandidateWindow, type WindowTracker } from '../bundles/canary-window.js';
import type { RolloutSnapshot } from '../bundles/rollout-snapshot.js';
import type { RolloutMetrics } from '../telemetry/metrics.js';
import type { Decision } from './decision.js';

export interface RolloutRecorder {
  /** Records one decision (the webhook's onDecision). Never throws. */
  observe(decision: Decision): void;
  /** The tracker the shadow runner counts into, synced with the snapshot first. */
  readonly windows: Pick<WindowTracker, 'shadow'>;
  /** This replica's windows now (the rollout report). */
  current(): CandidateWindow[];
}

export function createRolloutRecorder(deps: { snapshot: () => RolloutSnapshot; metrics?: Pick<RolloutMetrics, 'decision'> }): RolloutRecorder {
  const tracker = createWindowTracker();
  let seen: RolloutSnapshot['candidates'] | undefined;
  const sync = () => {
    const { candidates } = deps.snapshot();
    if (candidates === seen) return;
    seen = candidates;
    tracker.track(candidates.map((c) => ({ bundle: c.bundle.name, sequence: c.sequence, startedAt: c.startedAt, mode: c.mode })));
  };
  return {
    observe(decision) {
      sync();
      const rollout = decision.rollout;
      if (!rollout) return;
      const errored = decision.outcomes.some((o) => o.action === 'error');
      deps.metrics?.decision(rollout.role, decision.allowed, errored, decision.durationMs / 1000);
      tracker.decided(rollout.canaries, decision.allowed, errored, decision.durationMs);
    },
    windows: {
      shadow(...args) {
        sync();
        tracker.shadow(...args);
      },
    },
    current() {
      sync();
      return tracker.windows();
    },
  };
}
