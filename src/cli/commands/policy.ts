import type { Identity } from '../../core/identity.js';
import { loadConfigFile } from '../../config/load.js';
import { explain, formatExplanation } from '../../authz/explain.js';
import { HTTP_METHODS, type RampartConfig } from '../../config/schema.js';
import { EXIT, parse, UsageError, type CliIO, type Command } from '../command.js';
import { adminClient } from '../admin-client.js';

const split = (v: string | undefined): string[] => (v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== ''));

/** The identity to explain for: given on the command line (offline), or the consumer as the admin API knows it. */
async function identityFor(name: string, values: { roles?: string; scopes?: string; tenant?: string; 'admin-url'?: string }, io: CliIO): Promise<Identity> {
  if (values.roles === undefined && values.scopes === undefined && values.tenant === undefined) {
    const c = await adminClient(values['admin-url'], io).call<{ name: string; id: string; roles: string[]; scopes: string[]; tenant: string | null }>('GET', `/admin/v1/consumers/${encodeURIComponent(name)}`);
    return { consumer: c.name, consumerId: c.id, roles: c.roles, scopes: c.scopes, ...(c.tenant === null ? {} : { tenant: c.tenant }), method: 'api_key' };
  }
  return { consumer: name, roles: split(values.roles), scopes: split(values.scopes), ...(values.tenant === undefined ? {} : { tenant: values.tenant }), method: 'api_key' };
}

/**
 * The config, plus the roles the running gateway keeps in its store when the identity comes from
 * the admin API (offline: the config's roles only). Config roles win on a name clash, as in the gateway.
 */
async function withStoreRoles(config: RampartConfig, values: { roles?: string; scopes?: string; tenant?: string; 'admin-url'?: string }, io: CliIO): Promise<RampartConfig> {
  if (values.roles !== undefined || values.scopes !== undefined || values.tenant !== undefined) return config;
  const listed = await adminClient(values['admin-url'], io).call<{ name: string; permissions: string[]; source: string }[]>('GET', '/admin/v1/roles');
  const stored = Object.fromEntries(listed.filter((r) => r.source === 'store').map((r) => [r.name, r.permissions]));
  return { ...config, authorization: { ...config.authorization, roles: { ...stored, ...config.authorization.roles } } };
}

/** `rampart policy explain`: the authorization decision for one consumer, method and path. */
export const policyCommand: Command = {
  name: 'policy',
  help: `Usage:
  rampart policy explain --consumer NAME --method M --path P [options]

Prints the decision (ALLOW or DENY with its status), the id of the rule that made it, and the
reason. The path is judged like the gateway does (path guard, router, then authorization).
Exit code: 0 allowed, 1 denied, 2 bad usage.

Options:
  --config FILE     configuration (default rampart.yaml)
  --admin-url URL   admin API to read the consumer and the store roles from (default
                    http://127.0.0.1:9901; token from RAMPART_ADMIN_TOKEN)
  --roles a,b       explain offline for these roles instead (with --scopes, --tenant)
  --scopes x,y      scopes the identity carries
  --tenant T        tenant of the identity
  --host HOST       Host header, for routes bound to hosts
  --json            machine-readable output`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') return io.out(`${this.help}\n`), EXIT.ok;
    if (sub !== 'explain') throw new UsageError(`unknown policy subcommand ${JSON.stringify(sub)} (explain)`);
    const { values, positionals } = parse(
      rest,
      {
        consumer: { type: 'string' },
        method: { type: 'string' },
        path: { type: 'string' },
        config: { type: 'string' },
        roles: { type: 'string' },
        scopes: { type: 'string' },
        tenant: { type: 'string' },
        host: { type: 'string' },
        'admin-url': { type: 'string' },
        json: { type: 'boolean' },
      },
      false,
    );
    if (values.help) return io.out(`${this.help}\n`), EXIT.ok;
    if (positionals.length > 0) throw new UsageError('policy explain takes no positional arguments');
    if (values.consumer === undefined || values.method === undefined || values.path === undefined) throw new UsageError('--consumer, --method and --path are required');
    const method = values.method.toUpperCase();
    if (!(HTTP_METHODS as readonly string[]).includes(method)) throw new UsageError(`--method must be one of ${HTTP_METHODS.join(', ')}`);
    if (!values.path.startsWith('/')) throw new UsageError('--path must start with /');
    const { config: loaded } = loadConfigFile(values.config ?? 'rampart.yaml', io.env);
    const identity = await identityFor(values.consumer, values, io);
    const config = await withStoreRoles(loaded, values, io);
    const result = explain(config, identity, method, values.path, values.host?.toLowerCase() ?? '');
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatExplanation(result));
    return result.decision === 'allow' ? EXIT.ok : EXIT.findings;
  },
};
