// The opa-wasm SDK's ESM entry exports only `loadPolicy` by name (plus the CommonJS
// module as default), while its type declarations name every function; read them from
// the default export so the synchronous loader is available.
import * as named from '@open-policy-agent/opa-wasm';
import { installBuiltinOverrides } from './builtins.js';

type Sdk = typeof named;

const sdk: Sdk = (named as unknown as { default: Sdk }).default;

export const loadPolicySync: Sdk['loadPolicySync'] = (...args) => {
  installBuiltinOverrides();
  return sdk.loadPolicySync(...args);
};
export type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
