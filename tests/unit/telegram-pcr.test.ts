/**
 * PCR in Telegram alerts, end to end through `tapeflow start`: a Kite feed on a loopback Kite Ticker with an
 * options chain, Telegram on the local Bot API server (webhook mode). A chat opts in with `/subscribe * pcr`;
 * each change of the chain's PCR bias becomes one "PCR BIAS" message at the Bot API, in HTML that parses, with
 * the PCR figures; a recomputation with the same bias sends nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { stripHtml } from '../../engine/src/alerts/format.js';
import { FakeVenue } from '../../engine/src/feeds/testing.js';
import { createLogger } from '../../engine/src/log.js';
import { BotApiServer, htmlParseError, startBotApiServer } from '../helpers/bot-api-server.js';
import { chainCsv, chainMessage } from '../helpers/kite-chain.js';

const TOKEN = '424243:PCR-token';
const SECRET = 'pcr_Secret-1';
const ENV: Record<string, string> = { TF_PCR_TOKEN: TOKEN, TF_PCR_CHATS: '5', TF_PCR_SECRET: SECRET, KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't' };
// event times near the wall clock (alerts older than 15 min are not sent); the expiry a week ahead is the nearest
const NOW = Date.now();
const EXPIRY = new Date(NOW + 7 * 86_400_000 + 19_800_000).toISOString().slice(0, 10);

let server: BotApiServer;
let venue: FakeVenue;
let app: StartedApp;
let dir: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = await startBotApiServer();
  venue = await FakeVenue.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-pcr-tg-'));
  writeFileSync(join(dir, 'i.csv'), chainCsv(EXPIRY));
  for (const [k, v] of Object.entries({ ...ENV, KITE_INSTRUMENTS: join(dir, 'i.csv') })) { saved[k] = process.env[k]; process.env[k] = v; }
  writeFileSync(join(dir, 'cfg.yaml'), [
    'feeds:',
    '  - venue: kite',
    '    symbols: ["NSE:NIFTY 50"]',
    `    wsUrl: ${venue.wsBase}`,
    '    kite: { pcr: { underlying: NIFTY, spot: "NSE:NIFTY 50", strikes: 1 } }',
    'alerts:',
    '  telegram:',
    '    enabled: true',
    '    tokenEnv: TF_PCR_TOKEN',
    '    chatIdsEnv: TF_PCR_CHATS',
    `    apiRoot: ${server.url}`,
    `    dbPath: ${join(dir, 'alerts.sqlite')}`,
    '    charts: false',
    '    commands: webhook',
    '    webhook: { path: /tg/hook, secretEnv: TF_PCR_SECRET }',
    '',
  ].join('\n'));
  app = await startApp({ config: join(dir, 'cfg.yaml'), port: 0, storePath: null, feeds: true, fallback: false, logger: createLogger({ level: 'error', write: () => {} }), feedDefaults: { backoff: { baseMs: 50, maxMs: 300 } } });
}, 60_000);

afterAll(async () => {
  await app?.close(); await venue?.close(); await server?.close();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  rmSync(dir, { recursive: true, force: true });
});

const pcrMessages = (): string[] => server.delivered().filter((c) => c.fields.chat_id === '5' && (c.fields.text ?? '').includes('PCR BIAS')).map((c) => c.fields.text);

describe('PCR bias changes reach the local Bot API', () => {
  it('opt in with /subscribe * pcr; one message per bias change with the PCR figures', async () => {
    const res = await fetch(`${app.server.url}/tg/hook`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
      body: JSON.stringify({ update_id: 1, message: { message_id: 1, date: Math.floor(NOW / 1000), text: '/subscribe * pcr', entities: [{ type: 'bot_command', offset: 0, length: 10 }], chat: { id: 5, type: 'private', first_name: 'u' }, from: { id: 5, is_bot: false, first_name: 'u' } } }),
    });
    expect(res.status).toBe(200);
    await server.waitFor(() => server.of('sendMessage').some((c) => c.fields.chat_id === '5' && c.fields.text.includes('Subscribed')), 5000, 'the /subscribe answer');
    expect(stripHtml(server.of('sendMessage').find((c) => c.fields.text.includes('Subscribed'))!.fields.text)).toMatch(/^✅ Subscribed to all symbols: pcr\n/);
    const sock = await venue.connection(1);
    const secs = Math.floor(NOW / 1000);
    // first reading: puts written at the money → strong bullish
    sock.send(Buffer.from(chainMessage(26_040, 6000, secs)));
    await server.waitFor(() => pcrMessages().length === 1, 10_000, 'the first PCR alert');
    // 1.1 s later (the feed recomputes at most once a second), the same chain: no bias change, nothing sent
    await new Promise((r) => setTimeout(r, 1100));
    sock.send(Buffer.from(chainMessage(26_040, 6000, secs + 60)));
    await new Promise((r) => setTimeout(r, 500));
    expect(pcrMessages().length).toBe(1);
    // 6 minutes later in event time (past the 5-minute cooldown): puts unwound → bearish
    await new Promise((r) => setTimeout(r, 700));
    sock.send(Buffer.from(chainMessage(26_040, -2000, secs + 360)));
    await server.waitFor(() => pcrMessages().length === 2, 10_000, 'the second PCR alert');
    const [a, b] = pcrMessages().map((t) => { expect(htmlParseError(t)).toBeNull(); return stripHtml(t).split('\n'); });
    expect(a!.slice(0, 3)).toEqual([
      '🟢 PCR BIAS · STRONG BULLISH NIFTY',
      `Expiry ${EXPIRY} · spot 26040 · ATM 26000`,
      'PCR OI 1.4 · near ATM 1.67 · volume 2 · session change n/a',
    ]);
    expect(b!.slice(0, 3)).toEqual([
      '🔴 PCR BIAS · BEARISH NIFTY (was strong bullish)',
      `Expiry ${EXPIRY} · spot 26040 · ATM 26000`,
      'PCR OI 0.87 · near ATM 0.78 · volume 2 · session change -0.53',
    ]);
    expect(b).toContain('• bias from the near-the-money PCR by OI (ATM ± 1 strikes, 25900–26100)');
  }, 60_000);
});
