// The engine's policy loader. It used to be the opa-wasm SDK's loadPolicySync; the host in
// wasm-host.ts has the same shape and gives builtins exact Rego values (see there why).
export { loadPolicySync, LoadedPolicy } from './wasm-host.js';
