// How many CPUs this process may use: the CPU affinity (availableParallelism) capped by the
// cgroup's CPU quota — in a pod with `limits.cpu: 1` on a 16-core node the quota says 1,
// the affinity 16. Worker threads beyond the quota only add contention and throttling.
// cgroup v2: /sys/fs/cgroup/cpu.max ("max 100000" or "150000 100000");
// cgroup v1: /sys/fs/cgroup/cpu/cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export type ReadFile = (path: string) => string | undefined;

const readIfPresent: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}

/** CPUs allowed by the cgroup quota (fractional), or undefined when there is none. */
export function cgroupCpuQuota(read: ReadFile = readIfPresent): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2) return ratio(v2[0], v2[1]);
  return ratio(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim(), read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
}

/** Whole CPUs this process should plan for: at least 1. */
export function cpuBudget(read: ReadFile = readIfPresent, cores: number = availableParallelism()): number {
  const quota = cgroupCpuQuota(read);
  return Math.max(1, quota === undefined ? cores : Math.min(cores, Math.ceil(quota - 1e-9)));
}
