#!/usr/bin/env node
// Entry point of the bouncer CLI; the compiled sources live in dist/ (built by `npm install`).
// `serve` starts the webhook (src/main.ts); every other command is in src/cli.
const [command, ...rest] = process.argv.slice(2);
if (command === 'serve') {
  const { main } = await import('../dist/main.js');
  process.exitCode = await main(rest);
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
}
