// Lays out a policies directory the way OPA should see it:
//   policies/<id>/*.rego, data.json|data.yaml  →  <stage>/policies/<snake_id>/…  (package policies.<snake_id>,
//                                                 data mounted at data.policies.<snake_id>)
//   policies/lib/*.rego                         →  <stage>/lib/…                (shared helpers, package lib.*)
//   policies/gatekeeper/                        →  staged by gatekeeper-stage.ts (ConstraintTemplates, Constraints)
//   policies/exceptions/                        →  not staged: read by exceptions-source.ts into the manifest
// Tests (*_test.rego) are staged only for `bouncer test`.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BouncerError } from '../errors/errors.js';

export interface StagedPolicy {
  readonly id: string;
  readonly snake: string;
  readonly sourceDir: string;
  readonly regoFiles: readonly string[];
}

export interface Stage {
  readonly dir: string;
  readonly policies: readonly StagedPolicy[];
}

const ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The folder of a policy directory that holds Gatekeeper objects rather than a native policy. */
export const GATEKEEPER_DIR = 'gatekeeper';

function invalid(message: string): BouncerError {
  return new BouncerError('POLICY_SOURCE_INVALID', message);
}

function regoFiles(dir: string, tests: boolean): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rego') && (tests || !f.endsWith('_test.rego')))
    .sort();
}

function stageData(sourceDir: string, targetDir: string): void {
  const json = join(sourceDir, 'data.json');
  const yaml = join(sourceDir, 'data.yaml');
  if (existsSync(json) && existsSync(yaml)) throw invalid(`${sourceDir} has both data.json and data.yaml; keep one`);
  if (existsSync(json)) copyFileSync(json, join(targetDir, 'data.json'));
  else if (existsSync(yaml)) {
    let data: unknown;
    try {
      data = parseYaml(readFileSync(yaml, 'utf8'));
    } catch (cause) {
      throw new BouncerError('POLICY_SOURCE_INVALID', `${yaml} is not valid YAML: ${(cause as Error).message}`, { cause });
    }
    writeFileSync(join(targetDir, 'data.json'), JSON.stringify(data ?? {}));
  }
}

/** Stages the native policies; `allowEmpty` when the directory's policies are all Gatekeeper objects. */
export function stagePolicies(policiesDir: string, options: { tests: boolean; allowEmpty?: boolean }): Stage {
  if (!existsSync(policiesDir) || !statSync(policiesDir).isDirectory()) throw invalid(`${policiesDir} is not a directory`);
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-stage-'));
  const policies: StagedPolicy[] = [];
  for (const entry of readdirSync(policiesDir).sort()) {
    const sourceDir = join(policiesDir, entry);
    if (!statSync(sourceDir).isDirectory() || entry.startsWith('.')) continue;
    const files = regoFiles(sourceDir, options.tests);
    if (entry === GATEKEEPER_DIR) continue;
    // Policy exceptions (exceptions-source.ts) are manifest metadata, not Rego.
    if (entry === 'exceptions') continue;
    if (entry === 'lib') {
      mkdirSync(join(dir, 'lib'), { recursive: true });
      for (const f of files) copyFileSync(join(sourceDir, f), join(dir, 'lib', f));
      continue;
    }
    if (!ID.test(entry)) throw invalid(`policy directory ${entry} must be a DNS label (lowercase letters, digits, -)`);
    const production = regoFiles(sourceDir, false);
    if (production.length === 0) throw invalid(`policy directory ${entry} has no .rego file`);
    const snake = entry.replaceAll('-', '_');
    const target = join(dir, 'policies', snake);
    mkdirSync(target, { recursive: true });
    for (const f of files) copyFileSync(join(sourceDir, f), join(target, f));
    stageData(sourceDir, target);
    policies.push({ id: entry, snake, sourceDir, regoFiles: production.map((f) => join('policies', snake, f)) });
  }
  if (policies.length === 0 && !options.allowEmpty) throw invalid(`${policiesDir} holds no policy directories`);
  return { dir, policies };
}
