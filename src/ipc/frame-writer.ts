/**
 * The send path: envelope → msgpack → sealed frame → socket, with the size and queue bounds checked
 * before anything is queued. The socket's own write buffer is the queue; frames written in the same
 * tick are corked together so they leave in one writev instead of one syscall each.
 */
import type { Duplex } from 'node:stream';
import type { Kind } from './envelope.js';
import { BackpressureError, MessageTooLargeError } from './errors.js';
import { FRAME_OVERHEAD, type FrameSealer } from './frame.js';
import { encodePayload } from './payload.js';

export class FrameWriter {
  private corked = false;

  constructor(
    private readonly socket: Duplex,
    private readonly sealer: FrameSealer,
    private readonly maxFrameBytes: number,
    private readonly maxQueuedBytes: number,
  ) {}

  /**
   * Queues one frame; returns false when the socket is above its high-water mark. Throws
   * MessageTooLargeError or BackpressureError (nothing queued), or TypeError for a body that is not
   * plain data.
   */
  write(kind: Kind, id: number, body: unknown): boolean {
    const payload = encodePayload([kind, id, body]);
    const size = FRAME_OVERHEAD + payload.length;
    if (size > this.maxFrameBytes) throw new MessageTooLargeError(size, this.maxFrameBytes);
    const queued = this.socket.writableLength;
    if (queued + size > this.maxQueuedBytes) throw new BackpressureError(queued, this.maxQueuedBytes);
    const frame = this.sealer.seal(payload);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    return this.socket.write(frame);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}
