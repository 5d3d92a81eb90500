// The image's dependency list as a CycloneDX 1.5 SBOM, written in the Dockerfile's prune stage
// from what `npm ci --omit=dev` actually installed: every package-lock.json entry whose
// directory exists under node_modules, with its version, license, purl and the lockfile's
// integrity hash. Plain JavaScript (the build stage has Node but no TypeScript runner), no
// timestamp or random serial, so the same lockfile gives the same file.
// (`npm sbom --omit=dev` refuses a pruned tree — devDependencies "missing" — and with
// --package-lock-only it leaves out hoisted production packages.)
//
// Usage: node sbom.mjs [APP_DIR] > sbom.cdx.json
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';

const app = process.argv[2] ?? '.';
const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'));

const purl = (name, version) => `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
const hashes = (integrity) =>
  (integrity ?? '')
    .split(/\s+/)
    .filter((i) => i.startsWith('sha512-'))
    .map((i) => ({ alg: 'SHA-512', content: Buffer.from(i.slice('sha512-'.length), 'base64').toString('hex') }));

const components = Object.entries(lock.packages)
  .filter(([path, entry]) => path !== '' && !entry.link && existsSync(join(app, path, 'package.json')))
  .map(([path, entry]) => {
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const h = hashes(entry.integrity);
    return {
      type: 'library',
      'bom-ref': `${path}`,
      name,
      version: entry.version,
      purl: purl(name, entry.version),
      ...(entry.license ? { licenses: [{ expression: entry.license }] } : {}),
      ...(h.length ? { hashes: h } : {}),
      properties: [{ name: 'npm:path', value: path }],
    };
  })
  .sort((a, b) => a['bom-ref'].localeCompare(b['bom-ref']));

const bom = {
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  version: 1,
  metadata: {
    tools: { components: [{ type: 'application', name: 'bouncer hack/image/sbom.mjs' }] },
    component: { type: 'application', 'bom-ref': 'bouncer', name: pkg.name, version: pkg.version, purl: purl(pkg.name, pkg.version) },
  },
  components,
};
process.stdout.write(`${JSON.stringify(bom, null, 2)}\n`);
