/**
 * What an API instance needs to know about the other instances behind the same load balancer: which
 * instance holds each agent's WebSocket, how to send a command to an agent held elsewhere, device
 * revocations, and a guard that lets a one-time token be spent once. Two implementations:
 * `LocalFleet` (local-fleet.ts, no Redis: one instance, behaviour as before) and `RedisFleet`
 * (redis-fleet.ts, `porthole api serve --redis redis://…`). open-fleet.ts picks one.
 */
import type { ApiCommandType, ResultByType } from '../../protocol/api.js';
import type { CommandPayload } from '../agent-connection.js';

/** A command for an agent, as the hub runs it: its result, or an HttpError (status + code). */
export interface AgentTarget {
  /** Where the agent's WebSocket is: this instance, or another one (relayed over Redis). */
  readonly where: 'local' | 'relayed';
  command<T extends ApiCommandType>(type: T, payload: CommandPayload<T>): Promise<ResultByType[T]>;
}

/** A command another instance relayed to this one, which holds (or held) the agent. */
export interface RelayedCommand {
  deviceId: string;
  type: ApiCommandType;
  payload: unknown;
  /** The agent said it waits for the person at the machine: the requester waits longer too. */
  onWaiting(timeoutMs: number): void;
}

export type Revocation = { kind: 'device_removed'; deviceId: string };

/** What the fleet calls back into the hub of this instance. */
export interface FleetHandlers {
  /** Another instance took this device's agent over: drop the connection held here, if any. */
  onTakeover(deviceId: string): void;
  /** Runs a command relayed from another instance on the agent held here (rejects with HttpError). */
  onCommand(cmd: RelayedCommand): Promise<unknown>;
  onRevocation(r: Revocation): void;
}

export interface Fleet {
  readonly kind: 'local' | 'redis';
  /** This instance's id (random per process start). */
  readonly instanceId: string;
  /** Where Redis is, without its password, for logs; empty for the local fleet. */
  readonly location: string;
  start(handlers: FleetHandlers): Promise<void>;
  /** Records that this instance now holds the device's agent; another holder is told to let go. */
  claim(deviceId: string): Promise<void>;
  /**
   * Renews the ownership of the agents held here (the heartbeat); returns the devices whose key now
   * names another instance (or none: it expired while Redis was unreachable and someone else took it).
   */
  refresh(deviceIds: readonly string[]): Promise<string[]>;
  /** Forgets the ownership, only if it is still this instance's (compare-and-delete). */
  release(deviceId: string): Promise<void>;
  /** The instance holding each device's agent (absent when none does). */
  owners(deviceIds: readonly string[]): Promise<Map<string, string>>;
  /** A target relaying commands for a device held by instance `owner`. */
  remote(owner: string, deviceId: string): AgentTarget;
  /** Tells every instance (this one included) about a revocation. */
  publishRevocation(r: Revocation): Promise<void>;
  /**
   * True the first time it is asked for `key` across all instances (within `ttlMs`), false after: the
   * one-time login token's single use with a store that cannot guarantee it across hosts.
   */
  spendOnce(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Makes this instance's public WebSocket-relay origin (`--ws-relay-origin`) known to the others, so
   * that a relay socket sent to the wrong instance is told where to go (design/API.md, 421).
   */
  advertiseRelayOrigin(origin: string): Promise<void>;
  /** The relay origin instance `instanceId` advertised, if it did and is alive. */
  relayOriginOf(instanceId: string): Promise<string | undefined>;
  close(): Promise<void>;
}
