import { describe, expect, it } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { compileSlice, parseLabelSelector, sliceBucket } from './canary-slice.js';

describe('canary slice', () => {
  it('puts an object always in or always out: the bucket depends on namespace/name only', () => {
    expect(sliceBucket('apps', 'web')).toBe(sliceBucket('apps', 'web'));
    expect(sliceBucket('apps', 'web')).not.toBe(sliceBucket('apps', 'web2'));
    const slice = compileSlice({ percent: 30 });
    for (let i = 0; i < 50; i++) {
      const subject = { namespace: 'apps', name: `obj-${i}`, namespaceLabels: undefined };
      expect(slice(subject)).toBe(slice(subject));
    }
  });

  it('a percent slice holds about that share of objects', () => {
    const slice = compileSlice({ percent: 20 });
    let inside = 0;
    for (let i = 0; i < 10_000; i++) if (slice({ namespace: `ns-${i % 7}`, name: `obj-${i}`, namespaceLabels: undefined })) inside++;
    expect(inside / 10_000).toBeGreaterThan(0.18);
    expect(inside / 10_000).toBeLessThan(0.22);
    expect(compileSlice({ percent: 100 })({ namespace: '', name: 'x', namespaceLabels: undefined })).toBe(true);
  });

  it.each([
    ['env=canary', { env: 'canary' }, true],
    ['env=canary', { env: 'prod' }, false],
    ['env==canary', { env: 'canary' }, true],
    ['env!=prod', {}, true],
    ['env!=prod', { env: 'prod' }, false],
    ['tier in (web, api)', { tier: 'api' }, true],
    ['tier notin (web,api)', { tier: 'api' }, false],
    ['canary', { canary: '' }, true],
    ['!legacy', { legacy: 'yes' }, false],
    ['env=canary,tier in (web,api),!legacy', { env: 'canary', tier: 'web' }, true],
    ['env=canary,tier in (web,api),!legacy', { env: 'canary', tier: 'web', legacy: '1' }, false],
    ['example.com/team=a', { 'example.com/team': 'a' }, true],
  ])('namespaces=%s on labels %j → %s', (selector, labels, expected) => {
    expect(compileSlice({ namespaces: selector })({ namespace: 'n', name: 'x', namespaceLabels: labels })).toBe(expected);
  });

  it('a namespace selector leaves out cluster-scoped objects and Namespaces the cache does not know', () => {
    const slice = compileSlice({ namespaces: '!legacy' });
    expect(slice({ namespace: '', name: 'x', namespaceLabels: {} })).toBe(false);
    expect(slice({ namespace: 'unknown', name: 'x', namespaceLabels: undefined })).toBe(false);
    expect(slice({ namespace: 'known', name: 'x', namespaceLabels: {} })).toBe(true);
  });

  it('both parts: the intersection', () => {
    const slice = compileSlice({ namespaces: 'env=canary', percent: 50 });
    const names = Array.from({ length: 200 }, (_, i) => `o${i}`);
    const inHalf = names.filter((name) => compileSlice({ percent: 50 })({ namespace: 'c', name, namespaceLabels: undefined }));
    expect(names.filter((name) => slice({ namespace: 'c', name, namespaceLabels: { env: 'canary' } }))).toEqual(inHalf);
    expect(names.filter((name) => slice({ namespace: 'c', name, namespaceLabels: { env: 'prod' } }))).toEqual([]);
  });

  it.each(['', 'env=', 'tier in (a', 'a b', 'Bad_/x=y', 'env=not valid'])('refuses the selector %j with a clear error', (text) => {
    let err: unknown;
    try {
      parseLabelSelector(text);
    } catch (e) {
      err = e;
    }
    if (text === 'env=') expect(err).toBeUndefined();
    else expect(isBouncerError(err, 'CONFIG_INVALID') && err.message).toMatch(/canary namespace selector/);
  });

  it('refuses a slice without a part and a percent out of range', () => {
    expect(() => compileSlice({})).toThrow(/namespaces=<selector>, percent=<N> or both/);
    expect(() => compileSlice({ percent: 0 })).toThrow(/must be in \(0, 100\]/);
  });
});
