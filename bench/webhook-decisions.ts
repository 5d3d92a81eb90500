// Both webhooks' answers to the same AdmissionReviews, compared: the decision-first step of the
// Gatekeeper side-by-side benchmark (bench/gatekeeper-webhook.ts). A review's decision is its
// `allowed` and the lines of its denial message (Gatekeeper's form: one `[constraint] msg` line
// per violation, which bouncer follows), compared as sorted lists.
import { Buffer } from 'node:buffer';
import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CorpusItem } from './corpus.js';
import { probeReview, type ConstraintSet } from './gatekeeper-constraints.js';

export type ServerName = 'gatekeeper' | 'bouncer';

export interface Server {
  readonly name: ServerName;
  readonly pid: number;
  readonly url: string;
  readonly caPem: string;
}

export const uidOf = (body: Buffer): string => (JSON.parse(body.toString('utf8')) as { request: { uid: string } }).request.uid;

export interface Answer {
  readonly status: number;
  readonly allowed?: boolean;
  readonly uid?: string;
  /** Violation messages, sorted: the denial message's lines. */
  readonly messages: readonly string[];
  readonly raw: string;
}

export function post(url: string, caPem: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: caPem, headers: { 'Content-Type': 'application/json', 'Content-Length': body.byteLength }, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          const review = JSON.parse(raw) as { response?: { uid?: string; allowed?: boolean; status?: { message?: string } } };
          const message = review.response?.status?.message ?? '';
          resolve({
            status: res.statusCode ?? 0,
            ...(review.response?.allowed === undefined ? {} : { allowed: review.response.allowed }),
            ...(review.response?.uid === undefined ? {} : { uid: review.response.uid }),
            messages: review.response?.allowed === false ? message.split('\n').filter((l) => l !== '').sort() : [],
            raw,
          });
        } catch {
          resolve({ status: res.statusCode ?? 0, messages: [], raw });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout from ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls `server` with the probe until its denial names every constraint of the set (the set is ingested). */
export async function waitIngested(server: Server, set: ConstraintSet, namespace: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const probe = probeReview(namespace);
  let last = '';
  while (Date.now() - started < timeoutMs) {
    const answer = await post(server.url, server.caPem, probe).catch((err: unknown) => ({ status: 0, messages: [], raw: String(err) }) as Answer);
    const named = new Set(answer.messages.map((m) => /^\[([^\]]+)\]/.exec(m)?.[1]));
    if (answer.status === 200 && set.constraintNames.every((n) => named.has(n)) && named.size === set.constraintNames.length) return Date.now() - started;
    last = answer.raw.slice(0, 300);
    await sleep(500);
  }
  throw new Error(`${server.name} did not name all ${set.constraintNames.length} constraints within ${timeoutMs} ms; last answer: ${last}`);
}

/** Sends every review to both servers; any difference in `allowed` or the violation messages fails the run. Returns uid → allowed. */
export async function compareDecisions(servers: readonly Server[], items: readonly CorpusItem[]): Promise<Map<string, boolean>> {
  const expected = new Map<string, boolean>();
  for (const item of items) {
    const answers = await Promise.all(servers.map((s) => post(s.url, s.caPem, item.body)));
    const [first, ...rest] = answers as [Answer, ...Answer[]];
    for (const [i, a] of answers.entries()) {
      if (a.status !== 200 || a.allowed === undefined) throw new Error(`${servers[i]?.name} answered review #${item.index} (${item.kind} ${item.operation}) with HTTP ${a.status}: ${a.raw.slice(0, 500)}`);
    }
    for (const [i, a] of rest.entries()) {
      if (a.allowed !== first.allowed || JSON.stringify(a.messages) !== JSON.stringify(first.messages)) {
        throw new Error(
          `decisions differ on review #${item.index} (${item.kind} ${item.operation}, ${item.body.byteLength} bytes):\n` +
            `  ${servers[0]?.name}: allowed=${String(first.allowed)} ${JSON.stringify(first.messages)}\n  ${servers[i + 1]?.name}: allowed=${String(a.allowed)} ${JSON.stringify(a.messages)}`,
        );
      }
    }
    expected.set(uidOf(item.body), first.allowed as boolean);
  }
  return expected;
}
