// A bounded on-disk FIFO of JSON events: the decision log's buffer while the sink is
// down or slow. Events are appended to segment files; a consumer reads the oldest events,
// and acknowledges them once delivered, which removes them for good (the acknowledged
// position is persisted, so a restart neither loses nor repeats an acknowledged event).
// When the spool is full, new events are refused (and counted by the caller), never the
// oldest silently overwritten.
// Events can carry request content (--decision-log-input), so the spool is private to the
// process's user whatever the umask: the directory is 0700 (made so if it already existed
// with more), every file in it 0600. A directory that is a symbolic link or belongs to
// another user (another user created the default /tmp path first; a volume's root owned by
// root) is refused: name a subdirectory, which is then created private.
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { parseJson } from '../json/parse-json.js';

export interface Spool {
  /** Appends events; returns how many were refused because the spool is full. */
  append(lines: readonly string[]): number;
  /** Up to `max` of the oldest unacknowledged events (JSON lines), oldest first. */
  peek(max: number, maxBytes: number): string[];
  /** Removes the `count` oldest events (after they were delivered). */
  ack(count: number): void;
  /** Events waiting, and their bytes on disk. */
  depth(): { events: number; bytes: number };
}

const SEGMENT_BYTES = 4 * 1024 * 1024;
const OFFSET_FILE = 'acked.json';
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** `path` with exactly `mode` (the umask does not apply to chmod). */
function restrict(path: string, mode: number): void {
  if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode);
}

/** Creates `dir` private, or makes an existing one private; refuses one this user cannot own. */
export function privateDirectory(dir: string, what = 'decision log spool'): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const stat = lstatSync(dir);
  const refuse = (why: string) =>
    new BouncerError('CONFIG_INVALID', `${what} ${dir} ${why}; it holds ${what === 'decision log spool' ? 'decision events (with --decision-log-input, request content)' : 'masked request content'} and must be private: name a directory of its own, e.g. ${join(dir, 'spool')}`);
  if (!stat.isDirectory()) throw refuse('is not a directory (a symbolic link is not followed)');
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) throw refuse(`belongs to uid ${stat.uid}, not to this process's uid ${uid}`);
  restrict(dir, DIR_MODE);
}

interface Segment {
  readonly name: string;
  lines: string[];
}

export function openSpool(dir: string, maxBytes: number): Spool {
  privateDirectory(dir);
  const segmentNames = () => readdirSync(dir).filter((f) => /^\d{16}\.jsonl$/.test(f)).sort();
  const offsetPath = join(dir, OFFSET_FILE);
  // Files left by an earlier run (or an earlier version) are made private too.
  for (const name of [...segmentNames(), ...(existsSync(offsetPath) ? [OFFSET_FILE] : [])]) restrict(join(dir, name), FILE_MODE);
  // Acknowledged lines of the oldest segment (older segments are deleted when fully acknowledged).
  let acked = existsSync(offsetPath) ? (parseJson(readFileSync(offsetPath, 'utf8')) as { segment: string; lines: number }) : undefined;
  const segments: Segment[] = segmentNames().map((name) => ({
    name,
    lines: readFileSync(join(dir, name), 'utf8').split('\n').filter((l) => l.length > 0),
  }));
  if (acked && segments[0]?.name === acked.segment) segments[0].lines.splice(0, acked.lines);
  let bytes = segmentNames().reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  let sequence = Number(segments.at(-1)?.name.slice(0, 16) ?? '0');
  let current = segments.at(-1);
  let currentBytes = current ? statSync(join(dir, current.name)).size : 0;
  let ackedInFirst = acked && segments[0]?.name === acked.segment ? acked.lines : 0;

  const saveOffset = () => {
    const first = segments[0];
    const tmp = `${offsetPath}.tmp`;
    // Created afresh, so it is born 0600 (a stale file would keep its mode).
    rmSync(tmp, { force: true });
    writeFileSync(tmp, JSON.stringify({ segment: first?.name ?? '', lines: ackedInFirst }), { mode: FILE_MODE });
    renameSync(tmp, offsetPath);
    acked = { segment: first?.name ?? '', lines: ackedInFirst };
  };

  return {
    append(lines) {
      let refused = 0;
      const accepted: string[] = [];
      let added = 0;
      for (const line of lines) {
        const size = Buffer.byteLength(line) + 1;
        if (bytes + added + size > maxBytes) {
          refused++;
          continue;
        }
        accepted.push(line);
        added += size;
      }
      if (accepted.length === 0) return refused;
      if (!current || currentBytes + added > SEGMENT_BYTES) {
        sequence++;
        current = { name: `${String(sequence).padStart(16, '0')}.jsonl`, lines: [] };
        segments.push(current);
        currentBytes = 0;
      }
      appendFileSync(join(dir, current.name), `${accepted.join('\n')}\n`, { mode: FILE_MODE });
      current.lines.push(...accepted);
      currentBytes += added;
      bytes += added;
      return refused;
    },
    peek(max, maxBytesOut) {
      const out: string[] = [];
      let size = 0;
      for (const segment of segments) {
        for (const line of segment.lines) {
          if (out.length >= max || (out.length > 0 && size + line.length > maxBytesOut)) return out;
          out.push(line);
          size += line.length;
        }
      }
      return out;
    },
    ack(count) {
      let remaining = count;
      while (remaining > 0 && segments.length > 0) {
        const first = segments[0] as Segment;
        const take = Math.min(remaining, first.lines.length);
        const removed = first.lines.splice(0, take);
        bytes -= removed.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
        remaining -= take;
        ackedInFirst += take;
        if (first.lines.length === 0 && first !== current) {
          rmSync(join(dir, first.name), { force: true });
          segments.shift();
          ackedInFirst = 0;
        }
      }
      if (segments.length === 1 && current && current.lines.length === 0) {
        // Everything delivered: start the next event in a fresh segment.
        rmSync(join(dir, current.name), { force: true });
        segments.length = 0;
        current = undefined;
        currentBytes = 0;
        ackedInFirst = 0;
        bytes = 0;
      }
      saveOffset();
    },
    depth: () => ({ events: segments.reduce((n, s) => n + s.lines.length, 0), bytes }),
  };
}
