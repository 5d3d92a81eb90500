// An evaluation worker: holds an instance of each prepared bundle and evaluates jobs one
// at a time. It may be terminated at any moment (a policy past its time budget); nothing
// here needs cleaning up.
import { parentPort, workerData } from 'node:worker_threads';
import { createEvaluator, type EvalOutcome, type Evaluator } from './evaluator.js';
import { decodeChanges } from './data-change-codec.js';
import { FLUSH_AFTER_MS, type FromWorker, type ToWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('eval-worker must run as a worker thread');
const progress = new Int32Array(workerData.progress as SharedArrayBuffer);
const evaluators = new Map<string, Evaluator>();
const send = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'prepare':
      try {
        const evaluator = createEvaluator(
          { module: message.module, entrypoints: message.entrypoints, hostBuiltins: message.hostBuiltins, routed: message.routed },
          message.data,
          message.limits,
        );
        if (message.seed) evaluator.applyData(decodeChanges(message.seed));
        evaluators.set(message.key, evaluator);
        send({ type: 'prepared', key: message.key });
      } catch (err) {
        send({ type: 'prepared', key: message.key, error: err instanceof Error ? err.message : String(err) });
      }
      break;
    case 'data':
      // A bundle that failed to prepare here has no instance: its evaluations fail already.
      evaluators.get(message.key)?.applyData(decodeChanges(message.changes));
      break;
    case 'release':
      for (const key of message.keys) evaluators.delete(key);
      break;
    case 'evaluate': {
      let base = 0;
      // Finished outcomes of earlier jobs (flattened), and how many were reported.
      const finished: EvalOutcome[] = [];
      let reported = 0;
      let lastReport = performance.now();
      const report = (current: readonly EvalOutcome[]) => {
        const now = performance.now();
        if ((!message.eager && now - lastReport < FLUSH_AFTER_MS) || finished.length + current.length === reported) return;
        const all = [...finished, ...current];
        send({ type: 'partial', id: message.id, from: reported, outcomes: all.slice(reported) });
        reported = all.length;
        lastReport = now;
      };
      const outcomes: EvalOutcome[][] = message.jobs.map((job) => {
        const evaluator = evaluators.get(job.key);
        const start = base;
        base += job.entrypoints.length;
        const done: EvalOutcome[] = evaluator
          ? // The progress slot names the entrypoint running, for the pool's timeout handling.
            evaluator.evaluate(message.input, job.entrypoints, (i, sofar) => {
              report(sofar);
              Atomics.store(progress, 0, start + i + 1);
            }, message.nowNs)
          : job.entrypoints.map(() => ({ ok: false, failure: { class: 'runtime', message: `bundle ${job.key} is not loaded in this worker` } }));
        finished.push(...done);
        return done;
      });
      Atomics.store(progress, 0, 0);
      send({ type: 'result', id: message.id, outcomes });
      break;
    }
  }
});
