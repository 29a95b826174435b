import type { DemoSessionSpec } from '../demo/demo-stack.js';
import { int } from '../protocol/validate.js';
import { EXIT_OK, UsageError, type Command } from './command.js';
import { waitForStopSignal } from './stop-signal.js';
import { errorMessage } from '../errors/error-text.js';

const COLOURS = ['#2a6f97', '#7b2cbf', '#2b9348', '#bc4749'];

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run service + helper + API + viewer on this machine (Xvfb when there is no display)',
  usage: 'porthole demo [--port 8080] [--sessions 1|2] [--xvfb]',
  options: {
    port: {
      type: 'string',
      short: 'p',
      description: 'Port of the API and viewer on 127.0.0.1 (default 8080; 0: any)',
    },
    sessions: {
      type: 'string',
      description: 'How many X sessions to offer (default 1; more are always Xvfb)',
    },
    xvfb: { type: 'boolean', description: 'Use a new Xvfb even when $DISPLAY is set' },
  },
  async run(values, positionals) {
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const parse = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        throw new UsageError(errorMessage(err));
      }
    };
    const port = parse(() => int(0, 65_535)(Number(values.port ?? 8080), '--port'));
    const count = parse(() => int(1, 4)(Number(values.sessions ?? 1), '--sessions'));
    const own = process.env.DISPLAY && !values.xvfb ? process.env.DISPLAY : undefined;
    const sessions: DemoSessionSpec[] = Array.from({ length: count }, (_, i) => ({
      colour: COLOURS[i % COLOURS.length] as string,
      title: `porthole demo ${i + 1}`,
      ...(i === 0 && own ? { display: own, bare: true } : {}),
    }));

    console.log(own ? `demo: using your display ${own}` : 'demo: starting Xvfb (no $DISPLAY)…');
    // Loaded here: every command module is loaded by `porthole service` too (src/cli/commands.ts).
    const { startDemoStack } = await import('../demo/demo-stack.js');
    const stack = await startDemoStack({ sessions, port });
    console.log(`demo: API and viewer on ${stack.api.url}; starting the service and its helpers…`);
    const deadline = Date.now() + 60_000;
    while ((stack.serviceOutput().match(/"helper ready"/g) ?? []).length < sessions.length) {
      if (Date.now() > deadline) {
        console.error(
          `demo: helpers did not come up within 60 s. Service output:\n${stack.serviceOutput().slice(-4000)}`,
        );
        await stack.stop();
        return 1;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const loginUrl = await stack.loginUrl();
    console.log(
      [
        '',
        `  Open the viewer:  ${loginUrl}`,
        '',
        `  (a one-time sign-in link, valid 10 minutes; displays ${stack.displays.map((d) => d.display).join(', ')})`,
        '  Press Ctrl+C to stop everything.',
        '',
      ].join('\n'),
    );
    await waitForStopSignal();
    console.log('demo: stopping…');
    await stack.stop();
    console.log('demo: stopped');
    return EXIT_OK;
  },
};
