import { describe, expect, it } from 'vitest';
import { parseBuckets, serverLatency } from '../../bench/server-latency.js';

const text = (counts: number[]) =>
  ['0.0005', '0.001', '0.0025', '+Inf']
    .map((le, i) => `bouncer_request_duration_seconds_bucket{le="${le}",endpoint="validate"} ${counts[i]}`)
    .concat('bouncer_request_duration_seconds_bucket{le="0.001",endpoint="mutate"} 999')
    .join('\n');

describe('server latency from histogram snapshots', () => {
  it('takes quantiles of the difference between two snapshots, interpolated within buckets', () => {
    const before = parseBuckets(text([10, 10, 10, 10]), 'bouncer_request_duration_seconds', 'validate');
    const after = parseBuckets(text([60, 108, 110, 110]), 'bouncer_request_duration_seconds', 'validate');
    const latency = serverLatency(before, after);
    // 100 new requests: 50 ≤ 0.5 ms, 48 in (0.5, 1] ms, 2 in (1, 2.5] ms.
    expect(latency?.count).toBe(100);
    expect(latency?.p50Ms).toBeCloseTo(0.5, 6);
    expect(latency?.p99Ms).toBeCloseTo(1.75, 6);
    expect(latency?.within1Ms).toBeCloseTo(0.98, 6);
  });

  it('has nothing to say about a run without requests', () => {
    const same = parseBuckets(text([1, 2, 3, 3]), 'bouncer_request_duration_seconds', 'validate');
    expect(serverLatency(same, same)).toBeUndefined();
  });
});
