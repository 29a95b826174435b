/** The IPC messages between `npm run bench:fleet` and its agent workers (agent-worker.ts). */

export interface WorkerAgent {
  deviceId: string;
  token: string;
  /** The API instance this agent tries first. */
  firstIndex: number;
}

export type ToWorker =
  { type: 'start'; urls: string[]; agents: WorkerAgent[]; connectPerSecond: number } | { type: 'stop' };

/** [device id, index of the instance now holding it or -1, Date.now() of the change]. */
export type StateChange = [string, number, number];

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'started'; agents: number }
  | { type: 'states'; changes: StateChange[] };
