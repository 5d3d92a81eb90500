// The OPA bundle manifest (`/.manifest`) as bouncer reads it.
// https://www.openpolicyagent.org/docs/management-bundles#bundle-file-format
import { BouncerError } from '../errors/errors.js';
import type { InventoryRequirements } from '../inventory/types.js';
import { parseGatekeeperManifest, type GatekeeperManifest } from './gatekeeper-manifest.js';
import { parseInventoryManifest } from './inventory-manifest.js';
import { parseExceptionList, type PolicyException } from './policy-exception.js';
import { METADATA_SCHEMA, parsePolicyMetadata, type PolicyMetadata } from './policy-metadata.js';
import { parseJson } from '../json/parse-json.js';

export interface BundleManifest {
  readonly revision: string;
  readonly roots: readonly string[];
  readonly wasm: readonly { readonly entrypoint: string; readonly module: string }[];
  readonly policies: readonly PolicyMetadata[];
  /** ConstraintTemplates and Constraints compiled into the bundle, when it has any. */
  readonly gatekeeper?: GatekeeperManifest;
  /** The kinds the bundle's policies read from data.inventory (none for a bundle built before it existed). */
  readonly inventory: InventoryRequirements;
  /** Policy exceptions carried by the bundle, each naming only this bundle's policies (policy-exception.ts). */
  readonly exceptions: readonly PolicyException[];
}

function invalid(message: string): BouncerError {
  return new BouncerError('BUNDLE_MANIFEST_INVALID', message);
}

export function parseManifest(text: string): BundleManifest {
  let raw: unknown;
  try {
    raw = parseJson(text);
  } catch (cause) {
    throw new BouncerError('BUNDLE_MANIFEST_INVALID', '.manifest is not JSON', { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('.manifest must be a JSON object');
  const m = raw as Record<string, unknown>;
  if (typeof m.revision !== 'string' || m.revision === '') throw invalid('.manifest has no revision');
  if (m.roots !== undefined && !(Array.isArray(m.roots) && m.roots.every((r) => typeof r === 'string'))) throw invalid('.manifest roots must be a list of strings');
  const roots = (m.roots as string[] | undefined) ?? [''];
  if (!Array.isArray(m.wasm) || m.wasm.length === 0) throw invalid('.manifest lists no wasm module (build with `bouncer build`)');
  const wasm = m.wasm.map((w: unknown) => {
    const e = w as Record<string, unknown>;
    if (typeof e?.entrypoint !== 'string' || typeof e.module !== 'string') throw invalid('.manifest wasm entries need entrypoint and module');
    return { entrypoint: e.entrypoint, module: e.module };
  });
  const meta = (m.metadata as Record<string, unknown> | undefined)?.bouncer as Record<string, unknown> | undefined;
  if (!meta || meta.schema !== METADATA_SCHEMA || !Array.isArray(meta.policies)) {
    throw invalid(`.manifest has no metadata.bouncer (schema ${METADATA_SCHEMA}) describing the policies`);
  }
  const policies = meta.policies.map(parsePolicyMetadata);
  const ids = new Set<string>();
  const entrypoints = new Set(wasm.map((w) => w.entrypoint));
  for (const p of policies) {
    if (ids.has(p.id)) throw invalid(`policy ${p.id} appears twice`);
    ids.add(p.id);
    for (const e of Object.values(p.entrypoints)) {
      if (!entrypoints.has(e)) throw invalid(`policy ${p.id} names entrypoint ${e}, which the wasm section does not list`);
      if (!roots.some((r) => r === '' || e === r || e.startsWith(`${r}/`))) throw invalid(`entrypoint ${e} is outside the bundle roots`);
    }
  }
  const gatekeeper = parseGatekeeperManifest(meta.gatekeeper, entrypoints);
  for (const t of gatekeeper?.templates ?? []) {
    if (!roots.some((r) => r === '' || t.entrypoint === r || t.entrypoint.startsWith(`${r}/`))) throw invalid(`entrypoint ${t.entrypoint} is outside the bundle roots`);
  }
  const inventory = parseInventoryManifest(meta.inventory, { policies: ids, templates: new Set((gatekeeper?.templates ?? []).map((t) => t.kind)) });
  const known = new Set([...ids, ...(gatekeeper?.constraints ?? []).map((c) => c.id)]);
  const exceptions = parseExceptionList(meta.exceptions, known, 'EXCEPTION_INVALID', 'metadata.bouncer.exceptions');
  return { revision: m.revision, roots, wasm, policies, ...(gatekeeper ? { gatekeeper } : {}), inventory, exceptions };
}
