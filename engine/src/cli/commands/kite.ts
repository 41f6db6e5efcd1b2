/** `tapeflow kite login`: exchange a Kite Connect request token for the day's access token. */
import type { Command } from '../command.js';
import { parseArgs, UsageError } from '../command.js';
import { exchangeRequestToken, KITE_API } from '../../venues/kite/session.js';

const USAGE = `Usage: tapeflow kite login --request-token TOKEN [--root URL] [--print]

Exchanges the request_token of a Kite login redirect for the day's access token (POST /session/token with
checksum = SHA-256 of api_key + request_token + api_secret). Reads KITE_API_KEY and KITE_API_SECRET from
the environment. Open https://kite.zerodha.com/connect/login?v=3&api_key=<KITE_API_KEY>, log in, and copy
request_token from the redirect URL (valid a few minutes, once).

The access token is valid until the next morning. Put it in the environment of \`tapeflow start\` as
KITE_ACCESS_TOKEN (feeds[].venue: kite reads KITE_API_KEY, KITE_ACCESS_TOKEN and KITE_INSTRUMENTS).
Without --print the token is written only as an export line to stdout for \`eval\`; nothing is logged.

  --request-token TOKEN  from the redirect URL
  --root URL             API root (default ${KITE_API})
  --print                print the bare token instead of an export line`;

export const kiteCommand: Command = {
  name: 'kite',
  summary: 'Zerodha Kite: `kite login` exchanges a request token for the access token',
  usage: USAGE,
  async run(args: string[]): Promise<number> {
    const { positional, flags } = parseArgs(args, { values: ['request-token', 'root'], booleans: ['print'] });
    if (positional[0] !== 'login' || positional.length > 1) throw new UsageError('expected `tapeflow kite login --request-token TOKEN`');
    const requestToken = flags.get('request-token');
    if (typeof requestToken !== 'string' || !/^[A-Za-z0-9]{6,128}$/.test(requestToken)) throw new UsageError('--request-token: the request_token value of the login redirect URL (letters and digits)');
    const apiKey = process.env.KITE_API_KEY, apiSecret = process.env.KITE_API_SECRET;
    if (!apiKey || !apiSecret) { process.stderr.write('KITE_API_KEY and KITE_API_SECRET must be set in the environment (from your Kite Connect app)\n'); return 1; }
    try {
      const s = await exchangeRequestToken({ apiKey, apiSecret, requestToken, root: typeof flags.get('root') === 'string' ? String(flags.get('root')) : undefined });
      process.stdout.write(flags.has('print') ? `${s.accessToken}\n` : `export KITE_ACCESS_TOKEN=${s.accessToken}\n`);
      process.stderr.write(`logged in as ${s.userId || '(unknown user)'}; set KITE_ACCESS_TOKEN in the environment of \`tapeflow start\` (valid until the next morning, IST)\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      return 1;
    }
  },
};
