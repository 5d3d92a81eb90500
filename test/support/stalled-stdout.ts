// Child process for logger.test.ts: logs through bouncer's stdout destination while the
// parent never reads the pipe, then reports (on stderr) how many lines were dropped.
import { createLogger } from '../../src/telemetry/logger.js';

let dropped = 0;
const logger = createLogger({ level: 'info', stdoutBufferBytes: 256 * 1024, onDropped: (lines) => (dropped += lines) });
const started = performance.now();
for (let i = 0; i < 5000; i++) logger.info({ i, pad: 'x'.repeat(1000) }, 'decision');
process.stderr.write(`${JSON.stringify({ dropped, ms: performance.now() - started })}\n`);
process.exit(0);
