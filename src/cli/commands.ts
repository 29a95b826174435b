import { apiCommand } from './api-command.js';
import type { Command } from './command.js';
import { demoCommand } from './demo-command.js';
import { helperCommand } from './helper-command.js';
import { serviceCommand } from './service-command.js';

export const commands: Command[] = [serviceCommand, helperCommand, apiCommand, demoCommand];
