// isTooLarge: the two ways the API server refuses an object for its size (the e2e test
// provokes both on the real API server), and nothing else taken for them.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isTooLarge, unlessBusy } from './report-api.js';

const status = (code: number, message: string) => new ApiException(code, 'refused', JSON.stringify({ kind: 'Status', message, code }), {});

describe('isTooLarge', () => {
  it.each([
    ['the API server body limit (413)', status(413, 'Request entity too large: limit is 3145728'), true],
    ["etcd's --max-request-bytes (500)", status(500, 'etcdserver: request is too large'), true],
    ['a gRPC send limit', status(500, 'rpc error: code = ResourceExhausted desc = trying to send message larger than max (2097152 vs. 2097152)'), true],
    ['a conflict', status(409, 'the object has been modified; please apply your changes to the latest version and try again'), false],
    ['an invalid object', status(422, 'Report.openreports.io "bouncer-audit" is invalid'), false],
    ['a plain error', new Error('socket hang up'), false],
  ])('%s', (_name, err, expected) => {
    expect(isTooLarge(err)).toBe(expected);
  });
});

describe('unlessBusy', () => {
  it('retries a 429 (storage still initialising) and returns the answer; other statuses are thrown at once', async () => {
    let calls = 0;
    const answer = await unlessBusy(async () => {
      calls += 1;
      if (calls < 3) throw status(429, 'storage is (re)initializing');
      return 'listed';
    }, 1);
    expect([answer, calls]).toEqual(['listed', 3]);
    calls = 0;
    await expect(
      unlessBusy(async () => {
        calls += 1;
        throw status(403, 'forbidden');
      }, 1),
    ).rejects.toMatchObject({ code: 403 });
    expect(calls).toBe(1);
  });

  it('gives up after its retries with the last 429', async () => {
    let calls = 0;
    await expect(
      unlessBusy(async () => {
        calls += 1;
        throw status(429, 'too many requests');
      }, 1),
    ).rejects.toMatchObject({ code: 429 });
    expect(calls).toBe(6);
  });
});
