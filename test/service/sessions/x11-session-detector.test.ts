import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isListening } from '../../../src/service/sessions/x-sockets.js';
import { X11SessionDetector } from '../../../src/service/sessions/x11-session-detector.js';
import { EventRecorder } from './event-recorder.js';
import { writeLoginctlStub } from './loginctl-stub.js';
import { startXvfb, type XvfbServer } from './xvfb-server.js';

/** A show-session block for an X session on `display`. */
function logindBlock(id: string, display: number, over: Record<string, string> = {}): string {
  const props: Record<string, string> = {
    Id: id,
    Name: 'alice',
    User: '1000',
    Type: 'x11',
    Display: `:${display}`,
    State: 'active',
    Active: 'yes',
    LockedHint: 'no',
    Remote: 'no',
    Seat: 'seat0',
    Class: 'user',
    ...over,
  };
  return Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

const run = promisify(execFile);

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('X11SessionDetector against real Xvfb servers', () => {
  let a: XvfbServer;
  let b: XvfbServer;
  const others: XvfbServer[] = [];
  const authDir = mkdtemp(join(tmpdir(), 'porthole-xauth-'));

  beforeAll(async () => {
    [a, b] = await Promise.all([startXvfb(), startXvfb()]);
  });

  afterAll(async () => {
    await Promise.all([a, b, ...others].map((x) => x?.cleanUp()));
    await rm(await authDir, { recursive: true, force: true });
  });

  it('lists each live display in /tmp/.X11-unix as an active x11 session owned by root', async () => {
    const sessions = await new X11SessionDetector({ useLogind: false }).list();
    for (const x of [a, b]) {
      const s = sessions.find((t) => t.sessionId === x.display);
      expect(s).toMatchObject({
        sessionId: x.display,
        username: 'root',
        state: 'active',
        type: 'x11',
        x11: { display: `:${x.display}`, uid: 0, gid: 0, home: '/root' },
      });
      // Started without -auth, so the only candidate is root's own file, used when it exists.
      expect(s?.x11?.xauthority).toBe(existsSync('/root/.Xauthority') ? '/root/.Xauthority' : undefined);
    }
    expect(sessions.filter((s) => s.console)).toHaveLength(1);
  });

  it("takes XAUTHORITY from the X server's -auth argument", async () => {
    const authFile = join(await authDir, 'server.auth');
    await writeFile(authFile, '');
    const c = await startXvfb(['-auth', authFile]);
    others.push(c);
    const sessions = await new X11SessionDetector({ useLogind: false }).list();
    expect(sessions.find((s) => s.sessionId === c.display)?.x11?.xauthority).toBe(authFile);
    await c.stop();
  });

  it('emits logon when a server starts and logoff when it ends', async () => {
    const detector = new X11SessionDetector({ useLogind: false, pollMs: 100 });
    const recorder = new EventRecorder();
    await detector.start(recorder.listener);
    try {
      const c = await startXvfb();
      others.push(c);
      const logon = await recorder.waitFor((e) => e.kind === 'logon' && e.sessionId === c.display);
      expect(logon.session).toMatchObject({ username: 'root', state: 'active', type: 'x11' });
      await c.stop();
      await recorder.waitFor((e) => e.kind === 'logoff' && e.sessionId === c.display);
      expect(recorder.of(c.display)).toEqual(['logon', 'logoff']);
      expect(recorder.of(a.display)).toEqual([]);
    } finally {
      await detector.stop();
    }
  });

  it('does not list a display whose server was killed and left its socket file behind', async () => {
    const c = await startXvfb();
    others.push(c);
    await c.crash();
    expect(existsSync(c.socketPath), 'a killed Xvfb leaves its socket').toBe(true);
    // A child the server had forked (xkbcomp) can hold the listening fd for a moment after the kill;
    // the display is stale once nothing accepts on it any more.
    for (let i = 0; i < 50 && (await isListening(c.socketPath, 200)); i++)
      await new Promise((r) => setTimeout(r, 100));
    const ids = (await new X11SessionDetector({ useLogind: false }).list()).map((s) => s.sessionId);
    expect(ids, `listed: ${ids.join(' ')}`).not.toContain(c.display);
    expect(ids, `listed: ${ids.join(' ')}`).toContain(a.display);
  });

  it('lists only the configured displays, with the configured owner and XAUTHORITY', async () => {
    const detector = new X11SessionDetector({
      useLogind: false,
      configured: [
        { display: `:${a.display}`, username: 'alice', uid: 1234, gid: 4321, xauthority: '/srv/alice.auth' },
        { display: ':9999' }, // no server: not a session
      ],
    });
    expect(await detector.list()).toEqual([
      {
        sessionId: a.display,
        username: 'alice',
        state: 'active',
        type: 'x11',
        console: true,
        x11: { display: `:${a.display}`, uid: 1234, gid: 4321, xauthority: '/srv/alice.auth' },
      },
    ]);
  });

  it('discovers displays when the configured list is empty', async () => {
    const ids = (await new X11SessionDetector({ useLogind: false, configured: [] }).list()).map(
      (s) => s.sessionId,
    );
    expect(ids).toEqual(expect.arrayContaining([a.display, b.display]));
  });

  it('fills what the configuration leaves out from the socket owner', async () => {
    const detector = new X11SessionDetector({
      useLogind: false,
      configured: [{ display: `:${b.display}.0` }],
    });
    expect(await detector.list()).toMatchObject([
      { sessionId: b.display, username: 'root', x11: { uid: 0 } },
    ]);
  });

  it("falls back to the owner's ~/.Xauthority, and to the numeric uid for an owner passwd does not know", async () => {
    const dir = await authDir;
    const home = join(dir, 'home-root');
    await mkdir(home, { recursive: true });
    await writeFile(join(home, '.Xauthority'), '');
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, `root:x:0:0:root:${home}:/bin/sh\n`);
    const configured = [{ display: `:${a.display}` }];
    const known = await new X11SessionDetector({ useLogind: false, passwdPath: passwd, configured }).list();
    expect(known[0]?.x11).toEqual({
      display: `:${a.display}`,
      uid: 0,
      gid: 0,
      home,
      xauthority: join(home, '.Xauthority'),
    });

    await writeFile(passwd, 'nobody:x:65534:65534::/nonexistent:/bin/sh\n');
    const unknown = await new X11SessionDetector({ useLogind: false, passwdPath: passwd, configured }).list();
    expect(unknown[0]).toMatchObject({ username: '0', x11: { uid: 0, gid: 0 } });
    expect(unknown[0]?.x11?.home).toBeUndefined();
    expect(unknown[0]?.x11?.xauthority).toBeUndefined();
  });

  it('rejects a configured display that is not local or an id that is not a uid', () => {
    expect(() => new X11SessionDetector({ configured: [{ display: 'host:1' }] })).toThrow(
      /configured\[0\]\.display/,
    );
    expect(() => new X11SessionDetector({ configured: [{ display: ':1', uid: -1 }] })).toThrow(
      /configured\[0\]\.uid/,
    );
    expect(() => new X11SessionDetector({ configured: [{ display: ':1' }, { display: ':1.0' }] })).toThrow(
      /twice/,
    );
  });

  it('takes owner, lock state and console from logind where it knows the display', async () => {
    const show = [
      logindBlock('2', a.display, { Seat: '', Remote: 'yes', State: 'online', Active: 'no' }),
      logindBlock('3', b.display, { Name: 'bob', User: '1001', LockedHint: 'yes' }),
    ].join('\n\n');
    const stub = await writeLoginctlStub('[{"session":"2"},{"session":"3"}]', show);
    try {
      const detector = new X11SessionDetector({
        loginctl: stub.path,
        configured: [{ display: `:${a.display}` }, { display: `:${b.display}` }],
      });
      const sessions = await detector.list();
      const sa = sessions.find((s) => s.sessionId === a.display);
      const sb = sessions.find((s) => s.sessionId === b.display);
      expect(sa).toMatchObject({
        sessionId: a.display,
        username: 'alice',
        state: 'connected',
        console: false,
      });
      expect(sa?.x11).toMatchObject({ uid: 1000 });
      expect(sb).toMatchObject({ sessionId: b.display, username: 'bob', state: 'locked', console: true });
    } finally {
      await stub.dispose();
    }
  });

  it('emits lock and unlock when logind changes the lock hint', async () => {
    const show = (locked: string): string => logindBlock('2', a.display, { LockedHint: locked });
    const stub = await writeLoginctlStub('[{"session":"2"}]', show('no'));
    const detector = new X11SessionDetector({
      loginctl: stub.path,
      pollMs: 50,
      configured: [{ display: `:${a.display}` }],
    });
    const recorder = new EventRecorder();
    try {
      await detector.start(recorder.listener);
      await stub.setOutput('[{"session":"2"}]', show('yes'));
      const lock = await recorder.waitFor((e) => e.kind === 'lock');
      expect(lock).toMatchObject({ sessionId: a.display, session: { state: 'locked', username: 'alice' } });
      await stub.setOutput('[{"session":"2"}]', show('no'));
      await recorder.waitFor((e) => e.kind === 'unlock');
      expect(recorder.of(a.display)).toEqual(['lock', 'unlock']);
    } finally {
      await detector.stop();
      await stub.dispose();
    }
  });

  it('works from the X sockets alone where loginctl does not answer', async () => {
    const detector = new X11SessionDetector({
      loginctl: '/bin/false',
      configured: [{ display: `:${a.display}` }],
    });
    expect(await detector.list()).toMatchObject([
      { sessionId: a.display, username: 'root', state: 'active' },
    ]);
  });
});

describe('X11SessionDetector in a private socket directory', () => {
  let dir: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porthole-x11-unix-'));
  });

  afterAll(async () => {
    await Promise.all(servers.map(close));
    await rm(dir, { recursive: true, force: true });
  });

  it('lists listening sockets, skips plain files and other names, and marks the lowest display console', async () => {
    servers.push(
      await listen(join(dir, 'X5')),
      await listen(join(dir, 'X3')),
      await listen(join(dir, 'Xnope')),
    );
    await writeFile(join(dir, 'X1'), ''); // a file, not a socket
    const sessions = await new X11SessionDetector({ socketDir: dir, useLogind: false }).list();
    expect(sessions.map((s) => [s.sessionId, s.console])).toEqual([
      [3, true],
      [5, false],
    ]);
  });

  it('lists nothing, without failing, when the directory does not exist', async () => {
    expect(await new X11SessionDetector({ socketDir: join(dir, 'none'), useLogind: false }).list()).toEqual(
      [],
    );
  });

  it('reacts to a new socket through the directory watch, well before the next poll', async () => {
    const detector = new X11SessionDetector({ socketDir: dir, useLogind: false, pollMs: 3_600_000 });
    const recorder = new EventRecorder();
    await detector.start(recorder.listener);
    try {
      servers.push(await listen(join(dir, 'X8')));
      const logon = await recorder.waitFor((e) => e.kind === 'logon' && e.sessionId === 8);
      expect(logon.session).toMatchObject({ sessionId: 8, state: 'active', console: false });
    } finally {
      await detector.stop();
    }
  });

  it('lets the process exit after stop: no timer, watcher or child is left', async () => {
    const script = join(import.meta.dirname, 'start-stop-exit.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, dir], { timeout: 15_000 });
    expect(stdout.trim()).toBe('stopped');
  });
});
