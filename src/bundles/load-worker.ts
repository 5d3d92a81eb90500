// The load worker: reads, verifies, compiles, instantiates and self-checks bundles, one
// request at a time, and posts each compiled module back. It runs a bundle's code for the
// first time, so it may be terminated at any moment (the loader's time budget); nothing
// here needs cleaning up, and nothing is kept from one load to the next.
import { parentPort } from 'node:worker_threads';
import { describeThrown, isBouncerError } from '../errors/errors.js';
import { compileBundle, readBundle } from './bundle.js';
import type { LoadReply, LoadRequest } from './load-protocol.js';
import { createBundleVerifier } from './signature.js';

const port = parentPort;
if (!port) throw new Error('load-worker must run as a worker thread');
const send = (reply: LoadReply) => port.postMessage(reply);

port.on('message', (request: LoadRequest) => {
  send({ type: 'started' });
  const run = async (): Promise<LoadReply> => {
    const verify = request.verification ? createBundleVerifier(request.verification) : undefined;
    const parts = await readBundle(request.bytes, { maxJsonBytes: request.maxJsonBytes, ...(verify ? { verify } : {}) });
    const { wasm, policies, templates } = await compileBundle(parts, request.limits);
    return { type: 'loaded', manifest: parts.manifest, module: wasm.module, entrypoints: wasm.entrypoints, hostBuiltins: wasm.hostBuiltins, routed: wasm.routed, data: parts.data, policies, templates };
  };
  run().then(send, (err: unknown) =>
    send(
      isBouncerError(err)
        ? { type: 'refused', code: err.code, message: err.message, ...(err.details ? { details: { ...err.details } } : {}) }
        : { type: 'refused', code: 'INTERNAL', message: describeThrown(err) },
    ),
  );
});
