import type { Command } from '../command.js';
import { startCommand } from './start.js';
import { configCommand } from './config.js';
import { scanCommand } from './scan.js';
import { lintCommand } from './lint.js';
import { clientsCommand } from './clients.js';

/** Every `rampart` subcommand, in the order `rampart --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [startCommand, configCommand, scanCommand, lintCommand, clientsCommand];
