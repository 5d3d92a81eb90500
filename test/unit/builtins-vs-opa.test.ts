// Every builtin the engine implements in the host, and the natively compiled ones the
// gatekeeper-library calls, evaluated on the same Rego and input by bouncer's engine (a
// policy.wasm built by the pinned `opa build -t wasm` with bouncer's capabilities, run by
// createEvaluator) and by the pinned `opa eval`. No expected value is written by hand:
// each case is one rule, and the two engines must agree on its value or on its absence
// (OPA makes a builtin error undefined, as Gatekeeper runs it, without strict-builtin-errors).
// Each rule's value is paired with json.marshal of it when it is a number, so numbers
// compare by exact text (the evaluator's JSON.parse would round integers beyond 2^53).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleFiles } from '../support/bundle-files.js';
import { supportedBuiltins } from '../../src/engine/capabilities.js';
import { createEvaluator, type EvalOutcome } from '../../src/engine/evaluator.js';
import { compileWasm } from '../../src/engine/wasm-module.js';
import { BUILTIN_CASES, CASE_INPUT, KNOWN_DIFFERENCES } from './builtins-cases.js';

interface Case {
  readonly builtin: string;
  readonly expr: string;
  readonly rule: string;
}

const cases: Case[] = Object.entries(BUILTIN_CASES).flatMap(([builtin, exprs]) => exprs.map((expr, i) => ({ builtin, expr, rule: `${builtin.replace(/\W/g, '_')}_${i}` })));
const differences = KNOWN_DIFFERENCES.map((d, i) => ({ ...d, rule: `known_difference_${i}` }));
const all = [...cases, ...differences];

// time.now_ns differs between two evaluations, so its raw value is checked on its own.
const policy = [
  'package cases',
  'now := [t, json.marshal(t), t == time.now_ns()] if t := time.now_ns()',
  // Inline, not a function: OPA caches function results by argument, and 0 equals -0.0.
  ...all.map((c) => `${c.rule} := [v, [json.marshal(v) | is_number(v)]] if v := ${c.expr}`),
].join('\n');

/** Runs the OPA CLI; a failure carries OPA's own message (the file and line of the bad case). */
function opaCli(bin: string, args: string[], cwd: string): string {
  try {
    return execFileSync(bin, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`opa ${args[0]} failed: ${stderr || stdout || String(err)}`, { cause: err });
  }
}

describe('builtins: bouncer engine vs opa eval', () => {
  let dir: string;
  let wasm: Record<string, EvalOutcome>;
  let opa: Record<string, unknown>;

  beforeAll(async () => {
    const bin = inject('opa');
    dir = mkdtempSync(join(tmpdir(), 'bouncer-builtins-'));
    writeFileSync(join(dir, 'cases.rego'), policy);
    writeFileSync(join(dir, 'input.json'), CASE_INPUT);
    // The capabilities bouncer build passes to opa build (src/authoring/build.ts).
    const current = JSON.parse(opaCli(bin, ['capabilities', '--current'], dir)) as { builtins: { name: string }[] };
    const supported = supportedBuiltins();
    current.builtins = current.builtins.filter((b) => supported.has(b.name));
    writeFileSync(join(dir, 'caps.json'), JSON.stringify(current));
    const rules = ['now', ...all.map((c) => c.rule)];
    const entrypoints = rules.flatMap((rule) => ['-e', `cases/${rule}`]);
    opaCli(bin, ['build', '-t', 'wasm', '--capabilities', 'caps.json', ...entrypoints, '-o', 'bundle.tar.gz', 'cases.rego'], dir);
    const files = await bundleFiles(join(dir, 'bundle.tar.gz'));
    const mod = await compileWasm(files.get('/policy.wasm') as Uint8Array);
    const evaluator = createEvaluator(mod, files.get('/data.json') as Uint8Array);
    const outcomes = evaluator.evaluate(new TextEncoder().encode(CASE_INPUT), rules.map((rule) => mod.entrypoints[`cases/${rule}`] as number));
    wasm = Object.fromEntries(rules.map((rule, i) => [rule, outcomes[i] as EvalOutcome]));
    const out = opaCli(bin, ['eval', '--format', 'json', '-d', 'cases.rego', '-i', 'input.json', 'data.cases'], dir);
    const parsed = JSON.parse(out) as { result: { expressions: { value: Record<string, unknown> }[] }[] };
    opa = parsed.result[0]?.expressions[0]?.value ?? {};
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds every case with bouncer capabilities into one module', () => {
    expect(Object.keys(wasm)).toHaveLength(all.length + 1);
  });

  it.each(cases.map((c) => [c.builtin, c.expr, c] as const))('%s: %s', (_builtin, _expr, c) => {
    const got = wasm[c.rule];
    expect(got, 'the engine evaluated the case').toMatchObject({ ok: true });
    expect((got as { value: unknown }).value).toEqual(opa[c.rule]);
  });

  it.each(differences.map((d) => [d.expr, d] as const))('known difference, still there: %s', (_expr, d) => {
    expect(opa[d.rule], 'opa eval has a value').toBeDefined();
    const got = wasm[d.rule] as EvalOutcome;
    if (got.ok) expect(got.value, d.reason).not.toEqual(opa[d.rule]);
    else expect(got.failure.message, d.reason).toMatch(/RE2|regex/);
  });

  it('time.now_ns is the wall clock in nanoseconds, the same for every call in one evaluation', () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const ours = wasm.now as { ok: true; value: [number, string, boolean] };
    const theirs = opa.now as [number, string, boolean];
    for (const [, text, same] of [ours.value, theirs]) {
      const ns = BigInt(text);
      expect(ns > now - 60_000_000_000n && ns <= now, `${ns} is within the last minute of ${now}`).toBe(true);
      expect(same).toBe(true);
    }
  });
});
