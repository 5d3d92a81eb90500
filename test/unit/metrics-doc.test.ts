import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricsMarkdown } from '../../hack/gen-metrics-docs.js';

describe('docs/metrics.md', () => {
  it('lists exactly the metrics the registry declares (regenerate with npx tsx hack/gen-metrics-docs.ts)', async () => {
    expect(readFileSync('docs/metrics.md', 'utf8')).toBe(await metricsMarkdown());
  });
});
