import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  icePassword,
  repairBindingRequest,
  repairTurnDatagram,
} from '../../../src/helper/webrtc/zero-tiebreaker.js';

const PASSWORD = 'helperIcePasswordForTests1';
const COOKIE = 0x2112a442;

function attr(type: number, value: Buffer): Buffer {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

function header(type: number, bodyLength: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(bodyLength, 2);
  h.writeUInt32BE(COOKIE, 4);
  Buffer.from('0123456789ab').copy(h, 8);
  return h;
}

/** A Binding request as a browser sends it: role, USE-CANDIDATE, PRIORITY, then integrity and fingerprint. */
function bindingRequest(opts: {
  role?: 'controlling' | 'controlled';
  tiebreaker: bigint;
  password?: string;
}): Buffer {
  const tb = Buffer.alloc(8);
  tb.writeBigUInt64BE(opts.tiebreaker);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(1845501951);
  const body = Buffer.concat([
    attr(0x0006, Buffer.from('abcd:efgh')),
    attr(0xc057, Buffer.from([0, 1, 0, 0])),
    attr(opts.role === 'controlled' ? 0x8029 : 0x802a, tb),
    attr(0x0025, Buffer.alloc(0)),
    attr(0x0024, priority),
  ]);
  const beforeMi = Buffer.concat([header(0x0001, body.length + 24), body]);
  const mi = createHmac('sha1', opts.password ?? PASSWORD)
    .update(beforeMi)
    .digest();
  const withMi = Buffer.concat([beforeMi, attr(0x0008, mi)]);
  withMi.writeUInt16BE(body.length + 24 + 8, 2);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(withMi) ^ 0x5354554e) >>> 0);
  return Buffer.concat([withMi, attr(0x8028, fp)]);
}

/** Checks a request the way its receiver would: integrity under PASSWORD, fingerprint, and the role value. */
function inspect(msg: Buffer): { integrityOk: boolean; fingerprintOk: boolean; tiebreaker: bigint } {
  let at = 20;
  let integrityOk = false;
  let fingerprintOk = false;
  let tiebreaker = -1n;
  while (at < msg.length) {
    const type = msg.readUInt16BE(at);
    const length = msg.readUInt16BE(at + 2);
    if (type === 0x802a || type === 0x8029) tiebreaker = msg.readBigUInt64BE(at + 4);
    if (type === 0x0008) {
      const covered = Buffer.from(msg.subarray(0, at));
      covered.writeUInt16BE(at + 24 - 20, 2);
      const mac = createHmac('sha1', PASSWORD).update(covered).digest();
      integrityOk = mac.equals(msg.subarray(at + 4, at + 24));
    }
    if (type === 0x8028) {
      fingerprintOk = (crc32(msg.subarray(0, at)) ^ 0x5354554e) >>> 0 === msg.readUInt32BE(at + 4);
    }
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return { integrityOk, fingerprintOk, tiebreaker };
}

function dataIndication(payload: Buffer): Buffer {
  const peer = attr(0x0012, Buffer.from([0, 1, 0x21, 0x12, 0x2b, 0x5f, 0xa4, 0x44]));
  const body = Buffer.concat([attr(0x0013, payload), peer]);
  const msg = Buffer.concat([header(0x0017, body.length + 8), body]);
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(msg) ^ 0x5354554e) >>> 0);
  return Buffer.concat([msg, attr(0x8028, fp)]);
}

function channelData(payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(0x4001, 0);
  h.writeUInt16BE(payload.length, 2);
  return Buffer.concat([h, payload]);
}

describe('repairBindingRequest', () => {
  it('gives a zero ICE-CONTROLLING the value 1 and signs the request again', () => {
    const before = bindingRequest({ tiebreaker: 0n });
    expect(inspect(before)).toEqual({ integrityOk: true, fingerprintOk: true, tiebreaker: 0n });
    const after = repairBindingRequest(before, PASSWORD);
    expect(after).toBeDefined();
    expect(after!.length).toBe(before.length);
    expect(inspect(after!)).toEqual({ integrityOk: true, fingerprintOk: true, tiebreaker: 1n });
  });

  it('repairs a zero ICE-CONTROLLED the same way', () => {
    const after = repairBindingRequest(bindingRequest({ role: 'controlled', tiebreaker: 0n }), PASSWORD);
    expect(inspect(after!)).toEqual({ integrityOk: true, fingerprintOk: true, tiebreaker: 1n });
  });

  it('leaves a non-zero tiebreaker alone', () => {
    expect(
      repairBindingRequest(bindingRequest({ tiebreaker: 0x0f7b324b41f090b3n }), PASSWORD),
    ).toBeUndefined();
  });

  it('never signs a request that was not signed with our password', () => {
    const forged = bindingRequest({ tiebreaker: 0n, password: 'someone else' });
    expect(repairBindingRequest(forged, PASSWORD)).toBeUndefined();
    const flipped = bindingRequest({ tiebreaker: 0n });
    const at = flipped.length - 30; // a byte of the integrity value
    flipped.writeUInt8(flipped.readUInt8(at) ^ 1, at);
    expect(repairBindingRequest(flipped, PASSWORD)).toBeUndefined();
  });

  it('rejects messages whose lengths do not add up', () => {
    const good = bindingRequest({ tiebreaker: 0n });
    expect(repairBindingRequest(good.subarray(0, good.length - 4), PASSWORD)).toBeUndefined();
    const longAttr = Buffer.from(good);
    longAttr.writeUInt16BE(0xfff0, 22); // USERNAME claims more than the message holds
    expect(repairBindingRequest(longAttr, PASSWORD)).toBeUndefined();
    const badCookie = Buffer.from(good);
    badCookie.writeUInt32BE(0, 4);
    expect(repairBindingRequest(badCookie, PASSWORD)).toBeUndefined();
    expect(repairBindingRequest(Buffer.alloc(3), PASSWORD)).toBeUndefined();
  });

  it('leaves other STUN methods and classes alone', () => {
    const response = bindingRequest({ tiebreaker: 0n });
    response.writeUInt16BE(0x0101, 0);
    expect(repairBindingRequest(response, PASSWORD)).toBeUndefined();
  });
});

describe('repairTurnDatagram', () => {
  it('repairs a check inside a Data indication and refreshes its fingerprint', () => {
    const before = dataIndication(bindingRequest({ tiebreaker: 0n }));
    const after = repairTurnDatagram(before, PASSWORD);
    expect(after).toBeDefined();
    expect(after!.length).toBe(before.length);
    // The indication's own fingerprint still holds; the inner request is the repaired one.
    const fpAt = after!.length - 8;
    expect(((crc32(after!.subarray(0, fpAt)) ^ 0x5354554e) >>> 0) >>> 0).toBe(after!.readUInt32BE(fpAt + 4));
    const innerLength = after!.readUInt16BE(22);
    expect(inspect(after!.subarray(24, 24 + innerLength)).tiebreaker).toBe(1n);
    expect(inspect(after!.subarray(24, 24 + innerLength)).integrityOk).toBe(true);
  });

  it('repairs a check inside ChannelData', () => {
    const after = repairTurnDatagram(channelData(bindingRequest({ tiebreaker: 0n })), PASSWORD);
    expect(after!.readUInt16BE(0)).toBe(0x4001);
    expect(inspect(after!.subarray(4))).toEqual({ integrityOk: true, fingerprintOk: true, tiebreaker: 1n });
  });

  it('passes media, DTLS and truncated frames through untouched', () => {
    expect(repairTurnDatagram(channelData(Buffer.from([0x80, 0x60, 1, 2, 3, 4])), PASSWORD)).toBeUndefined();
    expect(repairTurnDatagram(Buffer.from([0x16, 0xfe, 0xfd, 0, 0]), PASSWORD)).toBeUndefined();
    const truncated = channelData(bindingRequest({ tiebreaker: 0n })).subarray(0, 40);
    expect(repairTurnDatagram(truncated, PASSWORD)).toBeUndefined();
    expect(repairTurnDatagram(dataIndication(bindingRequest({ tiebreaker: 7n })), PASSWORD)).toBeUndefined();
  });
});

describe('icePassword', () => {
  it('reads a=ice-pwd from an SDP', () => {
    expect(icePassword('v=0\r\na=ice-ufrag:YCLQ\r\na=ice-pwd:DtK8/eDbvw+dLHjOs\r\n')).toBe(
      'DtK8/eDbvw+dLHjOs',
    );
    expect(icePassword('v=0\r\n')).toBeUndefined();
  });
});
