/**
 * The viewer side of scripts/windows-vm-check.ps1, step 11, on a real Windows: plays the API (the
 * test stand-in of test/fixtures/test-api.ts, which the installed service connects to) and a viewer
 * (the node-datachannel offerer of the tests), and checks through the real service and SYSTEM helper:
 *
 *   frames     a desktop_start answered and H.264 received;
 *   click      an injected click on Default lands where asked (GetCursorPos here, and the helper's
 *              cursor message);
 *   sas-policy Ctrl+Alt+Del with SoftwareSASGeneration missing: the viewer is told the policy and how
 *              to set it (the policy is removed for this step and restored afterwards);
 *   sas        Ctrl+Alt+Del with the policy at 1: the helper follows the session to Winlogon, and an
 *              injected Escape brings it back to Default;
 *   winlogon   the workstation locked, an injected click lands on the Winlogon desktop (read from the
 *              helper's cursor messages: this process cannot read the cursor there).
 *
 * Run by the PowerShell script as the elevated console user: `node node_modules/tsx/dist/cli.mjs
 * scripts/windows-vm-desktop.ts <ready-file> <result-file> <log-dir> <console-session>`. It writes the
 * API's URL, device id and token to the ready file, waits for the service, and appends one JSON line
 * `{step, result, detail}` per check to the result file. It leaves the workstation locked.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { user32 } from '../src/native/win32/user32.js';
import { ensureProcessDpiAware } from '../src/helper/win32-input-desktop/dpi-awareness.js';
import { toDesktopPoint } from '../src/helper/input/input-injector.js';
import type { DisplayInfo } from '../src/protocol/common.js';
import type { SessionInfo } from '../src/protocol/api.js';
import { SAS_POLICY_KEY, SAS_POLICY_VALUE } from '../src/service/secure-attention.js';
import { startTestApi } from '../test/fixtures/test-api.js';
import { createTestOfferer } from '../test/fixtures/webrtc-offerer.js';

const [readyFile, resultFile, logDir, sessionArg] = process.argv.slice(2);
if (!readyFile || !resultFile || !logDir || sessionArg === undefined) {
  throw new Error('usage: windows-vm-desktop.ts <ready-file> <result-file> <log-dir> <console-session>');
}
const session = Number(sessionArg);
const helperLog = join(logDir, `helper-${session}.log`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function report(step: string, result: 'PASS' | 'FAIL' | 'INCONCLUSIVE', detail: string): void {
  appendFileSync(resultFile!, `${JSON.stringify({ step, result, detail })}\n`);
  console.log(`${result} ${step}: ${detail}`);
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Helper log lines written after byte `from` (pino JSON). */
function helperLines(from: number): { msg?: string; to?: string }[] {
  if (!existsSync(helperLog)) return [];
  return readFileSync(helperLog)
    .subarray(from)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; to?: string });
}
const helperLogSize = () => (existsSync(helperLog) ? statSync(helperLog).size : 0);
const followed = (from: number, desktop: string) =>
  helperLines(from).some((l) => l.msg === 'following the input desktop' && l.to === desktop);

/** The policy's value now, or undefined; set (a number) or removed (undefined) with reg.exe. */
function readPolicy(): number | undefined {
  try {
    const out = execFileSync('reg', ['query', `HKLM\\${SAS_POLICY_KEY}`, '/v', SAS_POLICY_VALUE], {
      encoding: 'utf8',
    });
    const m = /REG_DWORD\s+0x([0-9a-f]+)/i.exec(out);
    return m ? parseInt(m[1]!, 16) : undefined;
  } catch {
    return undefined;
  }
}
function writePolicy(value: number | undefined): void {
  const key = `HKLM\\${SAS_POLICY_KEY}`;
  if (value === undefined) {
    if (readPolicy() !== undefined) execFileSync('reg', ['delete', key, '/v', SAS_POLICY_VALUE, '/f']);
  } else {
    execFileSync('reg', ['add', key, '/v', SAS_POLICY_VALUE, '/t', 'REG_DWORD', '/d', String(value), '/f']);
  }
}

async function main(): Promise<void> {
  ensureProcessDpiAware();
  const deviceId = 'vmcheck';
  const token = randomBytes(24).toString('hex');
  const api = await startTestApi({ deviceId, token });
  writeFileSync(readyFile!, JSON.stringify({ url: api.url, deviceId, token }));
  await api.agent();
  let seq = 0;
  const command = async (type: string, payload?: object) => {
    const r = await api.command({ id: `vm-${++seq}`, type, ...(payload ? { payload } : {}) }, 60_000);
    if (!r.ok) throw new Error(`${type}: ${r.error.code} ${r.error.message}`);
    return r.result;
  };
  // The console session's helper ready (the service may still be spawning it).
  const end = Date.now() + 60_000;
  for (;;) {
    const { sessions } = (await command('list_sessions')) as { sessions: SessionInfo[] };
    if (sessions.some((s) => s.sessionId === session && s.helperConnected)) break;
    if (Date.now() > end)
      throw new Error(`no ready helper in session ${session}: ${JSON.stringify(sessions)}`);
    await sleep(500);
  }

  const viewer = await createTestOfferer();
  let frames = 0;
  viewer.onRtp((p) => {
    if (((p[1] ?? 0) & 0x80) !== 0) frames++; // the marker bit ends an access unit
  });
  const started = (await command('start_desktop', {
    sessionId: 'vm-desktop',
    offer: viewer.offer,
    iceServers: [],
    targetSessionId: session,
    displayIndex: 0,
  })) as { answer: string };
  viewer.setAnswer(started.answer);
  await viewer.ready(20_000);
  const send = (label: 'input' | 'control', msg: object) =>
    viewer.channels[label].sendMessage(JSON.stringify(msg));
  const control = () =>
    viewer.received('control').map((t) => JSON.parse(t) as { type: string } & Record<string, unknown>);
  const cursors = () =>
    viewer
      .received('cursor')
      .map((t) => JSON.parse(t) as { type: string; x: number; y: number })
      .filter((m) => m.type === 'cursor');
  const heartbeat = setInterval(() => send('control', { type: 'heartbeat' }), 1000);

  try {
    try {
      await until('10 frames', 15_000, () => frames >= 10);
      report(
        'frames',
        'PASS',
        `${frames} H.264 frames received from the SYSTEM helper in session ${session}`,
      );
    } catch (err) {
      report('frames', 'FAIL', `${String(err)} (${frames} frames)`);
    }

    const displays = await until('the display list', 10_000, () => {
      const d = control().find((m) => m.type === 'displays');
      return d ? (d.displays as DisplayInfo[]) : undefined;
    });
    const rect = displays[0]!;
    const click = async (x01: number, y01: number) => {
      send('input', { type: 'pointer_move', x: x01, y: y01 });
      send('input', { type: 'pointer_button', button: 'left', down: true, x: x01, y: y01 });
      send('input', { type: 'pointer_button', button: 'left', down: false, x: x01, y: y01 });
      const at = toDesktopPoint(rect, x01, y01);
      return { at, relative: { x: at.x - rect.x, y: at.y - rect.y } };
    };

    try {
      const { at, relative } = await click(0.37, 0.61);
      const seen = await until('the helper’s cursor message', 5000, () =>
        cursors().find((c) => c.x === relative.x && c.y === relative.y),
      );
      const p = { x: -1, y: -1 };
      user32().GetCursorPos(p);
      if (Math.abs(p.x - at.x) > 1 || Math.abs(p.y - at.y) > 1) {
        report('click', 'FAIL', `GetCursorPos ${p.x},${p.y}, asked for ${at.x},${at.y}`);
      } else {
        report('click', 'PASS', `cursor at ${p.x},${p.y} on Default (helper reports ${seen.x},${seen.y})`);
      }
    } catch (err) {
      report('click', 'FAIL', String(err));
    }

    const original = readPolicy();
    try {
      writePolicy(undefined);
      const before = control().length;
      send('control', { type: 'ctrl_alt_del' });
      const error = await until('an answer to Ctrl+Alt+Del', 10_000, () =>
        control()
          .slice(before)
          .find((m) => m.type === 'error' && m.about === 'ctrl_alt_del'),
      );
      const message = String(error.message);
      if (
        error.code === 'unsupported' &&
        message.includes('SoftwareSASGeneration') &&
        message.includes('reg add')
      ) {
        report('sas-policy', 'PASS', message);
      } else report('sas-policy', 'FAIL', JSON.stringify(error));

      writePolicy(1);
      await sleep(5500); // the service lets one Ctrl+Alt+Del per session through every 5 s
      const mark = helperLogSize();
      const errorsBefore = control().length;
      send('control', { type: 'ctrl_alt_del' });
      await until('the helper to follow the session to Winlogon', 15_000, () => followed(mark, 'Winlogon'));
      const refused = control()
        .slice(errorsBefore)
        .find((m) => m.type === 'error');
      if (refused) throw new Error(`the helper answered ${JSON.stringify(refused)}`);
      const back = helperLogSize();
      send('input', { type: 'key', code: 'Escape', down: true });
      send('input', { type: 'key', code: 'Escape', down: false });
      await until('the session back on Default after Escape', 15_000, () => followed(back, 'Default'));
      report('sas', 'PASS', 'the SAS screen came up (helper on Winlogon) and an injected Escape closed it');
    } catch (err) {
      report('sas', 'FAIL', String(err));
    } finally {
      writePolicy(original);
    }

    try {
      const mark = helperLogSize();
      execFileSync('rundll32.exe', ['user32.dll,LockWorkStation']);
      await until('the helper to follow the session to Winlogon', 15_000, () => followed(mark, 'Winlogon'));
      await sleep(1000);
      const { relative } = await click(0.25, 0.3);
      await until('the helper’s cursor message on Winlogon', 10_000, () =>
        cursors().some((c) => c.x === relative.x && c.y === relative.y),
      );
      report(
        'winlogon',
        'PASS',
        `locked; the click landed at ${relative.x},${relative.y} of display 0 on Winlogon`,
      );
    } catch (err) {
      report('winlogon', 'FAIL', String(err));
    }
  } finally {
    clearInterval(heartbeat);
    await command('stop_desktop', { sessionId: 'vm-desktop' }).catch(() => undefined);
    viewer.close();
    await api.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    report('setup', 'FAIL', String(err));
    process.exit(1);
  },
);
