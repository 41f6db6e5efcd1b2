/**
 * Bot commands in webhook mode through the composition root (`startApp`): the HTTP server mounts the
 * configured route, Telegram's secret header is checked, commands are answered through the local Bot
 * API server, and setWebhook registers the public URL with the secret at start (no long polling).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type StartedApp } from '../../engine/src/cli/commands/start.js';
import { stripHtml } from '../../engine/src/alerts/format.js';
import { BotApiServer, startBotApiServer } from '../helpers/bot-api-server.js';

const TOKEN = '424242:WEBHOOK-token';
const SECRET = 'hook_Secret-123';
const ENV = { TF_WH_TOKEN: TOKEN, TF_WH_CHATS: '5', TF_WH_SECRET: SECRET };

function writeConfig(dir: string, apiRoot: string): string {
  const file = join(dir, 'tapeflow.config.yaml');
  writeFileSync(file, [
    'alerts:',
    '  telegram:',
    '    enabled: true',
    '    tokenEnv: TF_WH_TOKEN',
    '    chatIdsEnv: TF_WH_CHATS',
    `    apiRoot: ${apiRoot}`,
    `    dbPath: ${join(dir, 'alerts.sqlite')}`,
    '    commands: webhook',
    '    webhook:',
    '      path: /tg/hook',
    '      secretEnv: TF_WH_SECRET',
    '      publicUrl: https://bot.example.test/tg/hook',
    '',
  ].join('\n'));
  return file;
}

const update = (id: number, chatId: number, text: string): Record<string, unknown> => ({
  update_id: id,
  message: {
    message_id: id, date: Math.floor(Date.now() / 1000), text, entities: [{ type: 'bot_command', offset: 0, length: text.split(' ')[0].length }],
    chat: { id: chatId, type: 'private', first_name: 'user' }, from: { id: chatId, is_bot: false, first_name: 'user' },
  },
});

describe('bot commands by webhook (startApp)', () => {
  let server: BotApiServer;
  let app: StartedApp;
  let dir: string;
  let config: string;
  const saved: Record<string, string | undefined> = {};
  const post = (body: unknown, secret?: string, method = 'POST'): Promise<Response> => fetch(`${app.server.url}/tg/hook`, {
    method, headers: { 'content-type': 'application/json', ...(secret !== undefined ? { 'X-Telegram-Bot-Api-Secret-Token': secret } : {}) },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

  beforeAll(async () => {
    server = await startBotApiServer();
    dir = mkdtempSync(join(tmpdir(), 'tf-webhook-'));
    config = writeConfig(dir, server.url);
    for (const [k, v] of Object.entries(ENV)) { saved[k] = process.env[k]; process.env[k] = v; }
    app = await startApp({ config, port: 0, storePath: null });
  });

  afterAll(async () => {
    await app?.close();
    await server.close();
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers the public URL and the secret with setWebhook at start, and does not poll', () => {
    const [c] = server.of('setWebhook');
    expect(c.token).toBe(TOKEN);
    expect(c.fields.url).toBe('https://bot.example.test/tg/hook');
    expect(c.fields.secret_token).toBe(SECRET);
    expect(JSON.parse(c.fields.allowed_updates)).toEqual(['message']);
    expect(server.of('setWebhook').length).toBe(1);
    expect(server.of('getUpdates').length).toBe(0);
    expect(server.of('deleteWebhook').length).toBe(0);
  });

  it('answers a command POSTed with the right secret', async () => {
    const res = await post(update(1, 5, '/start'), SECRET);
    expect(res.status).toBe(200);
    await server.waitFor(() => server.of('sendMessage').some((c) => c.fields.chat_id === '5'), 5000, 'the /start answer');
    const [answer] = server.of('sendMessage').filter((c) => c.fields.chat_id === '5');
    expect(stripHtml(answer.fields.text)).toMatch(/^👋 TapeFlow alerts are on for this chat\./);
  });

  it('refuses a wrong or missing secret (401) and a GET (405), answering nothing', async () => {
    const before = server.of('sendMessage').length;
    expect((await post(update(2, 6, '/help'), 'wrong-secret')).status).toBe(401);
    expect((await post(update(3, 6, '/help'))).status).toBe(401);
    expect((await post(null, SECRET, 'GET')).status).toBe(405);
    expect((await post('{not json', SECRET)).status).toBe(400);
    await new Promise((r) => setTimeout(r, 200));
    expect(server.of('sendMessage').length).toBe(before);
  });

  it('the route is outside /api: the API is unchanged and unknown paths still 404', async () => {
    expect((await fetch(`${app.server.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.server.url}/tg/other`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses to start in webhook mode without the secret, naming the variable', async () => {
    const s = process.env.TF_WH_SECRET;
    delete process.env.TF_WH_SECRET;
    try {
      await expect(startApp({ config, port: 0, storePath: null })).rejects.toThrow(/TF_WH_SECRET/);
    } finally {
      process.env.TF_WH_SECRET = s;
    }
  });
});
