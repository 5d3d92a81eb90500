// An evaluation worker: holds an instance of each prepared bundle and evaluates jobs one
// at a time. It may be terminated at any moment (a policy past its time budget); nothing
// here needs cleaning up.
import { parentPort, workerData } from 'node:worker_threads';
import { createEvaluator, type EvalOutcome, type Evaluator } from './evaluator.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('eval-worker must run as a worker thread');
const progress = new Int32Array(workerData.progress as SharedArrayBuffer);
const evaluators = new Map<string, Evaluator>();
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'prepare':
      try {
        evaluators.set(
          message.key,
          createEvaluator({ module: message.module, entrypoints: message.entrypoints, hostBuiltins: message.hostBuiltins }, message.data, message.limits),
        );
        send({ type: 'prepared', key: message.key });
      } catch (err) {
        send({ type: 'prepared', key: message.key, error: err instanceof Error ? err.message : String(err) });
      }
      break;
    case 'release':
      for (const key of message.keys) evaluators.delete(key);
      break;
    case 'evaluate': {
      let base = 0;
      const outcomes: EvalOutcome[][] = message.jobs.map((job) => {
        const evaluator = evaluators.get(job.key);
        const start = base;
        base += job.entrypoints.length;
        if (!evaluator) return job.entrypoints.map(() => ({ ok: false, failure: { class: 'runtime', message: `bundle ${job.key} is not loaded in this worker` } }));
        // The progress slot names the entrypoint running, for the pool's timeout handling.
        return evaluator.evaluate(message.input, job.entrypoints, (i) => Atomics.store(progress, 0, start + i + 1));
      });
      Atomics.store(progress, 0, 0);
      send({ type: 'result', id: message.id, outcomes });
      break;
    }
  }
});
