/**
 * Check 4: 50 viewers asking for one session at the same moment never get more than the helper's
 * 8 desktops, and those turned away hear the documented capacity answer with a Retry-After. Guards
 * issue 13 #6 (the cap checked before an await and counted after it: 50 POSTs started 32 desktops)
 * and #7 (capacity answered 502/400).
 *
 * Both identities are exercised: 50 different viewers (each its own token) meet the session's cap,
 * 503 `too_many_viewers`; then one viewer sending 50 meets its share of 2 unconnected desktops, 429
 * `rate_limited`. With 50 commands at once the service's own in-flight limit (32) may answer first:
 * 503 `busy`, also documented (design/PROTOCOL.md).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestOfferer, type TestOfferer } from '../fixtures/webrtc-offerer.js';
import { checkRecorder } from './results.js';
import { startSoakStack, type ApiAnswer, type SoakStack } from './stack.js';

const VIEWERS = 50;
const CAP = 8;
const PER_VIEWER_PENDING = 2;

const results = checkRecorder('capacity', '50 concurrent start_desktop to one session');
let stack: SoakStack;
let helper: number;
const offerers: TestOfferer[] = [];
const started: string[] = [];

beforeAll(async () => {
  stack = await startSoakStack();
  stack.startService();
  helper = await stack.readyHelper();
});

afterEach(async () => {
  await Promise.all(started.splice(0).map((id) => stack.stopDesktop(id).catch(() => undefined)));
  for (const o of offerers.splice(0)) o.close();
});

afterAll(async () => {
  results.write();
  await stack?.stop();
});

/** 50 offers posted at once, `tokenFor(i)` signing the i-th. */
async function storm(tokenFor: (i: number) => string): Promise<ApiAnswer[]> {
  const viewers = await Promise.all(Array.from({ length: VIEWERS }, () => createTestOfferer()));
  offerers.push(...viewers);
  const answers = await Promise.all(
    viewers.map((v, i) => stack.startDesktop(v.offer, { token: tokenFor(i) })),
  );
  for (const a of answers) if (a.status === 200 && a.body.sessionId) started.push(a.body.sessionId);
  return answers;
}

/** "503 too_many_viewers ×34" and the like. */
function tally(answers: ApiAnswer[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const key = a.status === 200 ? '200' : `${a.status} ${a.body.error?.code ?? '?'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const show = (counts: Map<string, number>): string => [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');

const retryAfters = (answers: ApiAnswer[]): string =>
  [...new Set(answers.filter((a) => a.status !== 200).map((a) => a.retryAfter ?? 'none'))].join(', ');

describe('50 start_desktop at once through the API', () => {
  it('starts at most 8 desktops for 50 viewers and answers the rest 503 with Retry-After', async () => {
    const rec = results.item(
      '50 viewers',
      `${VIEWERS} viewers (a token each) post an offer for the same session at once: exactly ${CAP} get an ` +
        'answer, every other one 503 `too_many_viewers` (or `busy`, the agent’s in-flight limit) with a ' +
        'Retry-After; then a new viewer connects once those desktops are stopped.',
    );
    const tokens = await Promise.all(
      Array.from({ length: VIEWERS }, (_, i) => stack.issueViewerToken(`storm-${i}`)),
    );
    const t0 = performance.now();
    const answers = await storm((i) => tokens[i]!);
    rec.set('all answered after (ms)', performance.now() - t0);
    const counts = tally(answers);
    rec.set('answers', show(counts));
    rec.set('Retry-After values (s)', retryAfters(answers));
    const refused = answers.filter((a) => a.status !== 200);
    expect(counts.get('200')).toBe(CAP);
    for (const a of refused) {
      expect([a.status, a.body.error?.code]).toSatisfy(
        ([s, c]: [number, string]) => s === 503 && (c === 'too_many_viewers' || c === 'busy'),
      );
      expect(a.retryAfter).toBeGreaterThanOrEqual(1);
    }
    expect(counts.get('503 too_many_viewers') ?? 0).toBeGreaterThan(0);

    // The slots come back: with the 8 stopped, a viewer connects and receives video.
    await Promise.all(started.splice(0).map((id) => stack.stopDesktop(id)));
    const viewer = await createTestOfferer();
    offerers.push(viewer);
    let packets = 0;
    viewer.onRtp(() => (packets += 1));
    const r = await stack.startDesktop(viewer.offer);
    expect(r.status).toBe(200);
    started.push(r.body.sessionId!);
    viewer.setAnswer(r.body.answer!);
    await viewer.ready(15_000);
    rec.set('a new viewer afterwards', 'connected');
    expect(stack.helperPids()).toEqual([helper]);
    rec.passed();
  });

  it('starts at most 2 unconnected desktops for one viewer sending 50, and answers the rest 429', async () => {
    const rec = results.item(
      'one viewer, 50 offers',
      `One viewer (one token) posts ${VIEWERS} offers at once: ${PER_VIEWER_PENDING} get an answer (its share ` +
        'of unconnected desktops), every other one 429 `rate_limited` (or 503 `busy`) with a Retry-After.',
    );
    const answers = await storm(() => stack.viewerToken);
    const counts = tally(answers);
    rec.set('answers', show(counts));
    rec.set('Retry-After values (s)', retryAfters(answers));
    expect(counts.get('200')).toBe(PER_VIEWER_PENDING);
    for (const a of answers.filter((x) => x.status !== 200)) {
      expect([a.status, a.body.error?.code]).toSatisfy(
        ([s, c]: [number, string]) => (s === 429 && c === 'rate_limited') || (s === 503 && c === 'busy'),
      );
      expect(a.retryAfter).toBeGreaterThanOrEqual(1);
    }
    expect(counts.get('429 rate_limited') ?? 0).toBeGreaterThan(0);
    rec.passed();
  });
});
