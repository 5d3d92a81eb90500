// `bouncer audit` as its own process (the command is not in the CLI's table yet): runs
// auditCommand with this process's arguments and environment, then reports its peak RSS on
// stderr as `maxrss_kb=N` so tests can measure the command itself.
import { auditCommand } from '../../src/cli/audit-command.js';
import { isBouncerError } from '../../src/errors/errors.js';

let code: number;
try {
  code = await auditCommand({ args: process.argv.slice(2), env: process.env, stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stdin: () => '' });
} catch (err) {
  process.stderr.write(`bouncer audit: ${isBouncerError(err) ? `${err.code}: ` : ''}${(err as Error).message}\n`);
  code = 2;
}
process.stderr.write(`maxrss_kb=${process.resourceUsage().maxRSS}\n`);
process.exitCode = code;
