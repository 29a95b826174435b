/**
 * The two doors every viewer's messages go through, whatever carries them (DataChannels, or the
 * WebSocket relay): the input gate (per-kind limits, releases never dropped) and the control gate.
 * One constructor for both transports, so a relayed viewer never gets a weaker parser or looser limits.
 */
import { parseControlMessage, type ControlMessage, type InputMessage } from '../../protocol/datachannel.js';
import { type Logger } from '../../log/logger.js';
import { type Timers } from '../../time/timers.js';
import { createInputGate, type InputGate, type InputLimits } from './input-gate.js';
import {
  createMessageGate,
  DEFAULT_CONTROL_LIMITS,
  type MessageGate,
  type RateLimit,
} from './message-gate.js';

export interface ViewerGatesOptions {
  log: Pick<Logger, 'warn'>;
  timers: Timers;
  inputLimits?: Partial<InputLimits> | undefined;
  controlLimits?: Partial<Record<ControlMessage['type'], RateLimit>> & { default: RateLimit };
  /** Each admitted input message, in the viewer's order. */
  onInput(msg: InputMessage): void;
  /** Input was dropped while keys or buttons were held: release them all. */
  onReleaseAll(): void;
}

export interface ViewerGates {
  input: InputGate;
  control: MessageGate<ControlMessage>;
}

export function createViewerGates(opts: ViewerGatesOptions): ViewerGates {
  return {
    input: createInputGate({
      log: opts.log,
      limits: opts.inputLimits,
      timers: opts.timers,
      deliver: opts.onInput,
      releaseAll: opts.onReleaseAll,
    }),
    control: createMessageGate({
      log: opts.log,
      channel: 'control',
      parse: parseControlMessage,
      limits: opts.controlLimits ?? DEFAULT_CONTROL_LIMITS,
      now: opts.timers.now,
    }),
  };
}
