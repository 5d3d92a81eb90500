// The recording spool never blocks or fails its caller: a full spool and an unwritable
// directory drop records, count them by reason and log once; old segments go by age.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRecordSpool, recordSegments } from './record-spool.js';

function harness(maxBytes: number, maxAgeMs = 3_600_000, now = () => Date.now()) {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-record-spool-'));
  const counts = { recorded: 0, dropped: {} as Record<string, number>, bytes: 0 };
  const warnings: string[] = [];
  const spool = openRecordSpool({
    dir: join(dir, 'records'),
    maxBytes,
    maxAgeMs,
    now,
    metrics: {
      recorded: (n) => (counts.recorded += n),
      dropped: (reason, n) => (counts.dropped[reason] = (counts.dropped[reason] ?? 0) + n),
      spoolBytes: (b) => (counts.bytes = b),
    },
    log: { warn: (_o, msg) => warnings.push(msg), info: () => undefined },
  });
  return { root: dir, dir: join(dir, 'records'), spool, counts, warnings };
}

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the recording spool', () => {
  it('writes queued lines in one append to a private segment', () => {
    const h = harness(1_000_000);
    made.push(h.root);
    h.spool.write('{"a":1}');
    h.spool.write('{"a":2}');
    expect(recordSegments(h.dir).length).toBe(0); // not yet: written off the caller's path
    h.spool.flush();
    const [segment] = recordSegments(h.dir);
    expect(readFileSync(segment as string, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(statSync(segment as string).mode & 0o777).toBe(0o600);
    expect(statSync(h.dir).mode & 0o777).toBe(0o700);
    expect(h.counts).toMatchObject({ recorded: 2, bytes: 16 });
  });

  it('drops what does not fit, counts it as spool_full and logs it once', () => {
    const h = harness(20);
    made.push(h.root);
    for (let i = 0; i < 5; i++) h.spool.write(`{"n":${i}}`); // 8 bytes each with the newline
    h.spool.flush();
    for (let i = 0; i < 3; i++) h.spool.write(`{"n":${i}}`);
    h.spool.flush();
    expect(h.counts.recorded).toBe(2);
    expect(h.counts.dropped).toEqual({ spool_full: 6 });
    expect(h.warnings).toHaveLength(1);
    expect(h.warnings[0]).toMatch(/review records dropped: the recording directory holds --record-max-mb/);
  });

  it('drops and counts what it cannot write, without throwing, and says when writing works again', () => {
    const h = harness(1_000_000);
    made.push(h.root);
    // The directory replaced by a file: every append fails (ENOTDIR), whatever the user.
    rmSync(h.dir, { recursive: true });
    writeFileSync(h.dir, 'not a directory');
    h.spool.write('{"a":1}');
    expect(() => h.spool.flush()).not.toThrow();
    h.spool.write('{"a":2}');
    h.spool.flush();
    expect(h.counts.dropped).toEqual({ write_failed: 2 });
    expect(h.warnings).toEqual([expect.stringMatching(/the recording directory cannot be written/)]);
    rmSync(h.dir);
    mkdirSync(h.dir, { mode: 0o700 });
    h.spool.write('{"a":3}');
    h.spool.flush();
    expect(h.counts.recorded).toBe(1);
    expect(readFileSync(recordSegments(h.dir)[0] as string, 'utf8')).toBe('{"a":3}\n');
  });

  it('deletes segments older than the age limit', () => {
    let clock = Date.now();
    const h = harness(1_000_000, 60_000, () => clock);
    made.push(h.root);
    h.spool.write('{"old":1}');
    h.spool.flush();
    const [old] = recordSegments(h.dir);
    utimesSync(old as string, new Date(clock - 120_000), new Date(clock - 120_000));
    h.spool.close();
    // A new process: the old segment is pruned at its first write.
    clock += 1000;
    const again = openRecordSpool({
      dir: h.dir,
      maxBytes: 1_000_000,
      maxAgeMs: 60_000,
      now: () => clock,
      metrics: { recorded: () => undefined, dropped: () => undefined, spoolBytes: () => undefined },
      log: { warn: () => undefined, info: () => undefined },
    });
    again.write('{"new":1}');
    again.flush();
    const segments = recordSegments(h.dir);
    expect(segments).toHaveLength(1);
    expect(readFileSync(segments[0] as string, 'utf8')).toBe('{"new":1}\n');
  });
});
