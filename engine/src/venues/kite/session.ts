/**
 * Kite Connect session: a request token (from the login redirect, valid a few minutes, usable once) is
 * exchanged for the day's access token with a form POST to `/session/token` carrying api_key, request_token
 * and checksum = hex SHA-256 of api_key + request_token + api_secret, header `X-Kite-Version: 3`. The answer
 * is `{"status":"success","data":{user_id, access_token, public_token, …}}` or
 * `{"status":"error","message":…,"error_type":…}`. Neither the secret nor the tokens are ever logged.
 */
import { createHash } from 'node:crypto';

export const KITE_API = 'https://api.kite.trade';

export function kiteChecksum(apiKey: string, requestToken: string, apiSecret: string): string {
  return createHash('sha256').update(apiKey + requestToken + apiSecret).digest('hex');
}

export interface KiteSession { userId: string; accessToken: string; publicToken?: string }

export async function exchangeRequestToken(o: { apiKey: string; apiSecret: string; requestToken: string; root?: string; timeoutMs?: number }): Promise<KiteSession> {
  const body = new URLSearchParams({ api_key: o.apiKey, request_token: o.requestToken, checksum: kiteChecksum(o.apiKey, o.requestToken, o.apiSecret) });
  const url = `${(o.root ?? KITE_API).replace(/\/$/, '')}/session/token`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { 'X-Kite-Version': '3', 'Content-Type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(o.timeoutMs ?? 15_000) });
  } catch (e) {
    throw new Error(`Kite session: POST ${url} failed: ${(e as Error).message}`);
  }
  const text = await res.text();
  let j: { status?: string; message?: string; error_type?: string; data?: Record<string, unknown> };
  try { j = JSON.parse(text) as typeof j; } catch { throw new Error(`Kite session: HTTP ${res.status}, not JSON (${text.slice(0, 120)})`); }
  if (!res.ok || j.status !== 'success') throw new Error(`Kite session: HTTP ${res.status} ${j.error_type ?? 'error'}: ${j.message ?? 'no message'}`);
  const d = j.data ?? {};
  if (typeof d.access_token !== 'string' || d.access_token === '') throw new Error('Kite session: the answer has no data.access_token');
  return { userId: String(d.user_id ?? ''), accessToken: d.access_token, publicToken: typeof d.public_token === 'string' ? d.public_token : undefined };
}
