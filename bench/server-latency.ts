// Server-side latency of bouncer, from its own histogram bouncer_request_duration_seconds
// (request headers read → answer written): snapshots of the cumulative buckets before and
// after a run, and quantiles of the difference interpolated within buckets the way
// Prometheus' histogram_quantile does. This is the time bouncer holds a request, without
// the client, the network stack's queues or time waiting for the event loop to read the
// request — the open-loop figures measured by the client include all of those.

/** Cumulative counts by upper bound (seconds; Infinity for +Inf). */
export type BucketSnapshot = ReadonlyMap<number, number>;

export function parseBuckets(metricsText: string, name: string, endpoint: string): BucketSnapshot {
  const buckets = new Map<number, number>();
  const line = new RegExp(`^${name}_bucket\\{(.*)\\} (\\S+)$`);
  for (const raw of metricsText.split('\n')) {
    // An OpenMetrics exemplar (tracing on) follows the value: ` # {trace_id="..."} 0.0012 1700000000.1`.
    const match = line.exec(raw.split(' # ', 1)[0] as string);
    if (!match) continue;
    const labels = match[1] as string;
    if (!labels.includes(`endpoint="${endpoint}"`)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(match[2]));
  }
  return buckets;
}

export interface ServerLatency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of requests answered within 1 ms (exact: 1 ms is a bucket bound). */
  readonly within1Ms: number;
}

/** Quantiles of the requests observed between two snapshots; undefined when there were none. */
export function serverLatency(before: BucketSnapshot, after: BucketSnapshot): ServerLatency | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const quantile = (q: number): number => {
    const rank = q * total;
    const i = cumulative.findIndex((c) => c >= rank);
    const upper = bounds[i] as number;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    if (upper === Infinity) return lower * 1000;
    const below = i === 0 ? 0 : (cumulative[i - 1] as number);
    const inBucket = (cumulative[i] as number) - below;
    return (lower + (upper - lower) * (inBucket === 0 ? 0 : (rank - below) / inBucket)) * 1000;
  };
  const ms1 = bounds.indexOf(0.001);
  return { count: total, p50Ms: quantile(0.5), p99Ms: quantile(0.99), within1Ms: ms1 < 0 ? NaN : (cumulative[ms1] as number) / total };
}
