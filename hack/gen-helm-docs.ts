// Regenerates the values table of docs/helm.md from charts/bouncer/values.schema.json and values.yaml.
import { readFileSync, writeFileSync } from 'node:fs';
import { valuesTable, withValuesTable } from './lib/helm-values-doc.js';

writeFileSync('docs/helm.md', withValuesTable(readFileSync('docs/helm.md', 'utf8'), valuesTable()));
