// A change to a policy instance's data document, applied in place (OPA's WASM ABI
// opa_value_add_path / opa_value_remove_path) instead of re-loading the whole document.
// Paths are under `data`; the engine does not know what they mean (the inventory feed does).

export type DataChange =
  /** Sets the value at `path` (JSON text), creating missing parent objects; replaces what was there. */
  | { readonly op: 'put'; readonly path: readonly string[]; readonly value: Uint8Array }
  /** Removes the value at `path`; a path that does not exist is not an error. */
  | { readonly op: 'remove'; readonly path: readonly string[] };
