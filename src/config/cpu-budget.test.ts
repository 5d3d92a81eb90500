import { describe, expect, it } from 'vitest';
import { cpuBudget } from './cpu-budget.js';

const files = (entries: Partial<Record<string, string>>) => (path: string) => entries[path];

describe('cpuBudget', () => {
  it.each<{ name: string; fs: Partial<Record<string, string>>; cores: number; budget: number }>([
    { name: 'no cgroup files', fs: {}, cores: 16, budget: 16 },
    { name: 'cgroup v2 without a quota', fs: { '/sys/fs/cgroup/cpu.max': 'max 100000\n' }, cores: 16, budget: 16 },
    { name: 'cgroup v2, limit 1 CPU', fs: { '/sys/fs/cgroup/cpu.max': '100000 100000\n' }, cores: 16, budget: 1 },
    { name: 'cgroup v2, limit 1.5 CPUs', fs: { '/sys/fs/cgroup/cpu.max': '150000 100000\n' }, cores: 16, budget: 2 },
    { name: 'cgroup v2, limit 200m', fs: { '/sys/fs/cgroup/cpu.max': '20000 100000' }, cores: 16, budget: 1 },
    { name: 'a quota above the cores', fs: { '/sys/fs/cgroup/cpu.max': '800000 100000' }, cores: 2, budget: 2 },
    { name: 'cgroup v1, limit 2 CPUs', fs: { '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }, cores: 8, budget: 2 },
    { name: 'cgroup v1 without a quota', fs: { '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }, cores: 8, budget: 8 },
    { name: 'an unreadable cpu.max', fs: { '/sys/fs/cgroup/cpu.max': 'garbage' }, cores: 4, budget: 4 },
  ])('$name → $budget', ({ fs, cores, budget }) => {
    expect(cpuBudget(files(fs), cores)).toBe(budget);
  });
});
