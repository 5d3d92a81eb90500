import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('stdout logging', () => {
  it('never blocks on a reader that stalls: lines past the buffer are dropped and counted', async () => {
    // The parent does not read the child's stdout until the child has logged: the pipe fills after ~64 KiB.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/stalled-stdout.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pause();
    const report = await new Promise<{ dropped: number }>((resolve) => {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('\n')) resolve(JSON.parse(stderr.split('\n')[0] as string) as { dropped: number });
      });
    });
    // Now read: what was buffered is flushed at exit.
    let received = 0;
    child.stdout.on('data', (chunk: Buffer) => (received += chunk.toString().split('\n').length - 1));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    // 5,000 lines of ~1.1 KB against a 256 KiB buffer and a full pipe: most are dropped, none blocked the loop.
    expect(report.dropped).toBeGreaterThan(4000);
    expect(report.dropped).toBeLessThan(5000);
    // Every line is either delivered or counted as dropped.
    expect(received + report.dropped).toBe(5000);
  }, 30_000);
});
