// Resolves the pinned toolchain through hack/ensure-tools.sh (which builds it on first use).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Toolchain {
  readonly OPA?: string;
  readonly ETCD?: string;
  readonly KUBE_APISERVER?: string;
  readonly KUBECTL?: string;
  readonly GATOR?: string;
  /** Gatekeeper's manager binary (its webhook); only with `gatekeeper`. */
  readonly GATEKEEPER?: string;
  readonly HELM?: string;
  readonly SHELLCHECK?: string;
  readonly PROMTOOL?: string;
}

const script = fileURLToPath(new URL('../ensure-tools.sh', import.meta.url));

/** Runs ensure-tools.sh for `what` and returns the NAME=PATH lines it printed. */
export function ensureTools(what: 'opa' | 'control-plane' | 'kubectl' | 'gator' | 'gatekeeper' | 'helm' | 'test-tools' | 'all'): Toolchain {
  const out = execFileSync('bash', [script, what], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const tools: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) tools[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return tools;
}

export function requireTool(tools: Toolchain, name: keyof Toolchain): string {
  const path = tools[name];
  if (!path) throw new Error(`hack/ensure-tools.sh did not report ${name}`);
  return path;
}
