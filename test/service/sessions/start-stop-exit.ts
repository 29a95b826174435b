// Run as a child process by the tests: starts an X11 detector, stops it, and then must exit on its
// own, which it only does if stop() left no timer, watcher or child process behind.
import { X11SessionDetector } from '../../../src/service/sessions/x11-session-detector.js';

const detector = new X11SessionDetector({ socketDir: process.argv[2], pollMs: 10, useLogind: true });
await detector.start(() => {});
await new Promise((resolve) => setTimeout(resolve, 100));
await detector.stop();
console.log('stopped');
