import type { Command } from '../command.js';

/** A subcommand as listed by `rampart --help`; its module loads only when it runs (fast start-up). */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** Every `rampart` subcommand, in the order `rampart --help` lists them. Add new commands here. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', summary: 'Run the gateway', load: async () => (await import('./start.js')).startCommand },
  { name: 'config', summary: 'Validate a config file, or print its JSON Schema', load: async () => (await import('./config.js')).configCommand },
  { name: 'admin', summary: 'Create the first admin token', load: async () => (await import('./admin.js')).adminCommand },
  { name: 'consumers', summary: 'Manage consumers (through the admin API)', load: async () => (await import('./consumers.js')).consumersCommand },
  { name: 'keys', summary: 'Manage API keys (through the admin API)', load: async () => (await import('./keys.js')).keysCommand },
  { name: 'migrate', summary: 'Apply pending store migrations', load: async () => (await import('./migrate.js')).migrateCommand },
  { name: 'secrets', summary: 'Re-encrypt secrets at rest under a new master key', load: async () => (await import('./secrets.js')).secretsCommand },
  { name: 'scan', summary: 'Test a live API for the OWASP API Security Top 10 (2023)', load: async () => (await import('./scan.js')).scanCommand },
  { name: 'lint', summary: 'Check the security posture of a config and its OpenAPI documents', load: async () => (await import('./lint.js')).lintCommand },
  { name: 'roles', summary: 'Manage roles → permissions kept in the store (through the admin API)', load: async () => (await import('./roles.js')).rolesCommand },
  { name: 'policy', summary: 'Explain authorization decisions', load: async () => (await import('./policy.js')).policyCommand },
  { name: 'audit', summary: 'Audit dependencies (lockfiles) against OSV advisories, offline', load: async () => (await import('./audit.js')).auditCommand },
  { name: 'sbom', summary: 'Write a CycloneDX 1.5 JSON SBOM of a project (or of Rampart itself)', load: async () => (await import('./sbom.js')).sbomCommand },
  { name: 'audit-log', summary: 'Verify the tamper-evident audit log, or export it (JSON Lines, CEF)', load: async () => (await import('./audit-log.js')).auditLogCommand },
  { name: 'clients', summary: 'Manage OAuth clients of the built-in authorization server', load: async () => (await import('./clients.js')).clientsCommand },
];
