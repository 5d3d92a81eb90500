import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { leaderElector, type LeaseApi } from './lease.js';

/** One Lease object with resourceVersion checks, as the API server keeps it. */
function leaseStore(): LeaseApi & { lease?: V1Lease } {
  let version = 0;
  const store: LeaseApi & { lease?: V1Lease } = {
    async readNamespacedLease() {
      if (!store.lease) throw new ApiException(404, 'not found', {}, {});
      return structuredClone(store.lease);
    },
    async createNamespacedLease({ body }) {
      if (store.lease) throw new ApiException(409, 'exists', {}, {});
      store.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      return structuredClone(store.lease);
    },
    async replaceNamespacedLease({ body }) {
      if (body.metadata?.resourceVersion !== store.lease?.metadata?.resourceVersion) throw new ApiException(409, 'conflict', {}, {});
      store.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++version) } };
      return structuredClone(store.lease);
    },
  };
  return store;
}

/** A replica's own clock, moved by the test. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const elector = (api: LeaseApi, identity: string, now: () => number) => leaderElector({ api, namespace: 'ns', name: 'certs', identity, durationSeconds: 15, now });

describe('leader election', () => {
  it('keeps the lease with a holder that renews, however far its renewTime is from our clock', async () => {
    const api = leaseStore();
    const a = clock();
    const b = clock();
    const holder = elector(api, 'a', a.now);
    const other = elector(api, 'b', b.now);
    expect(await holder.tryLead()).toBe(true);
    for (let i = 0; i < 10; i++) {
      // The holder's renewTime reads an hour old to b: b's clock runs ahead. b must not take over.
      api.lease!.spec!.renewTime = new Date(Date.now() - 3_600_000 + i * 10_000) as never;
      b.advance(10_000);
      expect(await other.tryLead()).toBe(false);
      expect(await holder.tryLead()).toBe(true);
    }
    expect(api.lease?.spec?.holderIdentity).toBe('a');
  });

  it('takes over once the record stood still for the lease duration by its own clock, whatever renewTime says', async () => {
    const api = leaseStore();
    const b = clock();
    expect(await elector(api, 'a', clock().now).tryLead()).toBe(true);
    // The dead holder's renewTime lies a day in the future (its clock ran ahead).
    api.lease!.spec!.renewTime = new Date(Date.now() + 86_400_000) as never;
    const other = elector(api, 'b', b.now);
    expect(await other.tryLead()).toBe(false);
    b.advance(14_000);
    expect(await other.tryLead()).toBe(false);
    b.advance(2_000);
    expect(await other.tryLead()).toBe(true);
    expect(api.lease?.spec?.holderIdentity).toBe('b');
    expect(api.lease?.spec?.leaseTransitions).toBe(1);
  });

  it('takes a released lease (no holder) at once', async () => {
    const api = leaseStore();
    expect(await elector(api, 'a', clock().now).tryLead()).toBe(true);
    api.lease!.spec!.holderIdentity = '';
    expect(await elector(api, 'b', clock().now).tryLead()).toBe(true);
  });

  it('lets only one of two replicas win a takeover', async () => {
    const api = leaseStore();
    expect(await elector(api, 'a', clock().now).tryLead()).toBe(true);
    const [b, c] = [clock(), clock()];
    const eb = elector(api, 'b', b.now);
    const ec = elector(api, 'c', c.now);
    await Promise.all([eb.tryLead(), ec.tryLead()]);
    b.advance(16_000);
    c.advance(16_000);
    const won = await Promise.all([eb.tryLead(), ec.tryLead()]);
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
