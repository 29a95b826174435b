/**
 * Keeping the session's own keyboard and mouse from reaching applications while a viewer controls it
 * (`access.blockLocalInput`, relayed as `desktop_start.blockLocalInput`). One block per helper, held by
 * every connected desktop that asked for it: the first hold blocks, releasing the last unblocks.
 *
 * Platforms: Windows `BlockInput` (win32-local-input-block.ts); X11 has no sound equivalent
 * (design/SESSION-POLICY.md, "Blocking local input"): there a hold only logs that nothing is blocked.
 * The factory is index.ts.
 */
import { errorMessage } from '../../errors/error-text.js';
import type { Logger } from '../../log/logger.js';

export interface LocalInputBlock {
  /** Blocks local input if nothing held it yet; the function returned releases this hold (once). */
  hold(): () => void;
  /** How many holds are open. */
  readonly holds: number;
  /** Releases everything (the helper is stopping). */
  close(): void;
}

/** The platform's switch; throws when the system refused. */
export interface InputBlockBackend {
  setBlocked(blocked: boolean): void;
}

/** Holds counted over one platform switch. A refused switch is logged; the desktop goes on. */
export function countedInputBlock(
  backend: InputBlockBackend,
  log: Pick<Logger, 'info' | 'warn'>,
): LocalInputBlock {
  let holds = 0;
  const set = (blocked: boolean): void => {
    try {
      backend.setBlocked(blocked);
      log.info({ blocked }, blocked ? 'local input blocked' : 'local input unblocked');
    } catch (err) {
      log.warn({ blocked, err: errorMessage(err) }, 'cannot switch the local input block');
    }
  };
  return {
    hold() {
      if (holds++ === 0) set(true);
      let released = false;
      return () => {
        if (released || holds === 0) return;
        released = true;
        if (--holds === 0) set(false);
      };
    },
    get holds() {
      return holds;
    },
    close() {
      if (holds === 0) return;
      holds = 0;
      set(false);
    },
  };
}

/** A platform that cannot block: each first hold says so, nothing else happens. */
export function unsupportedInputBlock(reason: string, log: Pick<Logger, 'warn'>): LocalInputBlock {
  let holds = 0;
  return {
    hold() {
      if (holds++ === 0)
        log.warn({ reason }, 'access.blockLocalInput is set but local input cannot be blocked here');
      let released = false;
      return () => {
        if (released || holds === 0) return;
        released = true;
        holds--;
      };
    },
    get holds() {
      return holds;
    },
    close() {
      holds = 0;
    },
  };
}
