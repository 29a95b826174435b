import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  parseHelperToService,
  parseServiceToHelper,
  type HelperToService,
  type ServiceToHelper,
} from '../../src/protocol/ipc.js';
import { desktopId, display, iceServer, osSession, sdpText } from './arbitraries.js';

const packr = new Packr({ useRecords: false });
const viaMsgpack = (v: unknown): unknown => packr.unpack(packr.pack(v));

const serviceToHelper: fc.Arbitrary<ServiceToHelper> = fc.oneof(
  fc.record(
    {
      type: fc.constant('desktop_start' as const),
      sessionId: desktopId,
      offer: sdpText,
      iceServers: fc.array(iceServer, { maxLength: 8 }),
      displayIndex: fc.integer({ min: 0, max: 15 }),
      viewer: fc.record({ name: fc.string({ minLength: 1, maxLength: 256 }) }),
      permissions: fc.record({ control: fc.boolean(), files: fc.boolean() }),
    },
    { requiredKeys: ['type', 'sessionId', 'offer', 'iceServers', 'displayIndex'] },
  ),
  fc.record({ type: fc.constant('desktop_stop' as const), sessionId: desktopId }),
  fc.record({ type: fc.constant('shutdown' as const), reason: fc.string({ maxLength: 100 }) }),
  fc.record(
    {
      type: fc.constant('secure_attention_result' as const),
      outcome: fc.constantFrom('sent', 'unsupported', 'rate_limited', 'failed'),
      reason: fc.string({ maxLength: 1000 }),
      retryAfterMs: fc.integer({ min: 0, max: 3_600_000 }),
    },
    { requiredKeys: ['type', 'outcome'] },
  ),
);

const helperToService: fc.Arbitrary<HelperToService> = fc.oneof(
  fc.record(
    {
      type: fc.constant('capabilities' as const),
      sessionId: osSession,
      canCapture: fc.boolean(),
      displays: fc.array(display, { maxLength: 16 }),
      pid: fc.integer({ min: 1, max: 0x7fff_ffff }),
      platform: fc.constantFrom('linux', 'win32'),
      reason: fc.string({ maxLength: 50 }),
    },
    { requiredKeys: ['type', 'sessionId', 'canCapture', 'displays', 'pid', 'platform'] },
  ),
  fc.record({ type: fc.constant('desktop_started' as const), sessionId: desktopId, answer: sdpText }),
  fc.record({ type: fc.constant('desktop_stopped' as const), sessionId: desktopId, existed: fc.boolean() }),
  fc.record(
    {
      type: fc.constant('log' as const),
      level: fc.constantFrom('debug', 'info', 'warn', 'error'),
      msg: fc.string({ maxLength: 200 }),
      fields: fc.dictionary(
        fc.stringMatching(/^[a-z]{1,10}$/),
        fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null)),
        { maxKeys: 5 },
      ),
    },
    { requiredKeys: ['type', 'level', 'msg'] },
  ),
  fc.record(
    {
      type: fc.constant('event' as const),
      name: fc.constantFrom('viewer_connected', 'viewer_disconnected', 'desktop_closed', 'display_changed'),
      sessionId: desktopId,
      detail: fc.string({ maxLength: 50 }),
    },
    { requiredKeys: ['type', 'name'] },
  ),
  fc.constant({ type: 'secure_attention' as const }),
);

describe('IPC bodies', () => {
  it('round-trips any valid service → helper body through msgpack', () => {
    fc.assert(
      fc.property(serviceToHelper, (body) => {
        expect(parseServiceToHelper(viaMsgpack(body))).toEqual(body);
      }),
    );
  });

  it('round-trips any valid helper → service body through msgpack', () => {
    fc.assert(
      fc.property(helperToService, (body) => {
        expect(parseHelperToService(viaMsgpack(body))).toEqual(body);
      }),
    );
  });

  it('keeps directions apart: a helper cannot send desktop_start, the service cannot send capabilities', () => {
    expect(() =>
      parseHelperToService({
        type: 'desktop_start',
        sessionId: 's',
        offer: 'v=0',
        iceServers: [],
        displayIndex: 0,
      }),
    ).toThrow(/type/);
    expect(() =>
      parseServiceToHelper({
        type: 'capabilities',
        sessionId: 1,
        canCapture: true,
        displays: [],
        pid: 1,
        platform: 'x',
      }),
    ).toThrow(/type/);
  });

  it('takes an optional viewer identity in desktop_start, with a name and nothing else', () => {
    const start = { type: 'desktop_start', sessionId: 's', offer: 'v=0', iceServers: [], displayIndex: 0 };
    expect(parseServiceToHelper({ ...start, viewer: { name: 'alice' } })).toEqual({
      ...start,
      viewer: { name: 'alice' },
    });
    expect(() => parseServiceToHelper({ ...start, viewer: { name: '' } })).toThrow(/^viewer\.name:/);
    expect(() => parseServiceToHelper({ ...start, viewer: { name: 'a', role: 'admin' } })).toThrow(
      /^viewer\.role:/,
    );
  });

  it('takes optional permissions in desktop_start: both booleans, nothing else', () => {
    const start = { type: 'desktop_start', sessionId: 's', offer: 'v=0', iceServers: [], displayIndex: 0 };
    const permissions = { control: false, files: false };
    expect(parseServiceToHelper({ ...start, permissions })).toEqual({ ...start, permissions });
    expect(() => parseServiceToHelper({ ...start, permissions: { control: false } })).toThrow(
      /^permissions\.files:/,
    );
    expect(() => parseServiceToHelper({ ...start, permissions: { control: 0, files: false } })).toThrow(
      /^permissions\.control:/,
    );
    expect(() =>
      parseServiceToHelper({ ...start, permissions: { control: false, files: false, admin: true } }),
    ).toThrow(/^permissions\.admin:/);
  });

  it('rejects capabilities with an impossible display', () => {
    expect(() =>
      parseHelperToService({
        type: 'capabilities',
        sessionId: 1,
        canCapture: true,
        pid: 5,
        platform: 'linux',
        displays: [{ index: 0, name: 'x', x: 0, y: 0, width: 0, height: 10, primary: true }],
      }),
    ).toThrow(/displays\[0\]\.width/);
  });

  it('rejects log fields that are objects or too many', () => {
    expect(() =>
      parseHelperToService({ type: 'log', level: 'info', msg: 'm', fields: { a: { b: 1 } } }),
    ).toThrow(/fields\.a/);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
    expect(() => parseHelperToService({ type: 'log', level: 'info', msg: 'm', fields: many })).toThrow(
      /at most 32/,
    );
  });

  it('takes Ctrl+Alt+Del as a bare helper request, naming no session, and only from a helper', () => {
    expect(parseHelperToService({ type: 'secure_attention' })).toEqual({ type: 'secure_attention' });
    // The service picks the session it spawned the helper into: a helper cannot name another.
    expect(() => parseHelperToService({ type: 'secure_attention', sessionId: 2 })).toThrow(
      /^sessionId: is not a known field/,
    );
    expect(() => parseServiceToHelper({ type: 'secure_attention' })).toThrow(/^type:/);
    expect(() => parseHelperToService({ type: 'secure_attention_result', outcome: 'sent' })).toThrow(
      /^type:/,
    );
  });

  it('checks every field of the service’s answer to Ctrl+Alt+Del', () => {
    const ok = {
      type: 'secure_attention_result',
      outcome: 'rate_limited',
      reason: 'wait',
      retryAfterMs: 4000,
    };
    expect(parseServiceToHelper(ok)).toEqual(ok);
    expect(() => parseServiceToHelper({ ...ok, outcome: 'maybe' })).toThrow(/^outcome: must be one of/);
    expect(() => parseServiceToHelper({ ...ok, reason: 'x'.repeat(1001) })).toThrow(
      /^reason: must have at most 1000 characters/,
    );
    expect(() => parseServiceToHelper({ ...ok, retryAfterMs: -1 })).toThrow(/^retryAfterMs: must be between/);
    expect(() => parseServiceToHelper({ ...ok, retryAfterMs: 1.5 })).toThrow(
      /^retryAfterMs: expected an integer/,
    );
    expect(() => parseServiceToHelper({ type: 'secure_attention_result' })).toThrow(/^outcome: is required/);
    expect(() => parseServiceToHelper({ ...ok, session: 1 })).toThrow(/^session: is not a known field/);
  });
});
