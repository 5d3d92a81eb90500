// Reading recorded reviews: a recording directory (its segment files, oldest first), files
// of JSON lines, or a file holding one JSON array (OPA's upload format). A corrupt or
// truncated source is read as far as it is valid: every line that is not a record is counted
// with its file and line, never thrown.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoint } from '../admission/respond.js';
import type { RecordedResult } from '../review/review-record.js';
import { parseJson } from '../json/parse-json.js';

export interface ReadRecord {
  readonly source: string;
  readonly line: number;
  readonly decisionId: string;
  readonly timestamp: number;
  readonly endpoint: Endpoint | undefined;
  readonly path: string;
  /** The AdmissionReview as recorded (masked). */
  readonly input: unknown;
  readonly result: RecordedResult;
  /** time.now_ns as recorded, exact (read from the text: it may exceed 2^53). */
  readonly nowNs: bigint | undefined;
  readonly masked: readonly string[];
  readonly revision: string;
}

export interface Unreadable {
  readonly source: string;
  readonly line: number;
  readonly reason: 'corrupt' | 'truncated' | 'not-a-record';
  readonly detail: string;
}

const SEGMENT = /^\d{16}\.jsonl$/;
const NOW_NS = /"time\.now_ns"\s*:\s*\{\s*"\[\]"\s*:\s*(-?\d+)/;

/** The files of each source: a directory's segments in order, a file as is. */
export function sourceFiles(sources: readonly string[]): string[] {
  return sources.flatMap((s) =>
    statSync(s).isDirectory()
      ? readdirSync(s)
          .filter((f) => SEGMENT.test(f))
          .sort()
          .map((f) => join(s, f))
      : [s],
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One event as a record, or why it is not one. */
export function toRecord(value: unknown, text: string | undefined, source: string, line: number): ReadRecord | Unreadable {
  const bad = (detail: string): Unreadable => ({ source, line, reason: 'not-a-record', detail });
  if (!isObject(value)) return bad('not a JSON object');
  if (typeof value.decision_id !== 'string') return bad('no decision_id');
  const timestamp = typeof value.timestamp === 'string' ? Date.parse(value.timestamp) : NaN;
  if (Number.isNaN(timestamp)) return bad('no RFC 3339 timestamp');
  if (typeof value.path !== 'string') return bad('no path');
  const result = value.result;
  if (!isObject(result) || typeof result.allowed !== 'boolean' || !Array.isArray(result.warnings) || !Array.isArray(result.policies)) return bad('no bouncer result (allowed, warnings, policies)');
  const endpoint = value.path === 'bouncer/validate' ? 'validate' : value.path === 'bouncer/mutate' ? 'mutate' : undefined;
  const nd = isObject(value.nd_builtin_cache) ? value.nd_builtin_cache['time.now_ns'] : undefined;
  let nowNs: bigint | undefined;
  if (isObject(nd) && nd['[]'] !== undefined) {
    const exact = text === undefined ? undefined : NOW_NS.exec(text)?.[1];
    const raw = exact ?? (typeof nd['[]'] === 'number' && Number.isInteger(nd['[]']) ? String(nd['[]']) : undefined);
    if (raw === undefined) return bad('nd_builtin_cache time.now_ns is not an integer');
    nowNs = BigInt(raw);
  }
  const labels = isObject(value.labels) ? value.labels : {};
  return {
    source,
    line,
    decisionId: value.decision_id,
    timestamp,
    endpoint,
    path: value.path,
    input: value.input,
    result: result as unknown as RecordedResult,
    nowNs,
    masked: Array.isArray(value.masked) ? value.masked.filter((m): m is string => typeof m === 'string') : [],
    revision: typeof labels.policy_set === 'string' ? labels.policy_set : '',
  };
}

/** Every record of one file, and what could not be read. */
export function readRecordFile(file: string): { records: ReadRecord[]; unreadable: Unreadable[] } {
  const text = readFileSync(file, 'utf8');
  const records: ReadRecord[] = [];
  const unreadable: Unreadable[] = [];
  const take = (r: ReadRecord | Unreadable) => ('decisionId' in r ? records.push(r) : unreadable.push(r));
  if (text.trimStart().startsWith('[')) {
    // OPA's upload format: one array; a time.now_ns beyond 2^53 is read as JSON.parse rounds it.
    try {
      const all = parseJson(text) as unknown;
      if (!Array.isArray(all)) throw new Error('not an array');
      all.forEach((v, i) => take(toRecord(v, undefined, file, i + 1)));
    } catch (err) {
      unreadable.push({ source: file, line: 1, reason: 'corrupt', detail: `not a JSON array: ${(err as Error).message}` });
    }
    return { records, unreadable };
  }
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n') || text.length === 0;
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = parseJson(raw);
    } catch (err) {
      const last = i === lines.length - 1 && !endsClean;
      unreadable.push({ source: file, line: i + 1, reason: last ? 'truncated' : 'corrupt', detail: (err as Error).message });
      return;
    }
    take(toRecord(value, raw, file, i + 1));
  });
  return { records, unreadable };
}
