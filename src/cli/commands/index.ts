import type { Command } from '../command.js';
import { startCommand } from './start.js';
import { configCommand } from './config.js';
import { adminCommand } from './admin.js';
import { consumersCommand } from './consumers.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { secretsCommand } from './secrets.js';
import { scanCommand } from './scan.js';
import { lintCommand } from './lint.js';
import { clientsCommand } from './clients.js';

/** Every `rampart` subcommand, in the order `rampart --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [
  startCommand,
  configCommand,
  adminCommand,
  consumersCommand,
  keysCommand,
  migrateCommand,
  secretsCommand,
  scanCommand,
  lintCommand,
  clientsCommand,
];
