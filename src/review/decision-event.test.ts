import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../admission/types.js';
import { jsonText } from '../telemetry/json-text.js';
import { deepChain, deepChainLeaf, KUBERNETES_MAX_JSON_DEPTH } from '../../test/support/deep.js';
import { decide } from './decide.js';
import { toDecisionEvent } from './decision-event.js';
import { summarize } from './reviewer.js';

const request = (object: unknown, oldObject: unknown = undefined): AdmissionRequest =>
  ({
    uid: 'u1',
    kind: { group: '', version: 'v1', kind: (object as { kind: string }).kind },
    resource: { group: '', version: 'v1', resource: 'things' },
    namespace: 'n',
    operation: oldObject ? 'UPDATE' : 'CREATE',
    userInfo: { username: 'alice' },
    object,
    ...(oldObject ? { oldObject } : {}),
  }) as AdmissionRequest;

const decisionOf = (req: AdmissionRequest) =>
  decide({ id: 'd1', endpoint: 'validate', request: summarize(req), revision: 'r1', outcomes: [], durationMs: 1 });

describe('toDecisionEvent with input', () => {
  it('masks what kubectl apply copies into last-applied-configuration, in object and oldObject', () => {
    const secret = (password: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { password } });
    const stored = (password: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(secret(password)) } },
      data: { password: Buffer.from(password).toString('base64') },
    });
    const req = request(stored('new-hunter2'), stored('old-hunter2'));
    const text = jsonText(toDecisionEvent(decisionOf(req), new Date(0), { request: req, maskPointers: [] }));
    for (const value of ['new-hunter2', 'old-hunter2']) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
    expect(text).toContain('"masked":[');
  });

  it('builds and serializes the event of an object as deep as the API server accepts', () => {
    const object = { kind: 'Thing', metadata: { name: 't' }, spec: deepChain(KUBERNETES_MAX_JSON_DEPTH - 3, { env: [{ name: 'X', value: 'deep-secret' }] }) };
    const req = request(object, object);
    const event = toDecisionEvent(decisionOf(req), new Date(0), { request: req, maskPointers: [] });
    expect(event.masked).toHaveLength(2);
    const text = jsonText(event);
    expect(text).not.toContain('deep-secret');
    const parsed = JSON.parse(text) as { input: { object: { spec: unknown } } };
    expect(deepChainLeaf(parsed.input.object.spec)).toEqual({ env: [{ name: 'X', value: '**REDACTED**' }] });
  });
});
