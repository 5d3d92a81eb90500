// The policies a CLI command evaluates: a built bundle file, or a policies directory
// built on the spot with the OPA CLI (exactly what `bouncer build` would produce).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../authoring/build.js';
import { loadBundle, type LoadedBundle } from '../bundles/bundle.js';
import { resolveOpa } from '../config/opa-path.js';
import { PACKAGE_ROOT, type CliContext } from './context.js';

export async function loadPolicySource(
  ctx: CliContext,
  source: { bundle?: string | undefined; policies?: string | undefined; opa?: string | undefined },
): Promise<LoadedBundle> {
  if (source.bundle) return loadBundle('cli', readFileSync(source.bundle));
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-cli-'));
  try {
    const output = join(dir, 'bundle.tar.gz');
    await buildBundle({ policiesDir: source.policies ?? 'policies', output, opa: resolveOpa(source.opa, ctx.env, PACKAGE_ROOT) });
    return await loadBundle('local', readFileSync(output));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
