// The review recording's settings: off by default, its bounds checked, and the --record-*
// settings refused without --record-dir.
import { describe, expect, it } from 'vitest';
import { loadServeConfig } from './serve-config.js';

const base = ['--bundle', 'b=/tmp/b.tar.gz', '--tls-cert', '/tmp/c', '--tls-key', '/tmp/k'];
const load = (args: string[], env: Record<string, string> = {}) => loadServeConfig([...base, ...args], env, () => 1);

describe('serve configuration: review recording', () => {
  it('is off by default', () => {
    expect(load([]).recording).toBeUndefined();
  });

  it('takes a directory, bounds, a sample and extra masks, from flags or the environment', () => {
    expect(load(['--record-dir', '/var/rec', '--record-max-mb', '64', '--record-max-age', '2h', '--record-sample', '0.25', '--record-mask', '/spec/token'])).toMatchObject({
      recording: { dir: '/var/rec', maxBytes: 64 * 1024 * 1024, maxAgeMs: 7_200_000, sample: 0.25, maskPointers: ['/spec/token'] },
    });
    expect(load([], { BOUNCER_RECORD_DIR: '/r' }).recording).toEqual({ dir: '/r', maxBytes: 256 * 1024 * 1024, maxAgeMs: 86_400_000, sample: 1, maskPointers: [] });
  });

  it.each([
    [['--record-dir', '/r', '--record-sample', '0'], 'must be a number more than 0 and at most 1'],
    [['--record-dir', '/r', '--record-sample', '1.5'], 'must be a number more than 0 and at most 1'],
    [['--record-dir', '/r', '--record-max-mb', '0'], 'must be an integer from 1'],
    [['--record-dir', '/r', '--record-mask', 'spec/token'], 'a JSON pointer starting with /'],
    [['--record-sample', '0.5'], 'the --record-* settings need --record-dir'],
  ])('refuses %j', (args, message) => {
    expect(() => load(args)).toThrow(message);
  });
});
