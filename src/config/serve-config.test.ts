import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configurationDoc } from './configuration-doc.js';
import { loadServeConfig, SERVE_USAGE } from './serve-config.js';
import { SERVE_SETTINGS } from './serve-settings.js';

const base = ['--bundle', 'b=/tmp/b.tar.gz', '--tls-cert', '/tmp/c', '--tls-key', '/tmp/k'];
const load = (args: string[] = [], cpus = 3, env: Record<string, string> = {}) => loadServeConfig([...base, ...args], env, () => cpus);
const managed = ['--watch-namespace', 'bouncer-system', '--manage-certs'];

describe('serve configuration: the audit', () => {
  it('skips the namespaces it is told to besides its defaults, by flag or variable; a bad name is refused', () => {
    const cluster = ['--watch-namespace', 'bouncer-system'];
    expect(load(cluster).audit?.excludedNamespaces).toEqual([]);
    expect(load([...cluster, '--audit-exclude-namespace', 'legacy', '--audit-exclude-namespace', 'istio-system']).audit?.excludedNamespaces).toEqual(['legacy', 'istio-system']);
    expect(load(cluster, 3, { BOUNCER_AUDIT_EXCLUDE_NAMESPACES: 'legacy,batch' }).audit?.excludedNamespaces).toEqual(['legacy', 'batch']);
    expect(() => load([...cluster, '--audit-exclude-namespace', 'Not_A_Name'])).toThrow('--audit-exclude-namespace');
  });
});

describe('serve configuration: performance settings', () => {
  it('sizes the worker pool from the CPUs this process may use, unless told', () => {
    expect(load([], 3).workers).toBe(3);
    expect(load([], 1).workers).toBe(1);
    expect(load(['--workers', '0'], 3).workers).toBe(0);
    expect(load([], 3, { BOUNCER_WORKERS: '2' }).workers).toBe(2);
  });

  it('has no decision cache by default, and a bounded one with a time to live when asked', () => {
    expect(load().decisionCacheSize).toBe(0);
    const config = load(['--decision-cache-size', '5000', '--decision-cache-ttl', '30s']);
    expect(config.decisionCacheSize).toBe(5000);
    expect(config.decisionCacheTtlMs).toBe(30_000);
    expect(load().decisionCacheTtlMs).toBe(60_000);
  });

  it.each([
    [['--decision-cache-size=-1'], '--decision-cache-size: must be an integer'],
    [['--decision-cache-size', 'lots'], '--decision-cache-size: must be an integer'],
    [['--decision-cache-ttl', 'soon'], '--decision-cache-ttl: must be a duration'],
  ])('refuses %j with a message that says what to fix', (args, message) => {
    expect(() => load(args)).toThrow(message);
  });
});

describe('serve configuration: precedence', () => {
  it('takes a flag over its environment variable over the default', () => {
    expect(load().port).toBe(8443);
    expect(load([], 1, { BOUNCER_PORT: '9443' }).port).toBe(9443);
    expect(load(['--port', '10443'], 1, { BOUNCER_PORT: '9443' }).port).toBe(10443);
    expect(load(['--shutdown-delay', '1s'], 1, { BOUNCER_SHUTDOWN_DELAY: '9s' }).shutdownDelayMs).toBe(1000);
    expect(load([], 1, { BOUNCER_SHUTDOWN_DELAY: '9s' }).shutdownDelayMs).toBe(9000);
  });

  it('reads repeatable settings from a comma-separated variable, and the flags replace it', () => {
    expect(load([], 1, { BOUNCER_REQUIRED_BUNDLES: 'a, b,,c' }).requiredBundles).toEqual(['a', 'b', 'c']);
    expect(load(['--require-bundle', 'x'], 1, { BOUNCER_REQUIRED_BUNDLES: 'a,b' }).requiredBundles).toEqual(['x']);
  });

  it('treats an empty variable as unset', () => {
    expect(load([], 1, { BOUNCER_PORT: '' }).port).toBe(8443);
  });

  it('reads switches from their variables as true or false', () => {
    expect(load([], 1, { BOUNCER_MANAGE_CERTS: 'false' }).managedCerts).toBeUndefined();
    expect(() => load([], 1, { BOUNCER_MANAGE_CERTS: 'true' })).toThrow('--manage-certs and --tls-cert/--tls-key exclude each other');
    expect(() => load([], 1, { BOUNCER_MANAGE_CERTS: 'on' })).toThrow('BOUNCER_MANAGE_CERTS: must be true or false');
  });

  it('names the variable that carried a bad value', () => {
    expect(() => load([], 1, { BOUNCER_PORT: 'eighty' })).toThrow('BOUNCER_PORT: must be a port number');
    expect(() => load([], 1, { BOUNCER_DECISION_LOG_INPUT: 'yes' })).toThrow('BOUNCER_DECISION_LOG_INPUT: must be true or false');
  });

  it('freezes what it returns', () => {
    const config = load(['--require-bundle', 'a']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.requiredBundles)).toBe(true);
  });
});

describe('serve configuration: settings that involve each other', () => {
  it.each([
    ['the same port for webhook and health', ['--port', '9000', '--health-port', '9000'], '--port and --health-port are both 9000'],
    ["the webhook on the health server's default port", ['--port', '8080'], '--port and --health-port are both 8080'],
    ['a key id without a key', ['--verification-key-id', 'k1'], '--verification-key-id needs --verification-key'],
    ['decision-log settings without a sink', ['--decision-log-input'], 'need --decision-log-url'],
    ['a mask that is not a pointer', ['--decision-log-url', 'http://127.0.0.1:1/', '--decision-log-mask', 'spec.token'], 'must be a JSON pointer'],
    ['two bundles of one name', ['--bundle', 'b=/tmp/other.tar.gz'], 'two --bundle flags have the same name'],
    ['a bundle name that is not a DNS label', ['--bundle', 'Big_Name=/tmp/x.tar.gz'], 'must be a DNS label'],
    ['an unknown flag', ['--no-such-flag'], "Unknown option '--no-such-flag'"],
    ['an unknown log level', ['--log-level', 'loud'], '--log-level: must be one of trace'],
    ['an unsupported signature algorithm', ['--verification-key', '/k', '--verification-alg', 'HS256'], '--verification-alg: must be one of'],
  ])('refuses %s', (_name, args, message) => {
    expect(() => load(args)).toThrow(message);
  });

  it('allows port 0 (any free port) for both', () => {
    expect(load(['--port', '0', '--health-port', '0']).port).toBe(0);
  });

  it('needs a serving certificate, and exactly one kind of it', () => {
    const noTls = ['--bundle', 'b=/tmp/b.tar.gz'];
    expect(() => loadServeConfig(noTls, {}, () => 1)).toThrow('a serving certificate is required');
    expect(() => loadServeConfig([...noTls, '--tls-cert', '/c'], {}, () => 1)).toThrow('a serving certificate is required');
    expect(() => loadServeConfig([...base, ...managed], {}, () => 1)).toThrow('--manage-certs and --tls-cert/--tls-key exclude each other');
    expect(() => loadServeConfig(['--manage-certs', '--bundle', 'b=/x'], {}, () => 1)).toThrow('--manage-certs needs --watch-namespace');
    expect(() => loadServeConfig([...managed, '--client-ca', '/ca'], {}, () => 1)).toThrow('--client-ca needs --tls-cert');
    expect(() => loadServeConfig(['--tls-cert', '/c', '--tls-key', '/k'], {}, () => 1)).toThrow('nothing to serve');
  });

  it('derives the managed certificate from the service, namespace and extra names', () => {
    const config = loadServeConfig([...managed, '--service-name', 'gate', '--cert-sans', 'gate.example.com, 127.0.0.1,::1', '--cert-overlap', '1h'], {}, () => 1);
    expect(config.tls).toBeUndefined();
    expect(config.managedCerts).toEqual({
      namespace: 'bouncer-system',
      secretName: 'bouncer-tls',
      webhookName: 'bouncer',
      dnsNames: ['gate', 'gate.bouncer-system', 'gate.bouncer-system.svc', 'gate.bouncer-system.svc.cluster.local', 'gate.example.com'],
      ipAddresses: ['127.0.0.1', '::1'],
      caValiditySeconds: 8760 * 3600,
      leafValiditySeconds: 720 * 3600,
      overlapSeconds: 3600,
      checkIntervalMs: 10_000,
    });
    expect(loadServeConfig(managed, { BOUNCER_MANAGE_CERTS: 'true' }, () => 1).managedCerts?.secretName).toBe('bouncer-tls');
    expect(loadServeConfig(['--watch-namespace', 'ns'], { BOUNCER_MANAGE_CERTS: 'true' }, () => 1).managedCerts?.namespace).toBe('ns');
  });

  it('refuses a CA rotation overlap of half the CA life or more', () => {
    expect(() => loadServeConfig([...managed, '--ca-validity', '2h', '--cert-overlap', '1h'], {}, () => 1)).toThrow('--cert-overlap must be less than half');
  });
});

describe('serve settings are declared once', () => {
  const declarations = Object.values(SERVE_SETTINGS);

  it('gives every setting a distinct flag and variable', () => {
    const flags = declarations.map((s) => s.flag);
    const envs = declarations.flatMap((s) => (s.env ? [s.env] : []));
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
  });

  it.each(declarations.map((s) => [s.flag, s] as const))('--%s is in the help text with its variable', (flag, s) => {
    expect(SERVE_USAGE).toContain(`--${flag}`);
    if (s.env) expect(SERVE_USAGE).toContain(`[env ${s.env}]`);
  });

  it('docs/configuration.md is the one generated from the declarations (npx tsx hack/gen-config-docs.ts)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(configurationDoc());
  });

  it('every variable bouncer serve reads is a declared one', () => {
    const source = readFileSync('src/config/serve-config.ts', 'utf8') + readFileSync('src/main.ts', 'utf8');
    expect(source).not.toMatch(/env\.[A-Z_]+|env\[/);
  });
});
