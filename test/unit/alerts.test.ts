// The PrometheusRule of manifests/overlays/monitoring: promtool accepts its rules, and the rule
// unit tests in manifests/overlays/monitoring/tests/ (synthetic series, expected alerts) pass.
// Every alert is documented with a runbook in docs/observability.md and has a firing and a quiet
// test case. promtool reads plain rule files, so the PrometheusRule's spec is extracted first.
//
// promtool comes from test/support/test-tools.ts: the promtool tests are skipped without it on a
// developer's machine (it says how to get it) and fail without it in CI.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTool } from '../support/test-tools.js';

const PROMTOOL = testTool('promtool');
const promtool = () => PROMTOOL as string;

const MONITORING = 'manifests/overlays/monitoring';
const TESTS = join(MONITORING, 'tests');
const RUNBOOKS = 'docs/observability.md';
const RUNBOOK_BASE = 'https://github.com/bouncer-dev/bouncer/blob/main/docs/observability.md#';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface PrometheusRule {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { groups: { name: string; rules: Rule[] }[] };
}
interface RuleTestFile {
  rule_files: string[];
  group_eval_order?: string[];
  tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: unknown[] | null }[] }[];
}

/** Runs a command without blocking the event loop (so the rule tests run side by side). */
function run(command: string, args: string[], cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

const resource = parse(readFileSync(join(MONITORING, 'prometheus-rule.yaml'), 'utf8')) as PrometheusRule;
const rules = resource.spec.groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const testFiles = readdirSync(TESTS).filter((f) => f.endsWith('.yaml')).sort();
const ruleTests = new Map(testFiles.map((f) => [f, parse(readFileSync(join(TESTS, f), 'utf8')) as RuleTestFile]));

describe('manifests/overlays/monitoring/prometheus-rule.yaml', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bouncer-alerts-'));
    // The rule file promtool reads: the PrometheusRule's groups, as is.
    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: resource.spec.groups }, { lineWidth: 0 }));
    for (const [file, doc] of ruleTests) {
      writeFileSync(join(dir, file), stringify({ ...doc, rule_files: ['rules.yaml'] }, { lineWidth: 0 }));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is a monitoring.coreos.com/v1 PrometheusRule in bouncer-system', () => {
    expect(resource).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'bouncer', namespace: 'bouncer-system' } });
    expect(alerts.length).toBeGreaterThan(0);
  });

  it.skipIf(!PROMTOOL)('passes promtool check rules', async () => {
    const result = await run(promtool(), ['check', 'rules', 'rules.yaml'], dir);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
  }, 600_000);

  it.skipIf(!PROMTOOL).concurrent.each(testFiles)('passes promtool test rules %s', async (file) => {
    const result = await run(promtool(), ['test', 'rules', file], dir);
    expect(result.status, `promtool test rules ${TESTS}/${file}\n${result.output}`).toBe(0);
    expect(result.output).toContain('SUCCESS');
  }, 180_000);

  it('every rule test file names rules.yaml, the extracted spec, as its rule file', () => {
    for (const [file, doc] of ruleTests) expect(doc.rule_files, file).toEqual(['rules.yaml']);
  });

  // Without group_eval_order promtool evaluates the groups in a random order at each step, and an
  // alert may read the recording of the previous step: stale at long evaluation intervals (flaky).
  it('recording groups come first, and every rule test file evaluates the groups in that order', () => {
    const names = resource.spec.groups.map((g) => g.name);
    const recording = resource.spec.groups.map((g) => g.rules.every((r) => r.record !== undefined));
    expect(recording.indexOf(false) === -1 || recording.lastIndexOf(true) < recording.indexOf(false), `${names}`).toBe(true);
    for (const [file, doc] of ruleTests) expect(doc.group_eval_order, file).toEqual(names);
  });

  it('alert names are unique', () => {
    const names = alerts.map((a) => a.alert);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, a summary, a description and a runbook in docs/observability.md', (name, alert) => {
    expect(['critical', 'warning']).toContain(alert.labels?.severity);
    expect(alert.annotations?.summary?.trim()).toBeTruthy();
    expect(alert.annotations?.description?.trim()).toBeTruthy();
    expect(alert.annotations?.runbook_url).toBe(`${RUNBOOK_BASE}${name.toLowerCase()}`);
    // GitHub's anchor for a heading "### BouncerX" is #bouncerx.
    expect(readFileSync(RUNBOOKS, 'utf8').split('\n')).toContain(`### ${name}`);
  });

  it.each(alerts.map((a) => a.alert))('%s has a firing and a not-firing promtool test case', (name) => {
    const cases = [...ruleTests.values()].flatMap((doc) => doc.tests.flatMap((t) => t.alert_rule_test ?? [])).filter((c) => c.alertname === name);
    expect(cases.filter((c) => (c.exp_alerts ?? []).length > 0).length, `no case where ${name} fires`).toBeGreaterThan(0);
    expect(cases.filter((c) => (c.exp_alerts ?? []).length === 0).length, `no case where ${name} stays quiet`).toBeGreaterThan(0);
  });

  it('every alerting rule test names an alert that exists', () => {
    const names = new Set(alerts.map((a) => a.alert));
    const tested = [...ruleTests.values()].flatMap((doc) => doc.tests.flatMap((t) => t.alert_rule_test ?? [])).map((c) => c.alertname);
    expect(tested.filter((n) => !names.has(n))).toEqual([]);
  });
});
