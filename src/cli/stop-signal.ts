/** Resolves with the name of the first SIGINT or SIGTERM; both listeners are removed then. */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    const stop = (sig: NodeJS.Signals): void => {
      for (const s of signals) process.off(s, stop);
      resolve(sig);
    };
    for (const s of signals) process.once(s, stop);
  });
}
