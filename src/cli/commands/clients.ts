import { readFileSync } from 'node:fs';
import { EXIT, parse, UsageError, type Command } from '../command.js';
import { adminClient } from '../admin-client.js';

const HELP = `Usage:
  rampart clients create --name NAME --scopes x,y [--jwks FILE] [--json]
      register an OAuth client (client_credentials). Prints client_id and client_secret;
      the secret is shown once. With --jwks (a JSON file of public JWKs, or a JWKS document)
      the client authenticates with private_key_jwt instead and gets no secret.
  rampart clients list [--json]
  rampart clients revoke ID [--json]

Options:
  --admin-url URL   admin API of the running gateway (default http://127.0.0.1:9901)
  --json            machine-readable output
Environment:
  RAMPART_ADMIN_TOKEN   admin token sent as Authorization: Bearer`;

const COMMON = { 'admin-url': { type: 'string' }, json: { type: 'boolean' } } as const;

function readJwks(file: string): unknown[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read --jwks ${file}: ${(err as Error).message}`);
  }
  const keys = Array.isArray(doc) ? doc : (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new UsageError(`--jwks ${file} holds no keys`);
  return keys as unknown[];
}

/** `rampart clients create|list|revoke`: OAuth clients of the built-in authorization server. */
export const clientsCommand: Command = {
  name: 'clients',
  help: HELP,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${HELP}\n`), EXIT.ok;
    const print = (json: boolean | undefined, value: unknown, text: string): number => {
      io.out(json === true ? `${JSON.stringify(value, null, 2)}\n` : text);
      return EXIT.ok;
    };
    if (sub === 'create') {
      const { values } = parse(rest, { ...COMMON, name: { type: 'string' }, scopes: { type: 'string' }, jwks: { type: 'string' } }, false);
      if (values.help) return io.out(`${HELP}\n`), EXIT.ok;
      if (values.name === undefined) throw new UsageError('--name is required');
      if (values.scopes === undefined) throw new UsageError('--scopes is required (comma-separated)');
      const scopes = values.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const body = { name: values.name, scopes, ...(values.jwks !== undefined ? { jwks: readJwks(values.jwks) } : {}) };
      const created = (await adminClient(values['admin-url'], io).call('POST', '/admin/v1/clients', body)) as { client_id: string; client_secret?: string };
      const secret = created.client_secret === undefined ? '' : `client_secret: ${created.client_secret}\n(the secret is shown once; store it now)\n`;
      return print(values.json, created, `client_id:     ${created.client_id}\n${secret}`);
    }
    if (sub === 'list') {
      const { values } = parse(rest, COMMON, false);
      if (values.help) return io.out(`${HELP}\n`), EXIT.ok;
      const clients = (await adminClient(values['admin-url'], io).call('GET', '/admin/v1/clients')) as Array<Record<string, unknown>>;
      const lines = clients.map((c) => `${String(c.client_id)}  ${String(c.status).padEnd(7)}  ${String(c.name)}  [${(c.scopes as string[]).join(',')}]\n`).join('');
      return print(values.json, clients, lines === '' ? 'no clients\n' : lines);
    }
    if (sub === 'revoke') {
      const { values, positionals } = parse(rest, COMMON);
      if (values.help) return io.out(`${HELP}\n`), EXIT.ok;
      if (positionals.length !== 1) throw new UsageError('revoke takes exactly one client ID');
      const id = positionals[0]!;
      const revoked = await adminClient(values['admin-url'], io).call('DELETE', `/admin/v1/clients/${encodeURIComponent(id)}`);
      return print(values.json, revoked, `revoked ${id}\n`);
    }
    throw new UsageError(`unknown clients subcommand ${JSON.stringify(sub)}`);
  },
};
