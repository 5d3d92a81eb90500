// The Namespace cache wired as main.ts would: bouncer's pino logger and metrics registry go
// in as they are (src/cluster declares their shapes itself), its lookup is the Gatekeeper
// model's NamespaceLookup, and what it records shows on /metrics and in the log.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { namespaceCache, type NamespaceTransport } from '../../src/cluster/namespace-cache.js';
import type { NamespaceLookup } from '../../src/gatekeeper/types.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { metricValue } from '../support/metrics.js';

function lines() {
  const out: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) out.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { out, destination };
}

/** Lists three Namespaces; every watch stays open until aborted. */
const transport: NamespaceTransport = {
  read: async () => undefined,
  list: async () => ({
    metadata: { resourceVersion: '7' },
    items: ['a', 'b', 'c'].map((name, i) => ({ metadata: { name, resourceVersion: String(i + 1), labels: { n: name } } })),
  }),
  watch: async (_path, _query, _callback, done) => {
    const controller = new AbortController();
    controller.signal.addEventListener('abort', () => done(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    return controller;
  },
};

describe('the Namespace cache with bouncer’s logger and metrics', () => {
  it('records its size, sync time, lists and refusals on the registry, and logs the bound once', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const log = lines();
    const logger = createLogger({ destination: log.destination });
    const cache = namespaceCache(transport, { logger: logger.child({ component: 'namespace-cache' }), metrics: metrics.namespaceCache, maxNamespaces: 2 });
    const lookup: NamespaceLookup = cache.lookup;
    await cache.start();
    expect(lookup('a')).toEqual({ name: 'a', labels: { n: 'a' } });
    expect(lookup('c')).toBeUndefined();
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_namespace_cache_namespaces', {})).toBe(2);
    expect(metricValue(text, 'bouncer_namespace_cache_relists_total', { reason: 'initial' })).toBe(1);
    expect(metricValue(text, 'bouncer_namespace_cache_refused_total', { reason: 'limit' })).toBe(1);
    expect(metricValue(text, 'bouncer_namespace_cache_refused_total', { reason: 'annotations' })).toBe(0);
    expect(metricValue(text, 'bouncer_namespace_cache_last_sync_timestamp_seconds', {})).toBeGreaterThan(Date.now() / 1000 - 5);
    await cache.close();
    logger.flush();
    await new Promise((r) => setTimeout(r, 20));
    const full = log.out.filter((l) => String(l.msg).startsWith('namespace cache is full'));
    expect(full).toHaveLength(1);
    expect(full[0]).toMatchObject({ component: 'namespace-cache', maxNamespaces: 2, namespace: 'c' });
    expect(log.out.some((l) => l.msg === 'namespace cache synced' && l.namespaces === 2)).toBe(true);
  });
});
