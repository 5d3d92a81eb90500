// OPA's parse of one Rego file, with locations: what the build reads rule names, references to
// the request and to data.inventory from (rego-reads.ts). The pinned OPA parses it, so what is
// read is exactly what `opa build` compiles.
import { runOpa } from './opa-cli.js';
import { parseJson } from '../json/parse-json.js';

/** The AST of `file` (relative to `cwd`); `v0` for a Rego v0 module (a template without version v1). */
export async function parseRego(opa: string, file: string, cwd: string, v0 = false): Promise<unknown> {
  const { stdout } = await runOpa(opa, ['parse', '--format', 'json', '--json-include', 'locations,-comments', ...(v0 ? ['--v0-compatible'] : []), file], cwd);
  return parseJson(stdout) as unknown;
}

/** The names of the rules a parsed module defines (`deny`, `warn`, `patch`, helpers). */
export function ruleNamesOf(ast: unknown): string[] {
  const rules = (ast as { rules?: { head: { name?: string; ref?: { value: unknown }[] } }[] } | null)?.rules ?? [];
  return rules.map((r) => r.head.name || r.head.ref?.[0]?.value).filter((n): n is string => typeof n === 'string');
}
