// Replays every seed and past crasher in test/fixtures/seeds/ through the HTTP edge: each
// must get a deliberate answer (a v1 review echoing its uid when it has one, or a 4xx).
// `npm run fuzz` writes a new crasher here when it finds one.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { webhookApp } from '../support/webhook-app.js';

const DIR = 'test/fixtures/seeds';
const seeds = readdirSync(DIR).filter((f) => f.endsWith('.bin') || f.endsWith('.json'));

describe('seed and crasher replay', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await webhookApp({ starter: inject('bundles').starter as string, basic: inject('bundles').basic as string });
  });
  afterAll(() => app.close());

  it('has seeds to replay', () => expect(seeds.length).toBeGreaterThanOrEqual(5));

  it.each(seeds)('%s', async (file) => {
    const payload = readFileSync(join(DIR, file));
    for (const endpoint of ['validate', 'mutate']) {
      const res = await app.inject({ method: 'POST', url: `/${endpoint}`, headers: { 'content-type': 'application/json' }, payload });
      const answer = res.json();
      if (res.statusCode === 200) expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: expect.any(String) } });
      else {
        // Not an answer in-band: then a precise client error, never a 5xx.
        expect(res.statusCode, `${file} on /${endpoint}: ${res.body}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, `${file} on /${endpoint}: ${res.body}`).toBeLessThan(500);
        expect(answer).toMatchObject({ kind: 'Status', code: res.statusCode });
      }
    }
  });
});
