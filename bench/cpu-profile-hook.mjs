// Preloaded into `bouncer serve` by `npm run bench -- --cpu-prof DIR` (through
// NODE_OPTIONS=--import, since Node 20 refuses --cpu-prof there). The harness sends
// SIGUSR2 once the warm-up is over; from then until the process exits the main thread is
// sampled with the inspector's profiler, and DIR/bouncer-<pid>.cpuprofile is written at
// exit (open it in Chrome DevTools, or: npx tsx bench/profile-summary.ts FILE).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import process from 'node:process';

const dir = process.env.BOUNCER_BENCH_CPU_PROF;
if (dir) {
  const session = new Session();
  let started = false;
  process.on('SIGUSR2', () => {
    if (started) return;
    started = true;
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 200 });
    session.post('Profiler.start');
  });
  process.on('exit', () => {
    if (!started) return;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `bouncer-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
