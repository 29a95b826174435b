/**
 * The fleet of one: no Redis configured. Every agent this API knows is held by this process, so there
 * is nothing to claim, relay or publish to others; a revocation goes straight to this instance's hub.
 */
import { randomBytes } from 'node:crypto';
import { HttpError } from '../http-json.js';
import type { AgentTarget, Fleet, FleetHandlers, Revocation } from './fleet.js';

export class LocalFleet implements Fleet {
  readonly kind = 'local';
  readonly location = '';
  readonly instanceId = randomBytes(6).toString('hex');
  private handlers: FleetHandlers | undefined;
  private relayOrigin: string | undefined;

  async start(handlers: FleetHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async claim(): Promise<void> {}

  async refresh(): Promise<string[]> {
    return [];
  }

  async release(): Promise<void> {}

  async owners(): Promise<Map<string, string>> {
    return new Map();
  }

  remote(_owner: string, deviceId: string): AgentTarget {
    // Unreachable: owners() never names another instance.
    return {
      where: 'relayed',
      command: () =>
        Promise.reject(
          new HttpError(409, 'device_offline', `device '${deviceId}' is not connected to the API right now`),
        ),
    };
  }

  async publishRevocation(r: Revocation): Promise<void> {
    this.handlers?.onRevocation(r);
  }

  /** The store already spends a one-time token atomically within one process. */
  async spendOnce(): Promise<boolean> {
    return true;
  }

  async advertiseRelayOrigin(origin: string): Promise<void> {
    this.relayOrigin = origin;
  }

  /** There are no other instances: only this one's own origin is known. */
  async relayOriginOf(instanceId: string): Promise<string | undefined> {
    return instanceId === this.instanceId ? this.relayOrigin : undefined;
  }

  async close(): Promise<void> {
    this.handlers = undefined;
  }
}
