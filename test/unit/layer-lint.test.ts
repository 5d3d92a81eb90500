// The layer rules of eslint.config.js, checked on probe sources: static imports, dynamic
// import() and the process globals that only src/config may read.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['a static import of a forbidden folder', 'src/engine/probe.ts', "import { x } from '../cluster/lease.js';\nexport { x };\n", 'src/engine must not import src/cluster'],
    ['a dynamic import of a forbidden folder', 'src/engine/probe.ts', "export const m = () => import('../cluster/lease.js');\n", 'src/engine must not import src/cluster, dynamically either'],
    ['a dynamic import of a library another folder owns', 'src/review/probe.ts', "export const m = () => import('@kubernetes/client-node');\n", 'Only src/sources, src/cluster may import @kubernetes/client-node, dynamically either'],
    ['a dynamic import of a computed path', 'src/review/probe.ts', "export const m = (p: string) => import(p);\n", 'import() takes a literal path'],
    ['process.env outside src/config', 'src/review/probe.ts', 'export const v = process.env.X;\n', 'Settings are read in src/config only.'],
    ['process.argv outside src/config', 'src/http/probe.ts', 'export const v = process.argv;\n', 'Arguments are read in src/config'],
  ])('refuses %s', async (_name, file, code, expected) => {
    expect((await messages(file, code)).join('\n')).toContain(expected);
  });

  it.each([
    ['a dynamic import within the layer table', 'src/sources/probe.ts', "export const m = () => import('../cluster/lease.js');\n"],
    ['a dynamic import of an owned library by its owner', 'src/cluster/probe.ts', "export const m = () => import('@kubernetes/client-node');\n"],
    ['process.env in src/config', 'src/config/probe.ts', 'export const v = process.env.X;\n'],
  ])('allows %s', async (_name, file, code) => {
    expect(await messages(file, code)).toEqual([]);
  });
});
