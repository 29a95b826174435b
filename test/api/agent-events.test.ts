/**
 * Audit events from the device (`{type: "event"}` on the agent link, feature `audit_events`): written
 * to the audit log with the viewer the API remembers for that desktop, validated, and limited per
 * connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiLinkHeaders } from '../../src/protocol/api-version.js';
import { waitFor } from '../fixtures/wait-for.js';
import { OFFER, connectAgent, healthyAgent, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ commandTimeoutMs: 2000 });
});
afterAll(() => h.close());

const upload = (desktop: string, name = 'notes.txt', outcome = 'complete') => ({
  type: 'event',
  targetSessionId: 1,
  event: { kind: 'file_transfer', desktop, direction: 'upload', name, size: 42, outcome },
});

describe('agent events in the audit log', () => {
  it('writes a file transfer with the viewer who started that desktop, metadata only', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const r = await h.request('POST', `/api/devices/${h.device.id}/desktop`, { offer: OFFER });
    expect(r.status).toBe(200);
    const desktop = r.body.sessionId as string;
    agent.ws.send(JSON.stringify(upload(desktop)));
    agent.ws.send(JSON.stringify(upload(desktop, 'big.iso', 'cancelled')));
    await waitFor(async () => (await h.audit()).filter((l) => l.action === 'file_transfer').length === 2, {
      what: 'two file_transfer lines',
    });
    const lines = (await h.audit()).filter((l) => l.action === 'file_transfer');
    expect(lines[0]).toMatchObject({
      viewer: 'alice',
      device: h.device.id,
      desktopSessionId: desktop,
      targetSessionId: 1,
      direction: 'upload',
      file: 'notes.txt',
      size: 42,
      ok: true,
    });
    expect(lines[1]).toMatchObject({ file: 'big.iso', ok: false, code: 'cancelled' });
    await agent.close();
  });

  it('ignores an invalid event (a field beyond the metadata) and keeps the connection', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const before = (await h.audit()).length;
    const bad = upload('desk-x');
    agent.ws.send(JSON.stringify({ ...bad, event: { ...bad.event, contents: 'secret' } }));
    agent.ws.send(
      JSON.stringify({ type: 'event', targetSessionId: 1, event: { kind: 'chat_text', desktop: 'd' } }),
    );
    agent.ws.send(JSON.stringify(upload('desk-x', 'ok.txt')));
    await waitFor(async () => (await h.audit()).slice(before).some((l) => l.file === 'ok.txt'), {
      what: 'the valid event',
    });
    const written = (await h.audit()).slice(before).filter((l) => l.action === 'file_transfer');
    expect(written.map((l) => l.file)).toEqual(['ok.txt']);
    // Unknown desktop: no viewer is made up.
    expect(written[0]?.viewer).toBeNull();
    expect((await h.request('GET', `/api/devices/${h.device.id}/sessions`)).status).toBe(200);
    await agent.close();
  });

  it('writes at most 120 events a minute from one connection', async () => {
    const agent = await connectAgent(h.server, h.device, healthyAgent, { headers: apiLinkHeaders() });
    const before = (await h.audit()).length;
    for (let i = 0; i < 300; i++) agent.ws.send(JSON.stringify(upload('desk-flood', `f${i}`)));
    // A command after the flood: its reply proves every event before it was read.
    expect((await h.request('GET', `/api/devices/${h.device.id}/sessions`)).status).toBe(200);
    expect((await h.audit()).slice(before).filter((l) => l.action === 'file_transfer')).toHaveLength(120);
    await agent.close();
  });
});
