// Builds every policy set the tests use into real OPA bundles (policy.wasm compiled by the
// pinned OPA CLI), once per run: the starter library in policies/ and each set under
// test/fixtures/policy-sets/.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTools, requireTool } from '../../hack/lib/tools.js';
import { buildBundle } from '../../src/authoring/build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Policy set name ("starter", or a directory of test/fixtures/policy-sets) → bundle file. */
    bundles: Record<string, string>;
    opa: string;
  }
}

export const POLICY_SETS_DIR = 'test/fixtures/policy-sets';

export default async function setup(project: TestProject): Promise<() => void> {
  const opa = requireTool(ensureTools('opa'), 'OPA');
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-bundles-'));
  const sources: Record<string, string> = { starter: 'policies' };
  for (const name of readdirSync(POLICY_SETS_DIR)) sources[name] = join(POLICY_SETS_DIR, name);
  const bundles: Record<string, string> = {};
  await Promise.all(
    Object.entries(sources).map(async ([name, policiesDir]) => {
      const output = join(dir, `${name}.tar.gz`);
      await buildBundle({ policiesDir, output, opa, revision: `test-${name}-1` });
      bundles[name] = output;
    }),
  );
  project.provide('bundles', bundles);
  project.provide('opa', opa);
  return () => rmSync(dir, { recursive: true, force: true });
}
