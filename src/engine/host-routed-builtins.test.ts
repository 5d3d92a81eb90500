import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { routeBuiltinsToHost } from './host-routed-builtins.js';
import { createEvaluator } from './evaluator.js';
import { compileWasm } from './wasm-module.js';

const dir = mkdtempSync(join(tmpdir(), 'routed-'));

/** policy.wasm of one rule, built by the pinned OPA. */
function build(name: string, rego: string): Uint8Array {
  const src = join(dir, name);
  execFileSync('mkdir', ['-p', src]);
  writeFileSync(join(src, 'p.rego'), rego);
  execFileSync(inject('opa'), ['build', '-t', 'wasm', '-e', 'p/r', '-o', join(src, 'b.tar.gz'), 'p.rego'], { cwd: src });
  execFileSync('tar', ['xzf', 'b.tar.gz', '/policy.wasm'], { cwd: src });
  return readFileSync(join(src, 'policy.wasm'));
}

describe('routeBuiltinsToHost', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves a module that calls no regex.match byte for byte as it was', () => {
    const bytes = build('plain', 'package p\nr := upper(input.s)\n');
    const routed = routeBuiltinsToHost(bytes);
    expect(routed.routed).toEqual({});
    expect(routed.bytes).toBe(bytes);
  });

  it('routes regex.match to the host: a valid module, and answers across evaluations as Go does', async () => {
    const bytes = build('regex', 'package p\nr := [regex.match(p, input.s) | some p in input.patterns]\n');
    const routed = routeBuiltinsToHost(bytes);
    expect(Object.values(routed.routed)).toEqual(['regex.match']);
    expect(await WebAssembly.compile(routed.bytes)).toBeInstanceOf(WebAssembly.Module);
    expect(routed.bytes.length).toBeLessThan(bytes.length);

    const wasm = await compileWasm(bytes);
    const evaluator = createEvaluator(wasm, new TextEncoder().encode('{}'), { maxMemoryPages: 256 });
    const entry = wasm.entrypoints['p/r'] as number;
    const run = (input: unknown) => evaluator.evaluate(new TextEncoder().encode(JSON.stringify(input)), [entry])[0];
    // \C is RE2's any byte, which Go's regexp (Gatekeeper's) refuses: undefined, so no element.
    for (let i = 0; i < 3; i++) {
      expect(run({ s: 'team-a', patterns: ['^team-[a-z]$', '^x', '\\C', '('] })).toMatchObject({ ok: true, value: [true, false] });
    }
  });
});
