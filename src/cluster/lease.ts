// Leader election over a coordination.k8s.io Lease: one replica at a time holds it and
// renews it; another takes it over once it has not been renewed for its duration.
// Updates carry the read resourceVersion, so two replicas cannot both win a takeover.
import { ApiException, CoordinationV1Api, type KubeConfig, type V1Lease, V1MicroTime } from '@kubernetes/client-node';

export interface LeaderElector {
  /** Acquires or renews the lease; true while this replica leads. */
  tryLead(): Promise<boolean>;
}

export function createLeaderElector(kc: KubeConfig, namespace: string, name: string, identity: string, durationSeconds = 15): LeaderElector {
  const api = kc.makeApiClient(CoordinationV1Api);
  const micro = (ms: number) => new V1MicroTime(ms);
  return {
    async tryLead() {
      const now = Date.now();
      let lease: V1Lease;
      try {
        lease = await api.readNamespacedLease({ namespace, name });
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw err;
        try {
          await api.createNamespacedLease({
            namespace,
            body: {
              metadata: { name, namespace },
              spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: micro(now), renewTime: micro(now), leaseTransitions: 0 },
            },
          });
          return true;
        } catch (createErr) {
          if (createErr instanceof ApiException && createErr.code === 409) return false;
          throw createErr;
        }
      }
      const spec = lease.spec ?? {};
      const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
      const expired = renewed + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 < now;
      const mine = spec.holderIdentity === identity;
      if (!mine && !expired) return false;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: micro(now),
        ...(mine ? {} : { acquireTime: micro(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      };
      try {
        await api.replaceNamespacedLease({ namespace, name, body: lease });
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return false;
        throw err;
      }
    },
  };
}
