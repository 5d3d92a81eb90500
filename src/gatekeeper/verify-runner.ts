// Runs gator verify suites (gatekeeper pkg/gator/verify/runner.go) through a SuiteEngine.
// Unlike gator, which builds a fresh client and compiles the template again for every case,
// every distinct template of every suite is compiled once, in one engine.compile call when
// their kinds are distinct (one OPA build serves the run); a template that fails to compile
// fails only the tests that use it. What fails where follows gator:
//  - a test fails (no cases run) when its template or constraint cannot be read, compiled or
//    added, when `invalid: true` and the constraint passes its schema, or when it names an
//    expansion (bouncer does not expand);
//  - a case fails on an empty `object`, no assertions, an object file without exactly one
//    object, an unreadable inventory object, a review that cannot be built or evaluated,
//    or the first assertion that does not hold;
//  - a skipped suite, test or case (skip: true, or not selected by --run) is reported as skipped.
import { checkAssertions } from './assertion.js';
import { caseReview, isAdmissionReview } from './case-review.js';
import { goGvkString, goObjectIdentity } from './go-object.js';
import type { SuiteFile, SuiteTest, SuiteCase } from './suite.js';
import type { CaseInput, CompiledTemplates, SuiteEngine } from './suite-engine.js';
import { createSuiteFilter, type SuiteFilter } from './suite-filter.js';
import { checkConstraint, messageOf, readConstraintFile, readObjectsFile, readTemplateFile, shown, SuiteCaseError } from './suite-objects.js';
import type { Constraint, ConstraintTemplate } from './types.js';
import { dirname, join } from 'node:path';

export interface CaseResult {
  readonly name: string;
  readonly skipped: boolean;
  readonly error?: string;
  readonly runtimeNs: number;
}

export interface TestResult {
  readonly name: string;
  readonly skipped: boolean;
  readonly error?: string;
  readonly runtimeNs: number;
  readonly cases: readonly CaseResult[];
}

export interface SuiteResult {
  /** The suite as gator names it (SuiteFile.inputPath). */
  readonly path: string;
  readonly skipped: boolean;
  readonly runtimeNs: number;
  readonly tests: readonly TestResult[];
}

export interface VerifyResult {
  readonly suites: readonly SuiteResult[];
  /** Any test or case failed (gator's exit status 1). */
  readonly failed: boolean;
}

export interface RunSuitesOptions {
  /** gator's --run filter ("" or absent: everything). */
  readonly run?: string;
  /** Monotonic nanoseconds, for runtimes (default process.hrtime.bigint). */
  readonly clock?: () => bigint;
}

type Prepared =
  | { readonly error: string }
  | { readonly template: ConstraintTemplate; readonly constraint: Constraint | undefined; readonly constraintError?: { readonly error: string; readonly schema: boolean } };

export async function runSuites(suites: readonly SuiteFile[], engine: SuiteEngine, options: RunSuitesOptions = {}): Promise<VerifyResult> {
  const filter = createSuiteFilter(options.run ?? '');
  const clock = options.clock ?? process.hrtime.bigint;
  const prepared = await prepareTests(suites, filter);
  const compiled = await compileTemplates([...new Set([...prepared.values()].flatMap((p) => ('template' in p ? [p.template] : [])))], engine);
  try {
    const results: SuiteResult[] = [];
    for (const suite of suites) results.push(await runSuite(suite, { filter, clock, prepared, compiled }));
    const failed = results.some((s) => s.tests.some((t) => t.error !== undefined || t.cases.some((c) => c.error !== undefined)));
    return { suites: results, failed };
  } finally {
    for (const handle of new Set(compiled.values())) if (!('error' in handle)) handle.close();
  }
}

const selected = (test: SuiteTest, filter: SuiteFilter): boolean => !test.skip && filter.matchesTest(test);

/** Reads every selected test's template and constraint (each template file once). */
async function prepareTests(suites: readonly SuiteFile[], filter: SuiteFilter): Promise<Map<SuiteTest, Prepared>> {
  const templates = new Map<string, Promise<ConstraintTemplate>>();
  const out = new Map<SuiteTest, Prepared>();
  for (const suite of suites) {
    if (suite.skip) continue;
    const dir = dirname(suite.file);
    for (const test of suite.tests) {
      if (!selected(test, filter)) continue;
      try {
        if (test.template === '') throw new SuiteCaseError('invalid Suite: missing template');
        const file = join(dir, test.template);
        if (!templates.has(file)) templates.set(file, readTemplateFile(file));
        const template = await (templates.get(file) as Promise<ConstraintTemplate>);
        if (test.constraint === '') throw new SuiteCaseError('invalid Suite: missing constraint');
        const constraintFile = join(dir, test.constraint);
        const checked = checkConstraint(await readConstraintFile(constraintFile), constraintFile, template);
        out.set(test, 'constraint' in checked ? { template, constraint: checked.constraint } : { template, constraint: undefined, constraintError: checked });
      } catch (err) {
        out.set(test, { error: messageOf(err) });
      }
    }
  }
  return out;
}

type Compiled = CompiledTemplates | { readonly error: string };

/**
 * One engine.compile for all templates whose kinds are distinct (a kind defined by two
 * different files goes to a further batch). When a batch fails, its templates are compiled
 * one by one so the failure lands on the tests of the template that caused it.
 */
async function compileTemplates(templates: readonly ConstraintTemplate[], engine: SuiteEngine): Promise<Map<ConstraintTemplate, Compiled>> {
  const batches: ConstraintTemplate[][] = [];
  for (const template of templates) {
    const batch = batches.find((b) => !b.some((t) => t.kind === template.kind));
    if (batch) batch.push(template);
    else batches.push([template]);
  }
  const out = new Map<ConstraintTemplate, Compiled>();
  for (const batch of batches) {
    try {
      const handle = await engine.compile(batch);
      for (const t of batch) out.set(t, handle);
    } catch (err) {
      if (batch.length === 1) {
        out.set(batch[0] as ConstraintTemplate, { error: `adding template: ${messageOf(err)}` });
        continue;
      }
      for (const t of batch) {
        try {
          out.set(t, await engine.compile([t]));
        } catch (single) {
          out.set(t, { error: `adding template: ${messageOf(single)}` });
        }
      }
    }
  }
  return out;
}

interface RunContext {
  readonly filter: SuiteFilter;
  readonly clock: () => bigint;
  readonly prepared: ReadonlyMap<SuiteTest, Prepared>;
  readonly compiled: ReadonlyMap<ConstraintTemplate, Compiled>;
}

async function runSuite(suite: SuiteFile, ctx: RunContext): Promise<SuiteResult> {
  if (suite.skip) return { path: suite.inputPath, skipped: true, runtimeNs: 0, tests: [] };
  const start = ctx.clock();
  const tests: TestResult[] = [];
  for (const test of suite.tests) {
    tests.push(selected(test, ctx.filter) ? await runTest(suite, test, ctx) : { name: test.name, skipped: true, runtimeNs: 0, cases: [] });
  }
  return { path: suite.inputPath, skipped: false, runtimeNs: Number(ctx.clock() - start), tests };
}

async function runTest(suite: SuiteFile, test: SuiteTest, ctx: RunContext): Promise<TestResult> {
  const start = ctx.clock();
  const done = (error: string | undefined, cases: readonly CaseResult[] = []): TestResult => ({
    name: test.name,
    skipped: false,
    ...(error === undefined ? {} : { error }),
    runtimeNs: Number(ctx.clock() - start),
    cases,
  });
  const prepared = ctx.prepared.get(test) ?? { error: 'internal: test was not prepared' };
  const compiled = 'error' in prepared ? undefined : (ctx.compiled.get(prepared.template) ?? { error: 'internal: template was not compiled' });
  const addError = 'error' in prepared ? prepared.error : compiled && 'error' in compiled ? compiled.error : prepared.constraintError?.error;
  if (test.invalid) {
    if (!('error' in prepared) && !(compiled && 'error' in compiled) && prepared.constraintError?.schema) return done(undefined);
    return done(`constraint should have failed schema validation: got error ${addError ?? '%!w(<nil>)'} but want schema validation failed`);
  }
  if (addError !== undefined || 'error' in prepared || compiled === undefined || 'error' in compiled) return done(addError);
  if (test.expansion !== '') {
    return done(`bouncer verify does not support expansion templates: test ${JSON.stringify(test.name)} names ${JSON.stringify(test.expansion)}`);
  }
  const constraint = prepared.constraint as Constraint;
  const dir = dirname(suite.file);
  const cases: CaseResult[] = [];
  for (const c of test.cases) {
    if (c.skip || !ctx.filter.matchesCase(test.name, c.name)) {
      cases.push({ name: c.name, skipped: true, runtimeNs: 0 });
      continue;
    }
    const caseStart = ctx.clock();
    const error = await checkCase(c, dir, constraint, compiled);
    cases.push({ name: c.name, skipped: false, ...(error === undefined ? {} : { error }), runtimeNs: Number(ctx.clock() - caseStart) });
  }
  return done(undefined, cases);
}

/** Why the case fails (gator's message), or undefined when it passes. */
async function checkCase(c: SuiteCase, dir: string, constraint: Constraint, compiled: CompiledTemplates): Promise<string | undefined> {
  if (c.object === '') return 'invalid Case: must define object';
  if (c.assertions.length === 0) return 'invalid Case: assertions must be non-empty';
  try {
    const objectFile = join(dir, c.object);
    const objects = await readObjectsFile(objectFile);
    if (objects.length !== 1) return `object file must contain exactly one object: "${shown(objectFile)}" defines ${objects.length} objects`;
    const document = objects[0] as Record<string, unknown>;
    const inventory: Record<string, unknown>[] = [];
    for (const path of c.inventory) inventory.push(...(await readInventory(join(dir, path))));
    const input: CaseInput = { request: caseReview(document), inventory };
    let violations;
    try {
      violations = await compiled.review([constraint], input);
    } catch (err) {
      if (isAdmissionReview(document)) return messageOf(err);
      const id = goObjectIdentity(document);
      return `reviewing ${goGvkString(id)} ${id.namespace}/${id.name}: ${messageOf(err)}`;
    }
    return checkAssertions(c.assertions, violations);
  } catch (err) {
    return messageOf(err);
  }
}

/** Inventory objects need a version and a kind, as gator's AddData (pkg/target processUnstructured). */
async function readInventory(file: string): Promise<Record<string, unknown>[]> {
  const objects = await readObjectsFile(file);
  for (const obj of objects) {
    const id = goObjectIdentity(obj);
    const missing = id.version === '' ? 'version' : id.kind === '' ? 'kind' : undefined;
    if (missing) {
      throw new SuiteCaseError(
        `unable to add object to data.inventory: ${goGvkString(id)} ${id.namespace}/${id.name}: invalid request object: resource ${id.name} has no ${missing}`,
      );
    }
  }
  return objects;
}
