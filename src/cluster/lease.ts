// Leader election over a coordination.k8s.io Lease: one replica at a time holds it and
// renews it; another takes it over once the lease record has not changed for its duration.
//
// Expiry follows client-go's rule: a replica never compares another replica's clock (the
// renewTime it wrote) with its own. It remembers the record it last observed and when, by
// its own clock, that record last changed; the holder is presumed alive until the record
// has stood still for leaseDurationSeconds. So clock skew between replicas can neither
// steal a lease that is being renewed nor keep a dead holder's lease for longer.
// https://github.com/kubernetes/client-go/blob/master/tools/leaderelection/leaderelection.go
// Updates carry the read resourceVersion, so two replicas cannot both win a takeover.
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';

export interface LeaderElector {
  /** Acquires or renews the lease; true while this replica leads. */
  tryLead(): Promise<boolean>;
}

/** The Lease calls the elector makes (a CoordinationV1Api). */
export interface LeaseApi {
  readNamespacedLease(p: { namespace: string; name: string }): Promise<V1Lease>;
  createNamespacedLease(p: { namespace: string; body: V1Lease }): Promise<V1Lease>;
  replaceNamespacedLease(p: { namespace: string; name: string; body: V1Lease }): Promise<V1Lease>;
}

export interface LeaderElectorOptions {
  readonly api: LeaseApi;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly durationSeconds?: number;
  /** This replica's clock (ms); only ever compared with itself. */
  readonly now?: () => number;
}

const conflict = (err: unknown, code: number) => err instanceof ApiException && err.code === code;

export function createLeaderElector(kc: KubeConfig, namespace: string, name: string, identity: string, durationSeconds = 15): LeaderElector {
  return leaderElector({ api: kc.makeApiClient(CoordinationV1Api), namespace, name, identity, durationSeconds });
}

export function leaderElector(options: LeaderElectorOptions): LeaderElector {
  const { api, namespace, name, identity } = options;
  const durationSeconds = options.durationSeconds ?? 15;
  const now = options.now ?? Date.now;
  let observed: string | undefined;
  let observedAt = 0;
  return {
    async tryLead() {
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (!conflict(err, 404)) throw err;
        const at = new V1MicroTime(Date.now());
        try {
          await api.createNamespacedLease({
            namespace,
            body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: at, renewTime: at, leaseTransitions: 0 } },
          });
          return true;
        } catch (createErr) {
          if (conflict(createErr, 409)) return false;
          throw createErr;
        }
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime, spec.leaseTransitions, spec.leaseDurationSeconds]);
      if (record !== observed) {
        observed = record;
        observedAt = now();
      }
      const mine = spec.holderIdentity === identity;
      const held = Boolean(spec.holderIdentity) && observedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 > now();
      if (!mine && held) return false;
      // renewTime is written for people and other tools; no elector here reads it as a clock.
      const at = new V1MicroTime(Date.now());
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: at,
        ...(mine ? {} : { acquireTime: at, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      };
      try {
        await api.replaceNamespacedLease({ namespace, name, body: lease });
        return true;
      } catch (err) {
        if (conflict(err, 409)) return false;
        throw err;
      }
    },
  };
}
