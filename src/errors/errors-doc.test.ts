import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from './errors.js';

describe('docs/errors.md', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  it.each(Object.entries(ERRORS))('documents %s with its status and meaning', (code, { status, meaning }) => {
    expect(doc).toContain(`| \`${code}\` | ${status} | ${meaning} |`);
  });
});
