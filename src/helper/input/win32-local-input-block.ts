/**
 * Windows: `BlockInput(TRUE)` while a controlling viewer is connected (local-input-block.ts counts the
 * holds). Facts from its Remarks that shape this:
 *
 * - Only the thread that blocked may unblock, and only that thread's SendInput still gets through: it
 *   is called on the JS main thread, the one the injectors send from (win32-input-injector.ts).
 * - The system unblocks by itself when that thread exits (a crashed helper leaves nobody locked out)
 *   and when the person presses Ctrl+Alt+Del or a hard-error box appears: the person at the machine
 *   can always take the machine back. It is not blocked again after that; the next connection asks.
 * - It returns FALSE when input is already blocked, and needs the rights of an elevated or SYSTEM
 *   process (a helper in user-token mode is refused: logged, the desktop goes on).
 * - The thread follows the input desktop first (input-desktop-follower.ts), as for SendInput.
 *
 * Needs a real Windows to verify (Wine's BlockInput is a stub): VM steps in scripts/windows-vm-check.ps1.
 */
import type { Logger } from '../../log/logger.js';
import { lastError } from '../../native/win32/last-error.js';
import { user32 } from '../../native/win32/user32.js';
import { InputDesktopFollower } from '../win32-input-desktop/input-desktop-follower.js';
import { countedInputBlock, type LocalInputBlock } from './local-input-block.js';

export function createWin32LocalInputBlock(log: Pick<Logger, 'info' | 'warn' | 'debug'>): LocalInputBlock {
  const follower = new InputDesktopFollower({
    info: (o, m) => log.debug(o, m),
    warn: (o, m) => log.warn(o, m),
  });
  const block = countedInputBlock(
    {
      setBlocked(blocked) {
        follower.sync();
        if (!user32().BlockInput(blocked ? 1 : 0))
          throw lastError(`BlockInput(${blocked ? 'TRUE' : 'FALSE'})`);
      },
    },
    log,
  );
  return {
    hold: () => block.hold(),
    get holds() {
      return block.holds;
    },
    close() {
      block.close();
      follower.close();
    },
  };
}
