// Benchmark only: `bouncer serve` as a node:cluster of BOUNCER_BENCH_PROCESSES processes
// sharing the webhook port (the primary accepts and hands connections round-robin), to
// compare spreading whole requests over processes with bouncer's own worker-thread pool.
// Not a deployment mode: each process would load, watch and report on its own.
//   node bench/cluster-serve.mjs serve <bouncer serve arguments>
import cluster from 'node:cluster';

const count = Number(process.env.BOUNCER_BENCH_PROCESSES ?? '2');
if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR;
  for (let i = 0; i < count; i++) cluster.fork();
  let exited = 0;
  cluster.on('exit', () => {
    exited++;
    if (exited === count) process.exit(0);
  });
  const stop = () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const { main } = await import('../dist/main.js');
  // The IPC channel to the primary would keep a stopped worker alive.
  process.exit(await main(process.argv.slice(3)));
}
