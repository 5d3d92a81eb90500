import { describe, expect, it } from 'vitest';
import { loadServeConfig } from './serve-config.js';

const base = ['--bundle', 'b=/tmp/b.tar.gz', '--tls-cert', '/tmp/c', '--tls-key', '/tmp/k'];
const load = (args: string[] = [], cpus = 3) => loadServeConfig([...base, ...args], {}, () => cpus);

describe('serve configuration: performance settings', () => {
  it('sizes the worker pool from the CPUs this process may use, unless told', () => {
    expect(load([], 3).workers).toBe(3);
    expect(load([], 1).workers).toBe(1);
    expect(load(['--workers', '0'], 3).workers).toBe(0);
  });

  it('has no decision cache by default, and a bounded one with a time to live when asked', () => {
    expect(load().decisionCacheSize).toBe(0);
    const config = load(['--decision-cache-size', '5000', '--decision-cache-ttl', '30s']);
    expect(config.decisionCacheSize).toBe(5000);
    expect(config.decisionCacheTtlMs).toBe(30_000);
    expect(load().decisionCacheTtlMs).toBe(60_000);
  });

  it.each([
    [['--decision-cache-size=-1'], '--decision-cache-size must be an integer'],
    [['--decision-cache-size', 'lots'], '--decision-cache-size must be an integer'],
    [['--decision-cache-ttl', 'soon'], '--decision-cache-ttl must be a duration'],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    expect(() => load(args)).toThrow(message);
  });
});
