/** `tapeflow token`: mint a short-lived signed token (JWT) for a site that embeds the datafeed. */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { loadConfig } from '../../config/index.js';
import { mintJwt } from '../../../../datafeed-adapter/src/http/security.js';

const USAGE = `Usage: tapeflow token [--config PATH] [--sub NAME] [--ttl SECONDS] [--json]

Mints a short-lived token (JWT, HS256, issuer "tapeflow") signed with the secret in the environment
variable named by server.jwt.secretEnv. The server accepts it wherever the API token is accepted
(Authorization: Bearer <token>, ?token=, the WebSocket) until it expires; list its id (jti) under
server.jwt.revoked, or POST /api/v1/tokens/revoke?jti=<id>, to refuse it earlier. Changing the
secret revokes every token.

  --sub NAME      who the token is for (default "browser")
  --ttl SECONDS   lifetime (default server.jwt.ttlS, at most 86400)
  --json          print {token, jti, expiresAt, sub} instead of the bare token`;

export const tokenCommand: Command = {
  name: 'token',
  summary: 'mint a short-lived API token (JWT) for an embedding site',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { positional, flags } = parseArgs(args, { values: ['config', 'sub', 'ttl'], booleans: ['json'] });
    if (positional.length) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const sub = typeof flags.get('sub') === 'string' ? String(flags.get('sub')) : 'browser';
    if (!/^[\w.@:-]{1,80}$/.test(sub)) throw new UsageError('--sub: 1–80 of letters, digits, _ . @ : -');
    const ttlRaw = flags.get('ttl');
    const ttl = typeof ttlRaw === 'string' ? Number(ttlRaw) : undefined;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400)) throw new UsageError('--ttl: whole seconds, 1–86400');
    const cfgPath = flags.get('config');
    const config = await loadConfig(typeof cfgPath === 'string' ? cfgPath : undefined);
    const jwt = config.server.jwt;
    if (!jwt) { process.stderr.write('server.jwt is not configured: add server.jwt.secretEnv to the config (docs/configuration.md)\n'); return 1; }
    const secret = process.env[jwt.secretEnv];
    if (!secret) { process.stderr.write(`environment variable ${jwt.secretEnv} (server.jwt.secretEnv) is not set\n`); return 1; }
    const t = await mintJwt({ secret, ttlS: jwt.ttlS }, sub, ttl);
    process.stdout.write(flags.has('json') ? `${JSON.stringify({ ...t, sub })}\n` : `${t.token}\n`);
    return 0;
  },
};
