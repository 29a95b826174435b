import { describe, expect, it } from 'vitest';
import { auditForwarder } from '../../src/helper/audit-forwarder.js';
import type { DesktopAuditEvent } from '../../src/protocol/audit-event.js';
import type { HelperAudit } from '../../src/protocol/ipc.js';

const event = (name: string): DesktopAuditEvent => ({
  kind: 'file_transfer',
  desktop: 'desk-1',
  direction: 'download',
  name,
  size: 7,
  outcome: 'complete',
});

function setup() {
  const sent: HelperAudit[] = [];
  const warnings: string[] = [];
  let now = 0;
  const log = { warn: (_o: object, m?: string) => warnings.push(m ?? ''), debug: () => {} };
  const forward = auditForwarder(
    (b) => sent.push(b),
    log,
    () => now,
  );
  return { sent, warnings, forward, advance: (ms: number) => (now += ms) };
}

describe('auditForwarder', () => {
  it('sends a valid event to the service as an audit message', () => {
    const t = setup();
    t.forward(event('a.txt'));
    expect(t.sent).toEqual([{ type: 'audit', event: event('a.txt') }]);
  });

  it('never sends an event the service would refuse (which would close the channel)', () => {
    const t = setup();
    t.forward(event(''));
    t.forward({ ...event('x'), size: -5 } as DesktopAuditEvent);
    expect(t.sent).toEqual([]);
    expect(t.warnings).toEqual(['audit event not sent: invalid', 'audit event not sent: invalid']);
  });

  it('sends at most 120 a minute, warning once, then sends again', () => {
    const t = setup();
    for (let i = 0; i < 200; i++) t.forward(event(`f${i}`));
    expect(t.sent).toHaveLength(120);
    expect(t.warnings).toHaveLength(1);
    t.advance(60_000);
    t.forward(event('later'));
    expect(t.sent).toHaveLength(121);
  });
});
