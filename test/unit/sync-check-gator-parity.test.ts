// `bouncer sync check DIR` against `gator sync test --force-omit-gvk-manifest --filename DIR/gatekeeper`
// on each policy directory of test/fixtures/sync-check: the same exit status and, when
// requirements are unmet, the same report on stderr. gator iterates Go maps, so its order of
// templates and of a requirement's alternatives is random: both reports are put in one order
// (templates by name, alternatives sorted) before they are compared; nothing else is changed.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { syncCommand } from '../../src/cli/sync-command.js';
import { gatorTool } from '../support/test-tools.js';

const GATOR = gatorTool();
const FIXTURES = 'test/fixtures/sync-check';
const run = promisify(execFile);

interface Outcome {
  code: number;
  stderr: string;
}

async function gator(dir: string): Promise<Outcome> {
  try {
    const running = run(GATOR as string, ['sync', 'test', '--force-omit-gvk-manifest', '--filename', join(dir, 'gatekeeper')]);
    // gator also reads objects from a piped stdin: give it an empty one.
    running.child.stdin?.end();
    const { stderr } = await running;
    return { code: 0, stderr };
  } catch (err) {
    const e = err as Outcome;
    return { code: e.code, stderr: e.stderr };
  }
}

async function bouncer(dir: string): Promise<Outcome> {
  let stderr = '';
  const code = await syncCommand({ args: ['check', dir], env: {}, stdout: () => {}, stderr: (t) => (stderr += t), stdin: () => '' });
  return { code, stderr };
}

/** The report with templates ordered by name and each requirement's alternatives sorted. */
function ordered(report: string): string {
  const [header, ...rest] = report.split('\n');
  const blocks: string[][] = [];
  for (const line of rest) {
    if (/^\S+:$/.test(line)) blocks.push([line]);
    else if (line.startsWith('- ')) blocks[blocks.length - 1]?.push(`- ${line.slice(2).split(' OR ').sort().join(' OR ')}`);
    else if (line !== '') blocks.push([`unexpected: ${line}`]);
  }
  blocks.sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
  return [header, ...blocks.flat()].join('\n');
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe.skipIf(!GATOR)('bouncer sync check reports what gator sync test reports', () => {
  it('has fixtures with both outcomes', () => {
    expect(cases).toEqual(expect.arrayContaining(['met', 'unmet', 'no-sync-configuration', 'no-annotation']));
  });

  it.each(cases)('%s', async (name) => {
    const dir = join(FIXTURES, name);
    const [want, got] = [await gator(dir), await bouncer(dir)];
    expect(got.code).toBe(want.code);
    expect(ordered(got.stderr)).toBe(ordered(want.stderr));
    if (want.code !== 0) expect(got.stderr.length).toBe(want.stderr.length);
  });
});
