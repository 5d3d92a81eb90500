// The typed reading of a Suite document, with the checks gator's JSON decoding makes
// (encoding/json into verify.Suite): every field has its Go type or is null/absent
// (then its zero value); unknown fields are ignored; field names match case-insensitively
// when no exact match exists, as encoding/json does. A wrong type is an error naming the
// file, the line and the field (gator stops the whole run on it, and so do we).
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { BouncerError } from '../errors/errors.js';
import type { SuiteAssertion, SuiteCase, SuiteFile, SuiteTest } from './suite.js';

type Resolve = (node: Node | null | undefined) => Node | null | undefined;
type LineOf = (node: Node | null | undefined) => number;

const INT32_MAX = 2 ** 31 - 1;

class SuiteReader {
  constructor(
    private readonly file: string,
    private readonly lineOf: LineOf,
    private readonly resolveNode: Resolve,
  ) {}

  fail(node: Node | null | undefined, message: string): never {
    throw new BouncerError('SUITE_INVALID', `${this.file}:${this.lineOf(node)}: invalid Suite: ${message}`);
  }

  /** A field's node; undefined when absent or null. */
  field(map: YAMLMap, name: string): Node | undefined {
    let loose: Node | undefined;
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key !== 'string') continue;
      if (key === name) return this.nonNull(pair.value as Node | null);
      if (loose === undefined && key.toLowerCase() === name.toLowerCase()) loose = this.nonNull(pair.value as Node | null);
    }
    return loose;
  }

  private nonNull(node: Node | null | undefined): Node | undefined {
    const resolved = this.resolveNode(node);
    if (!resolved || (isScalar(resolved) && resolved.value === null)) return undefined;
    return resolved;
  }

  string(map: YAMLMap, name: string, path: string): string {
    const node = this.field(map, name);
    if (node === undefined) return '';
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    return this.fail(node, `${path}.${name} must be a string`);
  }

  bool(map: YAMLMap, name: string, path: string): boolean {
    const node = this.field(map, name);
    if (node === undefined) return false;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    return this.fail(node, `${path}.${name} must be true or false`);
  }

  list<T>(map: YAMLMap, name: string, path: string, item: (node: Node | undefined, path: string) => T): T[] {
    const node = this.field(map, name);
    if (node === undefined) return [];
    if (!isSeq(node)) return this.fail(node, `${path}.${name} must be a list`);
    return node.items.map((n, i) => item(this.nonNull(n as Node | null), `${path}.${name}[${i}]`));
  }

  map(node: Node | undefined, path: string, context: Node | undefined): YAMLMap {
    if (node === undefined) return this.fail(context, `${path} must be an object, not null`);
    if (!isMap(node)) return this.fail(node, `${path} must be an object`);
    return node;
  }

  suite(root: Node): Pick<SuiteFile, 'skip' | 'tests'> {
    const map = this.map(root, 'suite', root);
    return { skip: this.bool(map, 'skip', 'suite'), tests: this.list(map, 'tests', 'suite', (n, p) => this.test(n, p, root)) };
  }

  test(node: Node | undefined, path: string, parent: Node): SuiteTest {
    const map = this.map(node, path, parent);
    return {
      name: this.string(map, 'name', path),
      template: this.string(map, 'template', path),
      constraint: this.string(map, 'constraint', path),
      expansion: this.string(map, 'expansion', path),
      cases: this.list(map, 'cases', path, (n, p) => this.case(n, p, map)),
      invalid: this.bool(map, 'invalid', path),
      skip: this.bool(map, 'skip', path),
      line: this.lineOf(map),
    };
  }

  case(node: Node | undefined, path: string, parent: Node): SuiteCase {
    const map = this.map(node, path, parent);
    return {
      name: this.string(map, 'name', path),
      object: this.string(map, 'object', path),
      inventory: this.list(map, 'inventory', path, (n, p) => {
        if (n === undefined) return '';
        if (isScalar(n) && typeof n.value === 'string') return n.value;
        return this.fail(n, `${p} must be a string`);
      }),
      assertions: this.list(map, 'assertions', path, (n, p) => this.assertion(n, p, map)),
      skip: this.bool(map, 'skip', path),
      line: this.lineOf(map),
    };
  }

  assertion(node: Node | undefined, path: string, parent: Node): SuiteAssertion {
    // A null list item decodes to the zero Assertion: violations "yes", any message.
    if (node === undefined) return { line: this.lineOf(parent) };
    const map = this.map(node, path, parent);
    const violations = this.field(map, 'violations');
    const message = this.field(map, 'message');
    const out: { violations?: number | string; message?: string; line: number } = { line: this.lineOf(map) };
    if (violations !== undefined) {
      const v: unknown = isScalar(violations) ? violations.value : undefined;
      if (typeof v === 'string') out.violations = v;
      else if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= INT32_MAX) out.violations = v;
      else this.fail(violations, `${path}.violations must be an integer, "yes" or "no"`);
    }
    if (message !== undefined) {
      if (!isScalar(message) || typeof message.value !== 'string') this.fail(message, `${path}.message must be a string`);
      out.message = message.value as string;
    }
    return out;
  }
}

/** Reads the Suite fields of a parsed suite document (the caller has checked apiVersion and kind). */
export function checkSuiteNode(root: Node, lineOf: LineOf, file: string, resolve: Resolve = (n) => n): Pick<SuiteFile, 'skip' | 'tests'> {
  return new SuiteReader(file, lineOf, resolve).suite(root);
}
