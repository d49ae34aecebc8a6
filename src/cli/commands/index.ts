import type { Command } from '../command.js';
import { startCommand } from './start.js';
import { configCommand } from './config.js';
import { auditLogCommand } from './audit-log.js';

/** Every `rampart` subcommand, in the order `rampart --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [startCommand, configCommand, auditLogCommand];
