// Where the CLI finds the OPA CLI: --opa, then OPA_BIN, then (in a bouncer checkout) the
// pinned build from hack/ensure-tools.sh, then `opa` on PATH.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function resolveOpa(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, packageRoot: string): string {
  if (flag) return flag;
  if (env.OPA_BIN) return env.OPA_BIN;
  const ensure = join(packageRoot, 'hack', 'ensure-tools.sh');
  if (existsSync(ensure)) {
    const out = execFileSync('bash', [ensure, 'opa'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = out.split('\n').find((l) => l.startsWith('OPA='));
    if (line) return line.slice(4);
  }
  return 'opa';
}
