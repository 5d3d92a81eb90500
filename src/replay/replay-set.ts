// A policy set for replay: bundles loaded exactly as `bouncer serve` loads them, plus what the
// Rego each one carries reads of the input (input-reads.ts), parsed by the OPA CLI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readBundleArchive } from '../bundles/archive.js';
import { loadBundle, type LoadedBundle } from '../bundles/bundle.js';
import { createPolicySet } from '../bundles/policy-set.js';
import { moduleInputReads, parseModules, type ModuleReads } from './input-reads.js';
import type { ReplaySet } from './replay-records.js';

/** The input reads of every .rego file a bundle carries. */
export async function bundleInputReads(bytes: Uint8Array, opa: string): Promise<ModuleReads[]> {
  const files = await readBundleArchive(bytes);
  const rego = [...files.keys()].filter((f) => f.endsWith('.rego'));
  if (rego.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-replay-'));
  try {
    const names = rego.map((f, i) => {
      const name = join(String(i), f.replace(/^\/+/, ''));
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), files.get(f) as Uint8Array);
      return name;
    });
    return moduleInputReads(await parseModules(opa, dir, names));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads `bundles` (name and bytes) into one set and reads what their Rego reads. */
export async function loadReplaySet(bundles: readonly { readonly name: string; readonly bytes: Uint8Array }[], opa: string): Promise<ReplaySet> {
  const loaded: LoadedBundle[] = [];
  const reads = new Map<string, readonly ModuleReads[]>();
  for (const b of bundles) {
    loaded.push(await loadBundle(b.name, b.bytes));
    reads.set(b.name, await bundleInputReads(b.bytes, opa));
  }
  return { set: createPolicySet(loaded), reads };
}
