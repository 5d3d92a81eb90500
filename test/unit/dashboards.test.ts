// The Grafana dashboards of manifests/overlays/monitoring/dashboards: well-formed, one PromQL
// query (at least) per panel, filtered by the dashboard's variables, and in step with
// docs/metrics.md both ways: every bouncer_* name they or the PrometheusRule use is a documented
// metric, and every documented metric is charted somewhere (so a new metric cannot be forgotten).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { testTool } from '../support/test-tools.js';

const MONITORING = 'manifests/overlays/monitoring';
const DASHBOARDS = join(MONITORING, 'dashboards');

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}
interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}

/** Metric name -> type, from the table of docs/metrics.md. */
function documentedMetrics(): Map<string, string> {
  const metrics = new Map<string, string>();
  for (const line of readFileSync('docs/metrics.md', 'utf8').split('\n')) {
    const m = /^\| `(bouncer_[a-z0-9_]+)` \| (counter|gauge|histogram|summary) \|/.exec(line);
    if (m) metrics.set(m[1] as string, m[2] as string);
  }
  return metrics;
}

/** The documented metric a series name belongs to (histograms: _bucket, _sum, _count), if any. */
function metricOf(series: string, metrics: Map<string, string>): string | undefined {
  if (metrics.has(series)) return series;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (m && metrics.get(m[1] as string) === 'histogram') return m[1];
  return undefined;
}

/** bouncer_* series names in a PromQL expression (recording rules are bouncer:..., not matched). */
function seriesNames(expr: string): string[] {
  return [...expr.matchAll(/(?<![\w:])bouncer_[a-zA-Z0-9_]+/g)].map((m) => m[0]);
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const metrics = documentedMetrics();
const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
const dashboards = files.map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));
const queryPanels = (d: Dashboard) => allPanels(d.panels).filter((p) => p.type !== 'row');
const panelExprs = dashboards.flatMap(({ file, dashboard }) =>
  queryPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ file, panel: p.title ?? '', expr: t.expr ?? '' }))),
);
const variableQueries = dashboards.flatMap(({ file, dashboard }) =>
  dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({ file, variable: v.name, query: typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '') })),
);
const ruleResource = parse(readFileSync(join(MONITORING, 'prometheus-rule.yaml'), 'utf8')) as { spec: { groups: { rules: Rule[] }[] } };
const rules = ruleResource.spec.groups.flatMap((g) => g.rules);

describe('Grafana dashboards', () => {
  it('executive, oncall and debug exist', () => {
    expect(files).toEqual(['debug.json', 'executive.json', 'oncall.json']);
  });

  it('have unique uids and titles', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    const titles = dashboards.map((d) => d.dashboard.title);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
    for (const uid of uids) expect(uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    it('is a current dashboard (schemaVersion >= 36) with datasource, namespace and job variables', () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
      expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
      expect(vars.get('namespace')?.type).toBe('query');
      expect(vars.get('job')?.type).toBe('query');
    });

    it('every panel has a unique id, a position and at least one PromQL target on ${datasource}', () => {
      const panels = allPanels(dashboard.panels);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const panel of queryPanels(dashboard)) {
        const where = `${dashboard.uid}: ${panel.title}`;
        expect(panel.gridPos, where).toBeDefined();
        expect(panel.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets?.length, where).toBeGreaterThan(0);
        for (const target of panel.targets ?? []) {
          expect(target.expr?.trim(), where).toBeTruthy();
          expect(target.datasource, where).toEqual({ type: 'prometheus', uid: '${datasource}' });
        }
      }
    });

    it('every bouncer series and recorded series is filtered by $namespace and $job', () => {
      for (const panel of queryPanels(dashboard)) {
        for (const target of panel.targets ?? []) {
          const expr = target.expr ?? '';
          for (const m of expr.matchAll(/(?<![\w:])(bouncer[_:][a-zA-Z0-9_:]+|up)\b(\{[^}]*\})?/g)) {
            const where = `${dashboard.uid}: ${panel.title}: ${m[0]}`;
            expect(m[2], where).toContain('namespace=~"$namespace"');
            expect(m[2], where).toContain('job=~"$job"');
          }
        }
      }
    });
  });

  it('every bouncer_* name in a panel, a variable or the PrometheusRule is a metric of docs/metrics.md', () => {
    expect(metrics.size).toBeGreaterThan(0);
    const used = [
      ...panelExprs.map((e) => ({ where: `${e.file}: ${e.panel}`, expr: e.expr })),
      ...variableQueries.map((v) => ({ where: `${v.file}: $${v.variable}`, expr: v.query })),
      ...rules.map((r) => ({ where: `prometheus-rule.yaml: ${r.record ?? r.alert}`, expr: r.expr })),
    ];
    const unknown = used.flatMap(({ where, expr }) => seriesNames(expr).filter((s) => !metricOf(s, metrics)).map((s) => `${where}: ${s}`));
    expect(unknown).toEqual([]);
  });

  it('every metric of docs/metrics.md is charted on some dashboard panel', () => {
    const charted = new Set(panelExprs.flatMap((e) => seriesNames(e.expr).map((s) => metricOf(s, metrics))));
    expect([...metrics.keys()].filter((m) => !charted.has(m))).toEqual([]);
  });

  it('every recorded series a panel reads is recorded by the PrometheusRule', () => {
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const read = panelExprs.flatMap((e) => [...e.expr.matchAll(/(?<![\w:])bouncer:[a-zA-Z0-9_:]+/g)].map((m) => ({ where: `${e.file}: ${e.panel}`, name: m[0] })));
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((r) => !recorded.has(r.name))).toEqual([]);
  });

  const promtool = testTool('promtool');
  it.skipIf(!promtool)('every panel query parses as PromQL (promtool check rules)', () => {
    // Grafana's interval variables become durations; $namespace etc. stay (valid inside a regex string).
    const promql = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replaceAll('$__range', '1d');
    const checked = panelExprs.map((e, i) => ({ record: `dashboard_query_${i}`, expr: promql(e.expr) }));
    const dir = mkdtempSync(join(tmpdir(), 'bouncer-dashboards-'));
    try {
      writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboards', rules: checked }] }, { lineWidth: 0 }));
      const result = spawnSync(promtool as string, ['check', 'rules', 'queries.yaml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      const output = result.stdout + result.stderr;
      const failing = [...output.matchAll(/dashboard_query_(\d+)/g)].map((m) => panelExprs[Number(m[1])]);
      expect(result.status, `${output}\n${JSON.stringify(failing, null, 2)}`).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('ship as ConfigMaps labelled grafana_dashboard: "1", one per file, without a name suffix', () => {
    const kustomization = parse(readFileSync(join(MONITORING, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
      generatorOptions?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
      configMapGenerator?: { name: string; files: string[] }[];
    };
    expect(kustomization.resources).toEqual(expect.arrayContaining(['service-monitor.yaml', 'prometheus-rule.yaml']));
    expect(kustomization.generatorOptions).toMatchObject({ disableNameSuffixHash: true, labels: { grafana_dashboard: '1' } });
    const generated = (kustomization.configMapGenerator ?? []).flatMap((g) => g.files);
    expect(generated.sort()).toEqual(files.map((f) => `dashboards/${f}`));
  });
});
