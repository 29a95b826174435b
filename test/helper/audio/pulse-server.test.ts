import { describe, expect, it } from 'vitest';
import { findPulseTarget } from '../../../src/helper/audio/pulse-server.js';

const alice = { uid: 1001, gid: 1002, home: '/home/alice' };
const lookUpUser = async (name: string) => (name === 'alice' ? alice : undefined);

describe('findPulseTarget', () => {
  it('prefers PORTHOLE_PULSE_SERVER, then PULSE_SERVER, then XDG_RUNTIME_DIR, then /run/user/<uid>', async () => {
    const base = { uid: 1001, lookUpUser };
    expect(
      await findPulseTarget({
        ...base,
        env: { PORTHOLE_PULSE_SERVER: 'unix:/tmp/a', PULSE_SERVER: 'unix:/tmp/b' },
      }),
    ).toEqual({ server: 'unix:/tmp/a' });
    expect(
      await findPulseTarget({ ...base, env: { PULSE_SERVER: '/tmp/b', XDG_RUNTIME_DIR: '/run/x' } }),
    ).toEqual({
      server: 'unix:/tmp/b',
    });
    expect(await findPulseTarget({ ...base, env: { XDG_RUNTIME_DIR: '/run/x' } })).toEqual({
      server: 'unix:/run/x/pulse/native',
    });
    expect(await findPulseTarget({ ...base, env: {} })).toEqual({
      server: 'unix:/run/user/1001/pulse/native',
    });
  });

  it('ignores a server variable that is not a server string', async () => {
    const got = await findPulseTarget({ uid: 7, lookUpUser, env: { PULSE_SERVER: 'rm -rf /; x' } });
    expect(got).toEqual({ server: 'unix:/run/user/7/pulse/native' });
  });

  it('as root (keepRoot), connects to the session user’s server as that user, not its own runtime dir', async () => {
    const got = await findPulseTarget({
      uid: 0,
      lookUpUser,
      env: { USER: 'alice', XDG_RUNTIME_DIR: '/run/user/0' },
    });
    expect(got).toEqual({ server: 'unix:/run/user/1001/pulse/native', runAs: alice });
  });

  it('as root, fails naming the user when the session user is unknown', async () => {
    await expect(findPulseTarget({ uid: 0, lookUpUser, env: { USER: 'mallory' } })).rejects.toThrow(
      /mallory/,
    );
  });
});
