#!/usr/bin/env node
// Entry point of the bouncer CLI; the compiled sources live in dist/ (built by `npm install`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
