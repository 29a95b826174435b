import { apiCommand } from './api-command.js';
import type { Command } from './command.js';
import { demoCommand } from './demo-command.js';
import { filesWorkerCommand } from './files-worker-command.js';
import { helperCommand } from './helper-command.js';
import { indicatorWindowCommand } from './indicator-window-command.js';
import { serviceCommand } from './service-command.js';

/**
 * Every process that runs the CLI loads all of these, the service too. So a command module holds only
 * its help, its flags and their validation, and imports what it runs (helper media stack, API server,
 * demo stack) inside run(): the service then never loads capture, encoders or node-datachannel
 * (test/cli/service-footprint.test.ts checks this).
 */
export const commands: Command[] = [
  serviceCommand,
  helperCommand,
  apiCommand,
  demoCommand,
  filesWorkerCommand,
  indicatorWindowCommand,
];
