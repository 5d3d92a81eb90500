// The rollout commands' arguments, checked before anything speaks to the cluster, and the
// status lines made from a pointer with a candidate and its replicas' reports.
import { describe, expect, inject, it } from 'vitest';
import { emptyCounts } from '../../src/bundles/canary-window.js';
import { main } from '../../src/cli/main.js';
import { rolloutLines } from '../../src/cli/rollout-status.js';
import { DEFAULT_PROMOTION_POLICY } from '../../src/cluster/rollout-objects.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => '' });
  return { code, out, err };
}

describe('rollout commands', () => {
  const bundle = () => inject('bundles').basic as string;

  it.each([
    [['push', 'F', '--name', 'x', '--shadow', '--canary', 'percent=5'], /--shadow and --canary exclude each other/],
    [['push', 'F', '--name', 'x', '--canary', 'namespaces=tier in (a'], /canary namespace selector/],
    [['push', 'F', '--name', 'x', '--canary-window', '5m'], /--canary-window needs --canary/],
    [['promote'], /promote needs a bundle name/],
    [['promote', 'a', 'b'], /promote needs a bundle name/],
    [['rollback', 'x', '--to', 'zero'], /--to must be a revision sequence number/],
  ])('refuses %j before speaking to the cluster', async (args, message) => {
    const { code, err } = await run(args.map((a) => (a === 'F' ? bundle() : a)));
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  it('a valid canary push gets as far as the cluster', async () => {
    const { code, err } = await run(['push', bundle(), '--name', 'x', '--canary', 'percent=5', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(code).toBe(2);
    expect(err).toMatch(/CLUSTER_FAILED/);
  });
});

describe('bouncer status rollout lines', () => {
  const counts = (reviews: number, denied: number) => ({ ...emptyCounts(), reviews, denied, buckets: [reviews, ...emptyCounts().buckets.slice(1)] });
  const canary = { sequence: 4, revision: 'v4', digest: 'd'.repeat(64), startedAt: 1_000_000, slice: { namespaces: 'env=canary', percent: 20 }, policy: { ...DEFAULT_PROMOTION_POLICY, windowMs: 60_000, minReviews: 10 } };
  const report = (c: number, d: number) => ({ at: 'x', candidate: { mode: 'canary', sequence: 4, startedAt: 1_000_000, state: 'loaded' }, active: counts(100, 1), canary: counts(c, d) });

  it('shows the canary, its slice and window, and the counts added up over the replicas', () => {
    const lines = rolloutLines(
      {
        pointer: { bundle: 'b', sequence: 3, revision: 'v3', digest: 'e'.repeat(64), publishedAt: 0, action: 'push', canary, history: [{ at: 0, action: 'canary', sequence: 4, revision: 'v4', by: 'cli' }] },
        replicas: {},
        rollout: { r1: report(30, 3), r2: report(20, 2), stale: { ...report(999, 999), candidate: { sequence: 3, startedAt: 1 } } },
      },
      1_030_000,
    );
    expect(lines).toEqual([
      '  canary: revision 4 (v4) on namespaces env=canary and 20%, 30 s of a 60 s window, at least 10 reviews',
      '    canary: 50 reviews, deny 10.00%, errors 0.00%, p99 0.05 ms',
      '    active: 200 reviews, deny 1.00%, errors 0.00%, p99 0.05 ms',
      '    reported by r1, r2',
      '  step 1970-01-01T00:00:00.000Z canary revision 4 by cli',
    ]);
  });

  it('names the replicas that refused the candidate', () => {
    const refused = { ...report(0, 0), candidate: { mode: 'canary', sequence: 4, startedAt: 1_000_000, state: 'refused', code: 'BUNDLE_CORRUPT' } };
    const lines = rolloutLines({ pointer: { bundle: 'b', sequence: 3, revision: 'v3', digest: 'e'.repeat(64), publishedAt: 0, action: 'push', canary }, replicas: {}, rollout: { r2: refused } }, 1_000_000);
    expect(lines.at(-1)).toBe('    reported by r2; REFUSED by r2');
  });
});
