import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../admission/types.js';
import type { Decision } from './decision.js';
import { decisionRecorder } from './decision-recorder.js';

const decision = { id: 'd1', endpoint: 'validate', request: {}, allowed: true, warnings: [], revision: 'r', outcomes: [], auditAnnotations: {}, durationMs: 1 } as unknown as Decision;
const request = { object: { kind: 'ConfigMap' } } as unknown as AdmissionRequest;

describe('decisionRecorder', () => {
  it('builds no event when the decision log has no consumer', () => {
    let recorded = 0;
    decisionRecorder({ log: { active: false, record: () => recorded++ }, onError: () => undefined })(decision, request);
    expect(recorded).toBe(0);
  });

  it('reports a decision that cannot be recorded instead of throwing into the review', () => {
    const errors: unknown[] = [];
    const record = decisionRecorder({
      log: {
        active: true,
        record: () => {
          throw new Error('sink exploded');
        },
      },
      onError: (err) => errors.push(err),
    });
    expect(() => record(decision, request)).not.toThrow();
    expect(String(errors[0])).toContain('sink exploded');
  });

  it('carries the objects only when asked', () => {
    const events: { input?: unknown }[] = [];
    const log = { active: true, record: (e: { input?: unknown }) => events.push(e) };
    decisionRecorder({ log, onError: () => undefined })(decision, request);
    decisionRecorder({ log, input: { maskPointers: [] }, onError: () => undefined })(decision, request);
    expect(events[0]?.input).toBeUndefined();
    expect(events[1]?.input).toEqual({ object: { kind: 'ConfigMap' }, oldObject: null });
  });
});
