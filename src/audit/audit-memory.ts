// What the audit remembers between runs, so that an object is evaluated again only when
// something its verdict depends on changed: its resourceVersion, the policy set (by digest:
// a new set forgets everything), or its stamp (the Namespace's labels and annotations when
// Gatekeeper constraints may read them, and the version of the data the policies read).
// Per object it keeps the resourceVersion, the stamp and its compact results (findings and
// the ids of the policies it passed; strings shared with the policy set, not copied).
// Bounded: past maxObjects, further objects are evaluated every run and not remembered.
// Objects not seen by a completed run are forgotten (deleted, or their kind could not be
// listed), so their results disappear with them.
import type { ObjectResults } from './audit-findings.js';

interface Remembered {
  readonly resourceVersion: string;
  readonly stamp: string;
  readonly results: ObjectResults;
  run: number;
}

export class AuditMemory {
  private readonly entries = new Map<string, Remembered>();
  private digest: string | undefined;
  private run = 0;
  constructor(private readonly maxObjects: number) {}

  /** Starts a run against the policy set with this digest. */
  begin(digest: string): void {
    if (digest !== this.digest) this.entries.clear();
    this.digest = digest;
    this.run += 1;
  }

  /** The results remembered for the object, when its resourceVersion and stamp are unchanged; marks it seen. */
  recall(key: string, resourceVersion: string | undefined, stamp: string): ObjectResults | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    entry.run = this.run;
    if (resourceVersion === undefined || entry.resourceVersion !== resourceVersion || entry.stamp !== stamp) return undefined;
    return entry.results;
  }

  remember(key: string, resourceVersion: string | undefined, stamp: string, results: ObjectResults): void {
    if (resourceVersion === undefined) return;
    if (!this.entries.has(key) && this.entries.size >= this.maxObjects) return;
    this.entries.set(key, { resourceVersion, stamp, results, run: this.run });
  }

  /** Ends a completed run: forgets every object it did not see; returns how many. */
  end(): number {
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      if (entry.run !== this.run) {
        this.entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  get size(): number {
    return this.entries.size;
  }
}
