import { readFileSync } from 'node:fs';

/** Metric names listed in docs/metrics.md. */
export function documentedMetrics(): string[] {
  return [...readFileSync('docs/metrics.md', 'utf8').matchAll(/^\| `(bouncer_[a-z_]+)` \|/gm)].map((m) => m[1] as string);
}
