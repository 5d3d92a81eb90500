// Lint, including the architecture: which src/ folder may import which, and which
// folder alone may touch each infrastructure library. Imports point one way.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** folder -> src folders it may import (besides itself). */
const layers = {
  errors: [],
  json: [],
  config: ['errors', 'json'],
  certs: ['errors', 'json'],
  admission: ['errors', 'json'],
  engine: ['errors', 'json'],
  gatekeeper: ['errors', 'json', 'admission'],
  inventory: ['errors', 'json', 'engine'],
  telemetry: ['errors', 'json', 'config'],
  bundles: ['errors', 'json', 'engine', 'admission', 'gatekeeper', 'inventory'],
  authoring: ['errors', 'json', 'admission', 'bundles', 'engine', 'review', 'gatekeeper', 'inventory'],
  review: ['errors', 'json', 'admission', 'bundles', 'engine', 'telemetry', 'gatekeeper', 'inventory'],
  audit: ['errors', 'json', 'admission', 'bundles', 'engine', 'review', 'telemetry', 'gatekeeper', 'inventory'],
  replay: ['errors', 'json', 'admission', 'authoring', 'bundles', 'engine', 'review', 'gatekeeper', 'inventory', 'audit'],
  cluster: ['errors', 'json', 'certs', 'inventory'],
  lifecycle: ['errors', 'json'],
  sources: ['errors', 'json', 'bundles', 'telemetry', 'cluster'],
  http: ['errors', 'json', 'admission', 'review', 'telemetry', 'certs', 'config'],
  serve: ['errors', 'json', 'admission', 'bundles', 'engine', 'review', 'telemetry', 'gatekeeper', 'inventory', 'audit', 'cluster', 'config', 'sources', 'http', 'lifecycle', 'certs'],
  cli: ['errors', 'json', 'admission', 'authoring', 'bundles', 'engine', 'review', 'config', 'cluster', 'gatekeeper', 'inventory', 'audit', 'serve', 'telemetry', 'replay'],
};

/** library -> the only folders allowed to import it. */
const owners = {
  '@open-policy-agent/opa-wasm': ['engine'],
  re2js: ['engine'],
  fastify: ['http'],
  '@kubernetes/client-node': ['sources', 'cluster'],
  'prom-client': ['telemetry'],
  pino: ['telemetry'],
};

/** package scope -> the only folders allowed to import any package in it. */
const scopeOwners = {
  '@opentelemetry': ['telemetry'],
};

const NO_STRINGIFIED_ERRORS = {
  selector: "CallExpression[callee.object.name='JSON'][callee.property.name='stringify'] > Identifier[name=/^err(or)?$/]",
  message: 'Log errors as { err }; JSON.stringify loses them.',
};

const NO_RAW_JSON_PARSE = {
  selector: "CallExpression[callee.object.name='JSON'][callee.property.name='parse']",
  message: 'Read JSON with parseJson (src/json/parse-json.ts): JSON.parse misreads escaped keys on Node 24 and 26.',
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/@-]/g, '\\$&');

/** The same layer rules for dynamic import(): no-restricted-imports sees static imports only. */
function dynamicImportRestrictions(folder, { tests = false } = {}) {
  const forbiddenFolders = Object.keys(layers).filter((f) => f !== folder && !layers[folder].includes(f));
  const libraries = Object.entries(owners).filter(([, allowed]) => !allowed.includes(folder));
  return [
    'error',
    NO_STRINGIFIED_ERRORS,
    ...(folder === 'json' || tests ? [] : [NO_RAW_JSON_PARSE]),
    ...forbiddenFolders.map((f) => ({
      selector: `ImportExpression > Literal[value=/^\\.\\.\\/${escape(f)}(\\/|$)/]`,
      message: `src/${folder} must not import src/${f}, dynamically either (see the layer table in eslint.config.js).`,
    })),
    ...libraries.map(([name, allowed]) => ({
      selector: `ImportExpression > Literal[value=/^${escape(name)}(\\/|$)/]`,
      message: `Only src/${allowed.join(', src/')} may import ${name}, dynamically either.`,
    })),
    ...Object.entries(scopeOwners)
      .filter(([, allowed]) => !allowed.includes(folder))
      .map(([scope, allowed]) => ({
        selector: `ImportExpression > Literal[value=/^${escape(scope)}\\//]`,
        message: `Only src/${allowed.join(', src/')} may import ${scope}/*, dynamically either.`,
      })),
    { selector: 'ImportExpression > :not(Literal)', message: 'import() takes a literal path, so the layer rules can check it.' },
  ];
}

function restrictions(folder) {
  const forbiddenFolders = Object.keys(layers).filter((f) => f !== folder && !layers[folder].includes(f));
  return [
    'error',
    {
      patterns: [
        ...forbiddenFolders.map((f) => ({
          group: [`../${f}`, `../${f}/*`],
          message: `src/${folder} must not import src/${f} (see the layer table in eslint.config.js).`,
        })),
        { group: ['../main', '../main.js'], message: 'Only bin/ starts main.' },
        ...Object.entries(scopeOwners)
          .filter(([, allowed]) => !allowed.includes(folder))
          .map(([scope, allowed]) => ({ group: [`${scope}/*`], message: `Only src/${allowed.join(', src/')} may import ${scope}/*.` })),
      ],
      paths: Object.entries(owners)
        .filter(([, allowed]) => !allowed.includes(folder))
        .map(([name, allowed]) => ({ name, message: `Only src/${allowed.join(', src/')} may import ${name}.` })),
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bin/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', NO_STRINGIFIED_ERRORS],
    },
  },
  {
    // Plain Node scripts (loaded with --import).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...Object.keys(layers).flatMap((folder) => [
    {
      files: [`src/${folder}/**/*.ts`],
      rules: { 'no-restricted-imports': restrictions(folder), 'no-restricted-syntax': dynamicImportRestrictions(folder) },
    },
    // Tests read their own fixtures and the answers they check with JSON.parse.
    { files: [`src/${folder}/**/*.test.ts`], rules: { 'no-restricted-syntax': dynamicImportRestrictions(folder, { tests: true }) } },
  ]),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/main.ts', 'src/cli/main.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Settings are read in src/config only.' },
        { object: 'process', property: 'argv', message: 'Arguments are read in src/config (serve) and handed to commands by src/cli/main.ts only.' },
      ],
    },
  },
);
