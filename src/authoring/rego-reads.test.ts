// The not-auditable lint and the inventory reads, on real Rego parsed by the pinned OPA CLI:
// each way of reaching operation / oldObject / userInfo that rego-reads.ts documents is found
// with its file and line, what it documents as not followed is not, and data.inventory reads
// (and status reads, per kind) are seen through the same aliases.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { auditMark } from './audit-lint.js';
import { parseRego } from './parse-rego.js';
import { regoReads, type ParsedModule } from './rego-reads.js';

const dir = mkdtempSync(join(tmpdir(), 'bouncer-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

async function parsed(source: string, v0 = false): Promise<ParsedModule> {
  const file = `m${n++}.rego`;
  writeFileSync(join(dir, file), source);
  return { name: `src/${file}`, ast: await parseRego(inject('opa'), file, dir, v0) };
}

const LIB = 'package lib.kubernetes\n\nrequest := input.request\n\nobj := input.request.object\n';
const rule = (body: string, imports = ''): string => `package policies.p\n${imports}\ndeny contains "x" if {\n${body}\n}\n`;

describe('regoReads (native: input.request)', () => {
  it.each([
    ['a direct ref', '\tinput.request.operation == "UPDATE"', '', ['input.request.operation (src/M:4)']],
    ['a bracketed field', '\tinput.request["userInfo"].username == "x"', '', ['input.request.userInfo (as input.request["userInfo"].username, src/M:4)']],
    ['a local variable bound to input.request', '\tr := input.request\n\tr.oldObject.x == 1', '', ['input.request.oldObject (as r.oldObject.x, src/M:5)']],
    ['a chain of variables with =', '\ti = input\n\tr = i.request\n\tr.userInfo.groups[_] == "g"', '', ['input.request.userInfo (as r.userInfo.groups[_], src/M:6)']],
    ['an imported ref', '\treq.operation == "DELETE"', 'import input.request as req\n', ['input.request.operation (as req.operation, src/M:5)']],
    ['a lib constant alias through an import', '\tk.request.userInfo.username == "x"', 'import data.lib.kubernetes as k\n', ['input.request.userInfo (as k.request.userInfo.username, src/M:5)']],
    ['a lib constant alias by its full ref', '\tdata.lib.kubernetes.request.operation == "CREATE"', '', ['input.request.operation (as data.lib.kubernetes.request.operation, src/M:4)']],
    ['object.get with a key', '\tobject.get(input.request, "operation", "") == "UPDATE"', '', ['input.request.operation (as object.get(input.request, "operation", ""), src/M:4)']],
    ['object.get with a path', '\tv := object.get(input.request, ["oldObject", "spec"], {})\n\tv.x == 1', '', ['input.request.oldObject (as object.get(input.request, ["oldObject", "spec"], {}), src/M:4)']],
    ['none of them (object, kind, lib.kubernetes.obj)', '\tinput.request.object.spec.x == 1\n\tinput.request.kind.kind == "Pod"\n\tk.obj.metadata.name == "n"', 'import data.lib.kubernetes as k\n', []],
    ['nothing through a dynamic key (not followed)', '\tsome f in ["operation"]\n\tinput.request[f] == "UPDATE"', '', []],
    ['nothing through a function argument (not followed)', '\tis_update(input.request)', '', []],
  ])('finds %s', async (_, body, imports, expected) => {
    const m = await parsed(`${rule(body, imports)}\nis_update(r) if r.operation == "UPDATE"\n`);
    const lib = await parsed(LIB);
    const reads = regoReads([m], 'request', [lib]);
    expect(reads.requestFields).toEqual(expected.map((e) => e.replace('src/M', m.name)));
    expect(reads.inventory).toBe(false);
  });

  it('reports each field once per line, in source order', async () => {
    const m = await parsed(rule('\tu := input.request.userInfo\n\tu.username == "a"\n\tinput.request.operation == "CREATE"\n\tinput.request.operation != "DELETE"'));
    expect(regoReads([m], 'request').requestFields).toEqual([`input.request.userInfo (${m.name}:4)`, `input.request.userInfo (as u.username, ${m.name}:5)`, `input.request.operation (${m.name}:6)`, `input.request.operation (${m.name}:7)`]);
  });

  it('finds data.inventory reads, and status per kind', async () => {
    const m = await parsed(
      rule('\tsvc := data.inventory.namespace[ns].v1.Service[name]\n\tsvc.spec.x == 1\n\tnode := data.inventory.cluster.v1.Node[_]\n\tnode.status.ready == true'),
    );
    expect(regoReads([m], 'request')).toEqual({ requestFields: [], inventory: true, inventoryStatus: ['Node'] });
    const any = await parsed(rule('\tsome o in data.inventory.cluster.v1[kind]\n\tx := data.inventory.cluster.v1[kind][_]\n\tx.status.phase == "Active"'));
    expect(regoReads([any], 'request').inventoryStatus).toEqual([null]);
    const some = await parsed(rule('\tsome pod in data.inventory.namespace[_].v1.Pod\n\tpod.status.phase == "Running"\n\tsome _, pvc in data.inventory.namespace[_].v1.PersistentVolumeClaim\n\tpvc.status.phase == "Bound"'));
    expect(regoReads([some], 'request').inventoryStatus).toEqual(['Pod', 'PersistentVolumeClaim']);
  });
});

describe('regoReads (templates: input.review, Rego v0)', () => {
  it('finds input.review fields and ignores input.request', async () => {
    const m = await parsed('package t\n\nviolation[{"msg": "m"}] {\n  input.review.operation == "UPDATE"\n  r := input.review\n  r.userInfo.username == "x"\n  input.request.oldObject\n}\n', true);
    expect(regoReads([m], 'review').requestFields).toEqual([`input.review.operation (${m.name}:4)`, `input.review.userInfo (as r.userInfo.username, ${m.name}:6)`]);
  });
});

describe('auditMark', () => {
  const reads = { requestFields: [], inventory: false, inventoryStatus: [] };

  it('is undefined for a policy reading none of them, evaluated for CREATE', () => {
    expect(auditMark(reads, ['CREATE', 'UPDATE'])).toBeUndefined();
  });

  it('names the references', () => {
    expect(auditMark({ ...reads, requestFields: ['input.request.operation (p.rego:3)'] }, ['CREATE'])).toEqual({
      auditable: false,
      reason: 'reads input.request.operation (p.rego:3): the audit evaluates existing objects as CREATE requests, without an old object or a requesting user',
    });
  });

  it('marks a policy never evaluated for CREATE', () => {
    expect(auditMark(reads, ['UPDATE', 'DELETE'])?.reason).toMatch(/^is evaluated only for UPDATE, DELETE: the audit evaluates existing objects as CREATE/);
  });
});
