/**
 * The `input` channel's admission rules, on top of the message gate's validation and per-type limits:
 *
 * - A release of a key or button this viewer holds always passes: a dropped key-up is a key stuck in
 *   the user's session.
 * - Pointer moves and wheel deltas that come faster than their limit are coalesced (the latest
 *   position; the sum of the deltas) and go out as soon as the limit allows: nothing but intermediate
 *   positions is lost. A coalesced move or wheel goes out before any later message, so a click lands
 *   where the pointer was last sent.
 * - Presses, `text` (by characters) and `clipboard` over their limit are dropped.
 * - When anything is dropped (over a limit, malformed, one press too many) while keys or buttons are
 *   held, all of them are released (`releaseAll`): the viewer's input has a hole, so what it holds can
 *   no longer be trusted to match the releases it will send.
 */
import { MAX_WHEEL_DELTA, parseInputMessage, type InputMessage } from '../../protocol/datachannel.js';
import { realTimers, type TimerHandle, type Timers } from '../../time/timers.js';
import { type Logger } from '../../log/logger.js';
import { createMessageGate, type GateCounters, type RateLimit } from './message-gate.js';

export type InputLimits = Record<InputMessage['type'], RateLimit>;

/**
 * Far above what a person at a browser produces (one move and a few wheel events per animation frame,
 * ~15 keys a second with auto-repeat at ~30), with bursts that absorb a few seconds of input queued
 * behind a stalled network. `text` counts characters: two full messages at once, one a second after.
 */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  pointer_move: { perSecond: 1000, burst: 1000 },
  wheel: { perSecond: 500, burst: 500 },
  key: { perSecond: 250, burst: 500 },
  pointer_button: { perSecond: 250, burst: 500 },
  text: { perSecond: 4096, burst: 8192 },
  // Each write of the session clipboard starts a process (xclip) on X11.
  clipboard: { perSecond: 5, burst: 5 },
};

/** Keys and buttons one viewer may hold at once; a press beyond is dropped. No keyboard rolls over more. */
export const MAX_HELD_INPUTS = 64;

export interface InputGateOptions {
  log: Pick<Logger, 'warn'>;
  limits?: Partial<InputLimits>;
  timers?: Timers;
  logIntervalMs?: number;
  /** Each admitted message, in the order the viewer sent them. */
  deliver(msg: InputMessage): void;
  /** Input was dropped while keys or buttons were held: release them all (the gate forgot them). */
  releaseAll(): void;
}

export interface InputGate {
  /** One message as it came off the channel. */
  receive(raw: unknown): void;
  readonly counters: Readonly<GateCounters>;
  /** Forgets coalesced input not yet delivered and stops its timers. */
  close(): void;
}

type Coalescible = Extract<InputMessage, { type: 'pointer_move' | 'wheel' }>;

interface Coalescer<M extends Coalescible> {
  type: M['type'];
  merge(pending: M, next: M): M;
  pending?: M;
  /** Order of the first message merged into `pending`, to deliver pending messages in order. */
  since: number;
  timer?: TimerHandle;
}

const clampDelta = (v: number): number => Math.max(-MAX_WHEEL_DELTA, Math.min(MAX_WHEEL_DELTA, v));

export function createInputGate(opts: InputGateOptions): InputGate {
  const timers = opts.timers ?? realTimers;
  const gate = createMessageGate({
    channel: 'input',
    parse: parseInputMessage,
    log: opts.log,
    limits: { default: DEFAULT_INPUT_LIMITS.key, ...DEFAULT_INPUT_LIMITS, ...opts.limits },
    logIntervalMs: opts.logIntervalMs,
    now: timers.now,
  });
  const { counters } = gate;
  /** `key:<code>` and `button:<name>` of what this viewer holds down. */
  const held = new Set<string>();
  let order = 0;
  let closed = false;
  const moves: Coalescer<Extract<Coalescible, { type: 'pointer_move' }>> = {
    type: 'pointer_move',
    merge: (_, next) => next,
    since: 0,
  };
  const wheels: Coalescer<Extract<Coalescible, { type: 'wheel' }>> = {
    type: 'wheel',
    merge: (a, b) => ({ type: 'wheel', dx: clampDelta(a.dx + b.dx), dy: clampDelta(a.dy + b.dy) }),
    since: 0,
  };
  const coalescers = [moves, wheels] as Coalescer<Coalescible>[];

  /** Delivers every coalesced message still pending, oldest first. */
  function flushPending(): void {
    const ready = coalescers.filter((c) => c.pending).sort((a, b) => a.since - b.since);
    for (const c of ready) {
      const msg = c.pending!;
      c.pending = undefined;
      timers.clearTimeout(c.timer);
      c.timer = undefined;
      counters.accepted++;
      opts.deliver(msg);
    }
  }

  function pass(msg: InputMessage): void {
    flushPending();
    counters.accepted++;
    opts.deliver(msg);
  }

  function coalesce<M extends Coalescible>(c: Coalescer<M>, msg: M): void {
    if (!c.pending && gate.take(c.type)) return pass(msg);
    if (c.pending) {
      counters.coalesced++;
      c.pending = c.merge(c.pending, msg);
    } else {
      c.pending = msg;
      c.since = ++order;
    }
    c.timer ??= timers.setTimeout(
      () => {
        c.timer = undefined;
        if (closed) return;
        // The token the pending message waited for (a flush ahead of another message clears this timer).
        gate.take(c.type);
        flushPending();
      },
      Math.max(1, gate.msUntil(c.type)),
    );
    c.timer.unref();
  }

  /** Whatever was dropped, release what is held: its matching release may have been in it. */
  function lost(): void {
    if (held.size === 0) return;
    const count = held.size;
    held.clear();
    flushPending();
    gate.dropLog.report(
      'released',
      { held: count },
      'input dropped while keys or buttons were held: released them',
    );
    opts.releaseAll();
  }

  function drop(type: InputMessage['type'], reason?: string): void {
    gate.reject(type, reason);
    lost();
  }

  return {
    counters,
    receive(raw) {
      if (closed) return;
      const msg = gate.parse(raw);
      if (!msg) return lost();
      switch (msg.type) {
        case 'pointer_move':
          return coalesce(moves, msg);
        case 'wheel':
          return coalesce(wheels, msg);
        case 'key':
        case 'pointer_button': {
          const id = msg.type === 'key' ? `key:${msg.code}` : `button:${msg.button}`;
          if (!msg.down && held.delete(id)) return pass(msg);
          if (msg.down && !held.has(id) && held.size >= MAX_HELD_INPUTS) {
            return drop(msg.type, `more than ${MAX_HELD_INPUTS} keys and buttons held`);
          }
          if (!gate.take(msg.type)) return drop(msg.type);
          if (msg.down) held.add(id);
          return pass(msg);
        }
        case 'text':
          if (!gate.take('text', msg.text.length)) return drop('text');
          return pass(msg);
        case 'clipboard':
          if (!gate.take('clipboard')) return drop('clipboard');
          return pass(msg);
      }
    },
    close() {
      closed = true;
      for (const c of coalescers) {
        timers.clearTimeout(c.timer);
        c.timer = undefined;
        c.pending = undefined;
      }
    },
  };
}
