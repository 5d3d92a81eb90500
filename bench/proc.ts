// What the kernel knows about a server process: CPU time (all threads, /proc/<pid>/stat
// utime + stime) and resident memory (/proc/<pid>/status VmRSS, VmHWM), plus CPU pinning
// with taskset(1) and the machine description for the report.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** The process and its descendants (a cluster's workers), by /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${tree[i]}/task`)) {
        const children = readFileSync(`/proc/${tree[i]}/task/${task}/children`, 'utf8').trim();
        if (children) tree.push(...children.split(' ').map(Number));
      }
    } catch {
      // the process went away while we looked
    }
  }
  return tree;
}

/** CPU time of a process and its descendants, in milliseconds (a process gone since counts 0). */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    try {
      return sum + cpuMsOf(p);
    } catch {
      return sum;
    }
  }, 0);
}

/** Resident memory of a process and its descendants, summed (KiB). */
export function treeMemory(pid: number): { rssKb: number; peakKb: number } {
  return processTree(pid).reduce(
    (sum, p) => {
      try {
        const m = memoryOf(p);
        return { rssKb: sum.rssKb + m.rssKb, peakKb: sum.peakKb + m.peakKb };
      } catch {
        return sum;
      }
    },
    { rssKb: 0, peakKb: 0 },
  );
}

/** CPU time (user + system, all threads) the process has used, in milliseconds. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based, proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size now and its peak, in KiB. */
export function memoryOf(pid: number): { rssKb: number; peakKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** The child of this process whose command line contains every one of `args` (in order-insensitive match). */
export function findChild(args: readonly string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.every((a) => cmdline.includes(a))) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

export interface Pinning {
  /** CPU list (taskset -c syntax) for the load generator and the in-process floor. */
  readonly client: string;
  /** CPU list for the server under test. */
  readonly server: string;
}

/** Client on CPU 0, servers on the rest; undefined when there is one CPU or no taskset. */
export function planPinning(): Pinning | undefined {
  const n = cpus().length;
  if (n < 2 || !existsSync('/usr/bin/taskset')) return undefined;
  return { client: '0', server: n === 2 ? '1' : `1-${n - 1}` };
}

/** Pins every thread of `pid` to `cpuList`. */
export function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

export interface Machine {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGb: number;
  readonly kernel: string;
  readonly node: string;
}

export function describeMachine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux
  }
  let memoryGb = 0;
  try {
    memoryGb = Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024);
  } catch {
    // not Linux
  }
  let kernel = '';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux
  }
  return { cpus: cpus().length, model, memoryGb, kernel, node: process.version };
}

/** Busy CPU time of the whole machine so far (all CPUs, /proc/stat), ms. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (n[0] ?? 0) + (n[1] ?? 0) + (n[2] ?? 0) + (n[5] ?? 0) + (n[6] ?? 0) + (n[7] ?? 0);
  return (busy * 1000) / ticksPerSecond();
}

/** 1-minute load average. */
export function loadAverage(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/**
 * Puts a process (all its threads) under a CFS CPU quota of `cpus` CPUs, as a pod's
 * `limits.cpu` does, in a cgroup of its own (v2: cpu.max; v1: cpu.cfs_quota_us). Needs a
 * writable cgroup hierarchy (root on the development VM). Returns the cleanup, which moves
 * nothing back: call it after the process has exited.
 */
export function limitCpu(pid: number, cpus: number, periodUs = 100_000): () => void {
  const quota = Math.round(cpus * periodUs);
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = v2 ? `/sys/fs/cgroup/bouncer-bench-${pid}` : `/sys/fs/cgroup/cpu/bouncer-bench-${pid}`;
  mkdirSync(dir, { recursive: true });
  if (v2) writeFileSync(`${dir}/cpu.max`, `${quota} ${periodUs}`);
  else {
    writeFileSync(`${dir}/cpu.cfs_period_us`, String(periodUs));
    writeFileSync(`${dir}/cpu.cfs_quota_us`, String(quota));
  }
  writeFileSync(`${dir}/cgroup.procs`, String(pid));
  return () => {
    try {
      rmdirSync(dir);
    } catch {
      // still has a process: left for the next boot
    }
  };
}
