// The candidate half of reconciling a bundle pointer (bundle-reconciler.ts does the active
// half, then this): the pointer's shadow or canary revision is loaded with the same loader
// as any revision (digest, signature, compile, self-check, prepared on every worker) and
// staged beside the active set in one registry swap. A candidate that does not load is
// never staged: the active set keeps serving alone, and the refusal is reported as an
// Event, a metric, a log line and in this replica's rollout report. A pointer without a
// candidate unstages the one this replica ran (promoted, or rolled back).
import type { LoadedBundle } from '../bundles/bundle.js';
import { compileSlice } from '../bundles/canary-slice.js';
import type { PolicyRegistry } from '../bundles/registry.js';
import type { CandidateState } from '../bundles/rollout-report.js';
import type { Pointer } from '../cluster/bundle-objects.js';
import type { BundleStore } from '../cluster/bundle-store.js';
import { candidateOf } from '../cluster/rollout-objects.js';
import { BouncerError, describeThrown, isBouncerError } from '../errors/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { RolloutMetrics } from '../telemetry/metrics.js';

export type { CandidateState } from '../bundles/rollout-report.js';

export interface CandidateReconcilerDeps {
  readonly store: Pick<BundleStore, 'event'>;
  readonly registry: PolicyRegistry;
  readonly load: (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;
  /** The revision's bytes, checked against its published digest. */
  readonly content: (bundle: string, sequence: number, digest: string) => Promise<Uint8Array>;
  readonly replica: string;
  readonly log: Logger;
  readonly metrics?: RolloutMetrics;
}

export interface CandidateReconciler {
  /** Stages, replaces or unstages the bundle's candidate to match the pointer. */
  apply(pointer: Pointer): Promise<void>;
  /** The loaded candidate with this digest, to activate without loading it again (a promotion). */
  loaded(bundle: string, digest: string): LoadedBundle | undefined;
  removed(bundle: string): void;
  states(): ReadonlyMap<string, CandidateState>;
}

export function createCandidateReconciler(deps: CandidateReconcilerDeps): CandidateReconciler {
  const { registry, log, replica } = deps;
  const staged = new Map<string, { key: string; bundle: LoadedBundle }>();
  const states = new Map<string, CandidateState & { key: string }>();
  const reportedInvalid = new Map<string, string>();

  const event = (bundle: string, type: 'Normal' | 'Warning', reason: string, message: string) =>
    deps.store.event(bundle, type, reason, message, `bouncer/${replica}`).catch((err: unknown) => log.warn({ err, bundle }, 'could not record an event'));

  function unstage(bundle: string): boolean {
    const had = staged.delete(bundle);
    states.delete(bundle);
    registry.unstage(bundle);
    deps.metrics?.candidate(bundle, undefined);
    return had;
  }

  return {
    async apply(pointer) {
      const { bundle } = pointer;
      if (pointer.rolloutInvalid && reportedInvalid.get(bundle) !== pointer.rolloutInvalid) {
        reportedInvalid.set(bundle, pointer.rolloutInvalid);
        log.warn({ bundle, problem: pointer.rolloutInvalid }, 'the pointer has rollout fields that cannot be read; they are ignored');
        await event(bundle, 'Warning', 'CandidateInvalid', `the rollout fields of the pointer are ignored by ${replica}: ${pointer.rolloutInvalid}`);
      }
      const running = candidateOf(pointer);
      if (!running) {
        if (unstage(bundle)) {
          log.info({ bundle, active: pointer.sequence, action: pointer.action }, 'candidate no longer on the pointer: unstaged');
          if (pointer.action === 'rollback') deps.metrics?.rolledBack(bundle);
        }
        return;
      }
      const c = running.candidate;
      const key = JSON.stringify([running.mode, c.sequence, c.digest, c.startedAt, running.mode === 'canary' ? running.candidate.slice : null]);
      if (states.get(bundle)?.key === key) return;
      const base = { mode: running.mode, sequence: c.sequence, startedAt: c.startedAt };
      try {
        const slice = running.mode === 'canary' ? compileSlice(running.candidate.slice) : undefined;
        const reuse = staged.get(bundle)?.bundle;
        const loaded = reuse && reuse.digest === c.digest ? reuse : await deps.load(bundle, await deps.content(bundle, c.sequence, c.digest));
        registry.stage({
          bundle: loaded,
          mode: running.mode,
          sequence: c.sequence,
          startedAt: c.startedAt,
          ...(slice && running.mode === 'canary' ? { slice, sliceSpec: running.candidate.slice } : {}),
        });
        staged.set(bundle, { key, bundle: loaded });
        states.set(bundle, { ...base, state: 'loaded', key });
        deps.metrics?.candidate(bundle, running.mode);
        log.info({ bundle, mode: running.mode, sequence: c.sequence, revision: loaded.revision, active: pointer.sequence }, 'candidate revision staged beside the active one');
        await event(bundle, 'Normal', running.mode === 'canary' ? 'CanaryStarted' : 'ShadowStarted', `revision ${c.sequence} (${loaded.revision}) runs as a ${running.mode} beside revision ${pointer.sequence} on ${replica}`);
      } catch (err) {
        const failure = isBouncerError(err) ? err : new BouncerError('BUNDLE_CORRUPT', describeThrown(err), { cause: err });
        unstage(bundle);
        states.set(bundle, { ...base, state: 'refused', code: failure.code, reason: failure.message.slice(0, 512), key });
        deps.metrics?.candidateRefused(bundle, failure.code);
        log.warn({ bundle, mode: running.mode, sequence: c.sequence, code: failure.code, err: failure, active: pointer.sequence }, 'candidate revision refused; the active revision keeps serving alone');
        await event(bundle, 'Warning', 'CandidateRefused', `${running.mode} revision ${c.sequence} refused by ${replica}: ${failure.code}: ${failure.message}; revision ${pointer.sequence} keeps serving alone`);
      }
    },
    loaded: (bundle, digest) => {
      const s = staged.get(bundle);
      return s && s.bundle.digest === digest ? s.bundle : undefined;
    },
    removed: (bundle) => {
      unstage(bundle);
    },
    states: () => new Map([...states].map(([b, { key: _key, ...s }]) => [b, s])),
  };
}
