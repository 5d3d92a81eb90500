// bouncer test [DIR] [--opa PATH]: the policies' own `opa test` unit tests, then every
// fixture case evaluated against the whole built policy set, exactly as the server would,
// then the gator verify suites under DIR/gatekeeper (as `bouncer verify DIR/gatekeeper/...`).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkReview } from '../admission/decode.js';
import { toReview } from '../admission/respond.js';
import { checkExpectation, loadFixtures } from '../authoring/fixtures.js';
import { runOpa } from '../authoring/opa-cli.js';
import { GATEKEEPER_DIR, stagePolicies } from '../authoring/stage.js';
import { createSuiteEngine } from '../authoring/suite-engine.js';
import { formatGatorReport } from '../gatekeeper/gator-report.js';
import { readSuites } from '../gatekeeper/suite.js';
import { runSuites } from '../gatekeeper/verify-runner.js';
import { createPolicyRegistry } from '../bundles/registry.js';
import { isBouncerError } from '../errors/errors.js';
import { resolveOpa } from '../config/opa-path.js';
import { createReviewer } from '../review/reviewer.js';
import { EXIT, PACKAGE_ROOT, type CliContext } from './context.js';
import { loadPolicySource } from './policy-source.js';

export async function testCommand(ctx: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...ctx.args],
    options: { opa: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  const dir = positionals[0] ?? 'policies';
  const opa = resolveOpa(values.opa, ctx.env, PACKAGE_ROOT);
  const gatekeeperDir = join(dir, GATEKEEPER_DIR);
  const hasGatekeeper = existsSync(gatekeeperDir);
  const stage = stagePolicies(dir, { tests: true, allowEmpty: hasGatekeeper });
  let unitOk = true;
  try {
    if (stage.policies.length > 0) {
      const result = await runOpa(opa, ['test', ...(values.verbose ? ['-v'] : []), '.'], stage.dir);
      ctx.stdout(result.stdout);
    }
  } catch (err) {
    if (!isBouncerError(err, 'OPA_FAILED')) throw err;
    ctx.stdout(`${String(err.details?.stdout ?? err.message)}\n`);
    unitOk = false;
  } finally {
    rmSync(stage.dir, { recursive: true, force: true });
  }

  const fixtures = loadFixtures(dir);
  const bundle = await loadPolicySource(ctx, { policies: dir, opa });
  const reviewer = createReviewer({ policies: createPolicyRegistry([bundle]).current });
  let failed = 0;
  for (const fixture of fixtures) {
    const raw = new TextEncoder().encode(JSON.stringify(fixture.review));
    const review = checkReview(fixture.review);
    const response = toReview(review.request.uid, fixture.endpoint, review.request.operation, await reviewer.review(fixture.endpoint, review, raw)).response;
    const problems = checkExpectation(fixture.expect, response);
    if (problems.length === 0) {
      if (values.verbose) ctx.stdout(`ok    ${fixture.file}: ${fixture.name}\n`);
      continue;
    }
    failed++;
    ctx.stdout(`FAIL  ${fixture.file}: ${fixture.name}\n${problems.map((p) => `      ${p}`).join('\n')}\n`);
  }
  ctx.stdout(`fixtures: ${fixtures.length - failed} passed, ${failed} failed\n`);
  let suitesOk = true;
  if (hasGatekeeper) {
    const suites = await readSuites([`${gatekeeperDir}/...`]);
    if (suites.length > 0) {
      const result = await runSuites(suites, createSuiteEngine(opa), { run: '' });
      ctx.stdout(`${formatGatorReport(result, values.verbose === true)}\n`);
      suitesOk = !result.failed;
    }
  }
  return unitOk && failed === 0 && suitesOk ? EXIT.ok : EXIT.failed;
}
