// isTooLarge: the two ways the API server refuses an object for its size (the e2e test
// provokes both on the real API server), and nothing else taken for them.
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isTooLarge } from './report-writer.js';

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
