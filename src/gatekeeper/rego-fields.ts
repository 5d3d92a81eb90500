// Where a template's Rego came from, as field paths for messages: the legacy
// spec.targets[0].rego/libs, or the source of the `Rego` entry of spec.targets[0].code[].

export interface RegoFields {
  readonly rego: string;
  readonly libs: string;
}

/** The fields of `source` (a ConstraintTemplate as read) that hold its Rego entry module and libs. */
export function regoFields(source: Readonly<Record<string, unknown>>): RegoFields {
  const target = (source.spec as { targets?: unknown[] } | undefined)?.targets?.[0] as { rego?: unknown; code?: unknown } | undefined;
  if (typeof target?.rego === 'string' && target.rego !== '') return { rego: 'spec.targets[0].rego', libs: 'spec.targets[0].libs' };
  const code = Array.isArray(target?.code) ? (target.code as unknown[]) : [];
  const index = code.findIndex((c) => (c as { engine?: unknown } | null)?.engine === 'Rego');
  const at = `spec.targets[0].code[${Math.max(index, 0)}].source`;
  return { rego: `${at}.rego`, libs: `${at}.libs` };
}
