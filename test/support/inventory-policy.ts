// The inventory test policy (test/fixtures/inventory-policy), built to WASM by the pinned OPA
// CLI, and `opa eval` of the same Rego over a given data document: the oracle for what a
// policy instance must see after in-place data changes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFiles } from './bundle-files.js';
import { compileWasm, type WasmModule } from '../../src/engine/wasm-module.js';
import { createEvaluator, DEFAULT_LIMITS, type EvaluatorLimits } from '../../src/engine/evaluator.js';
import type { Loadable } from '../../src/engine/backend.js';

export const INVENTORY_POLICY_DIR = 'test/fixtures/inventory-policy';
export const INVENTORY_RULES = ['all', 'names', 'duplicate_hosts', 'config', 'conflict', 'spin'] as const;

export interface InventoryPolicy {
  readonly wasm: WasmModule;
  /** The bundle's data.json. */
  readonly data: Uint8Array;
  /** Entrypoint id of rule `inv/<rule>`. */
  entry(rule: (typeof INVENTORY_RULES)[number]): number;
}

export async function buildInventoryPolicy(opa: string, limits?: EvaluatorLimits): Promise<InventoryPolicy> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-inv-policy-'));
  try {
    const out = join(dir, 'b.tar.gz');
    execFileSync(opa, ['build', '-t', 'wasm', ...INVENTORY_RULES.flatMap((r) => ['-e', `inv/${r}`]), '-o', out, INVENTORY_POLICY_DIR]);
    const files = await bundleFiles(out);
    const wasm = await compileWasm(files.get('/policy.wasm') as Uint8Array, limits);
    return {
      wasm,
      data: files.get('/data.json') as Uint8Array,
      entry: (rule) => {
        const id = wasm.entrypoints[`inv/${rule}`];
        if (id === undefined) throw new Error(`no entrypoint inv/${rule}`);
        return id;
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `opa eval` of each rule over `document` (the whole data document, JSON): undefined rules are absent. */
export function opaEvalRules(opa: string, document: unknown, rules: readonly string[]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-inv-eval-'));
  try {
    writeFileSync(join(dir, 'data.json'), JSON.stringify(document));
    // One query per rule keeps an undefined rule from making the others undefined.
    const result: Record<string, unknown> = {};
    for (const rule of rules) {
      const stdout = execFileSync(opa, ['eval', '--format', 'json', '-d', join(dir, 'data.json'), '-d', join(INVENTORY_POLICY_DIR, 'inv.rego'), `data.inv.${rule}`], {
        encoding: 'utf8',
      });
      const parsed = JSON.parse(stdout) as { result?: { expressions: { value: unknown }[] }[] };
      const value = parsed.result?.[0]?.expressions[0]?.value;
      if (value !== undefined) result[rule] = value;
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The policy as a backend loads it (key, module, data, limits, an in-process evaluator). */
export function inventoryLoadable(policy: InventoryPolicy, key = 'inv'): Loadable {
  return { key, wasm: policy.wasm, data: policy.data, limits: DEFAULT_LIMITS, evaluator: createEvaluator(policy.wasm, policy.data) };
}
