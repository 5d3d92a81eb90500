import { describe, expect, it } from 'vitest';
import type { CoreV1Event } from '@kubernetes/client-node';
import { eventRecorder } from './event-recorder.js';

const involvedObject = { apiVersion: 'v1', kind: 'Pod', namespace: 'bouncer-system', name: 'bouncer-0' };

function setup(write: (ns: string, body: CoreV1Event) => Promise<unknown>) {
  let t = 0;
  const warnings: string[] = [];
  const recorder = eventRecorder(write, { involvedObject, component: 'bouncer', logger: { warn: (_o, msg) => warnings.push(msg) }, minIntervalMs: 1000, now: () => t });
  return { recorder, warnings, advance: (ms: number) => (t += ms) };
}

describe('eventRecorder', () => {
  it('writes an Event on the involved object, in its namespace, rate-limited per message', () => {
    const written: { ns: string; body: CoreV1Event }[] = [];
    const { recorder, advance } = setup(async (ns, body) => written.push({ ns, body }));
    recorder.warning('InventoryOverBudget', 'v1/ConfigMap: full');
    recorder.warning('InventoryOverBudget', 'v1/ConfigMap: full');
    recorder.warning('InventoryKindUnavailable', 'v1/Secret: forbidden');
    advance(999);
    recorder.warning('InventoryOverBudget', 'v1/ConfigMap: full');
    expect(written).toHaveLength(2);
    advance(1);
    recorder.warning('InventoryOverBudget', 'v1/ConfigMap: full');
    expect(written).toHaveLength(3);
    expect(written[0]).toMatchObject({
      ns: 'bouncer-system',
      body: { type: 'Warning', reason: 'InventoryOverBudget', message: 'v1/ConfigMap: full', involvedObject, metadata: { generateName: 'bouncer-0.', namespace: 'bouncer-system' } },
    });
  });

  it('never throws nor rejects to the caller when the write fails', async () => {
    const { recorder, warnings } = setup(() => Promise.reject(new Error('forbidden')));
    expect(() => recorder.warning('X', 'y')).not.toThrow();
    const sync = setup(() => {
      throw new Error('boom');
    });
    expect(() => sync.recorder.record('Normal', 'X', 'y')).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual(['a Kubernetes Event could not be written']);
    expect(sync.warnings).toEqual(['a Kubernetes Event could not be written']);
  });
});
