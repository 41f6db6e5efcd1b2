/**
 * A local HTTP server on 127.0.0.1 that speaks the Telegram Bot API well enough for TapeFlow's alert
 * tests (shared/docs/telegram.md §2.1, §2.3): routes `/bot<token>/<method>`, parses query-string,
 * urlencoded, JSON and multipart bodies (Node's own `Request.formData()`), records every call, answers
 * in Telegram's envelope, and lets a test script failures: 429 with retry_after, 403, group → supergroup
 * migration, network errors (socket destroyed), stalls (a request left hanging), and raw non-JSON bodies. It also applies
 * Telegram's contract checks: text ≤ 4096 and caption ≤ 1024 characters after entity parsing, and HTML
 * that Telegram would refuse (unknown tags, unescaped `<` / `&`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inflateSync } from 'node:zlib';

export interface RecordedFile { filename: string; type: string; bytes: Buffer }

export interface RecordedCall {
  seq: number;
  method: string;
  token: string;
  /** text fields (query string merged with the body) */
  fields: Record<string, string>;
  files: Record<string, RecordedFile>;
  contentType: string;
  /** Date.now() when the request arrived */
  at: number;
  /** how the scripted/default handler answered */
  status: number;
}

export interface ScriptedReply {
  status?: number;
  body?: unknown;
  /** destroy the socket without answering (a network error for the client) */
  network?: boolean;
  /** never answer (until the server closes or `release()` is called) */
  stall?: boolean;
  /** answer this text as is (not JSON-encoded), e.g. a proxy's HTML error page; `contentType` default text/html */
  raw?: string;
  contentType?: string;
}

type Matcher = string | ((c: RecordedCall) => boolean);

const ALLOWED_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji']);

/** Length of an HTML-parse-mode text as Telegram counts it (tags removed, entities decoded; UTF-16 units). */
export function htmlVisibleLength(html: string): number {
  return html.replace(/<[^>]*>/g, '').replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, '_').length;
}

/** The error Telegram would return for this HTML, or null when it parses. */
export function htmlParseError(html: string): string | null {
  const stack: string[] = [];
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) return `Can't find end of the tag at byte offset ${i}`;
      const raw = html.slice(i + 1, end);
      const m = /^(\/?)([a-z-]+)(\s[^<>]*)?$/i.exec(raw);
      if (!m) return `Unsupported start tag "${raw}" at byte offset ${i}`;
      const name = m[2].toLowerCase();
      if (!ALLOWED_TAGS.has(name)) return `Unsupported start tag "${name}" at byte offset ${i}`;
      if (m[1]) {
        if (stack.pop() !== name) return `Can't find end tag corresponding to start tag "${name}"`;
      } else stack.push(name);
      i = end + 1;
    } else if (c === '>') {
      i++; // Telegram accepts a bare '>' but TapeFlow always escapes it; tolerated here like Telegram
    } else if (c === '&') {
      const m = /^&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i, i + 12));
      if (!m) return `Unsupported entity at byte offset ${i}`;
      i += m[0].length;
    } else i++;
  }
  if (stack.length) return `Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"`;
  return null;
}

export class BotApiServer {
  readonly calls: RecordedCall[] = [];
  /** updates served by getUpdates (update_id >= offset) */
  readonly updates: Record<string, unknown>[] = [];
  /** long-poll cap: a getUpdates with nothing to return answers after min(timeout, this) ms */
  longPollCapMs = 200;
  botUser = { id: 777, is_bot: true, first_name: 'TapeFlow', username: 'tapeflow_test_bot' };
  private server: Server | null = null;
  private scripts: { match: Matcher; reply: ScriptedReply | ((c: RecordedCall) => ScriptedReply); times: number }[] = [];
  private stalled: { res: ServerResponse; call: RecordedCall }[] = [];
  private pollers: (() => void)[] = [];
  private waiters: (() => void)[] = [];
  private sockets = new Set<Socket>();
  private seq = 0;
  private msgId = 0;
  private updateId = 100;
  /** when true every request stalls (a Bot API that accepts connections and never answers) */
  stallAll = false;

  get url(): string {
    const a = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => { void this.handle(req, res); });
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const p of this.pollers.splice(0)) p();
    for (const s of this.stalled.splice(0)) s.res.destroy();
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  /** Script the next `times` calls matching `match` (a method name or a predicate). */
  once(match: Matcher, reply: ScriptedReply | ((c: RecordedCall) => ScriptedReply), times = 1): void {
    this.scripts.push({ match, reply, times });
  }

  /** 429 Too Many Requests with parameters.retry_after. */
  tooMany(match: Matcher, retryAfter: number, times = 1): void {
    this.once(match, { status: 429, body: { ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`, parameters: { retry_after: retryAfter } } }, times);
  }

  /** 403 Forbidden: bot was blocked by the user. */
  blocked(match: Matcher, times = 1): void {
    this.once(match, { status: 403, body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' } }, times);
  }

  /** 400 group chat was upgraded to a supergroup chat, with parameters.migrate_to_chat_id. */
  migrated(match: Matcher, to: number, times = 1): void {
    this.once(match, { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: group chat was upgraded to a supergroup chat', parameters: { migrate_to_chat_id: to } } }, times);
  }

  networkError(match: Matcher, times = 1): void { this.once(match, { network: true }, times); }

  /** Answer every stalled request (with the default reply) and stop stalling. */
  release(): void {
    this.stallAll = false;
    for (const s of this.stalled.splice(0)) this.answer(s.res, s.call, this.defaultReply(s.call));
  }

  get stalledCount(): number { return this.stalled.length; }

  /** Queue an update for getUpdates (update_id assigned when missing). */
  pushUpdate(u: Record<string, unknown>): number {
    const id = typeof u.update_id === 'number' ? u.update_id : ++this.updateId;
    this.updates.push({ ...u, update_id: id });
    for (const p of this.pollers.splice(0)) p();
    return id;
  }

  /** A text message from a private chat (or a group when chatId < 0), as a user would type it. */
  sendText(chatId: number, text: string, fromId = Math.abs(chatId)): number {
    const entities = text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(/\s/)[0].length }] : undefined;
    return this.pushUpdate({
      message: {
        message_id: ++this.msgId, date: Math.floor(Date.now() / 1000), text, entities,
        chat: chatId < 0 ? { id: chatId, type: 'supergroup', title: 'group' } : { id: chatId, type: 'private', first_name: 'user' },
        from: { id: fromId, is_bot: false, first_name: 'user' },
      },
    });
  }

  /** Calls of one method (in arrival order). */
  of(method: string): RecordedCall[] { return this.calls.filter((c) => c.method === method); }

  /** Calls that delivered something (sendMessage / sendPhoto answered 200). */
  delivered(): RecordedCall[] { return this.calls.filter((c) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && c.status === 200); }

  /** Resolve when `pred` holds (checked after every call), reject after `timeoutMs`. */
  async waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.calls.length} calls: ${this.calls.map((c) => `${c.method}:${c.status}`).join(' ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  private matches(m: Matcher, c: RecordedCall): boolean {
    return typeof m === 'string' ? m === c.method : m(c);
  }

  private defaultReply(c: RecordedCall): ScriptedReply {
    const chatId = Number(c.fields.chat_id);
    const chat = chatId < 0 ? { id: chatId, type: 'supergroup', title: 'group' } : { id: chatId, type: 'private', first_name: 'user' };
    const date = Math.floor(Date.now() / 1000);
    switch (c.method) {
      case 'getMe': return { body: { ok: true, result: this.botUser } };
      case 'deleteWebhook': case 'setWebhook': case 'setMyCommands': return { body: { ok: true, result: true } };
      case 'sendMessage': {
        const err = this.contract(c.fields.text ?? '', c.fields.parse_mode, 4096, 'message is too long');
        if (err) return err;
        return { body: { ok: true, result: { message_id: ++this.msgId, date, chat, text: c.fields.text } } };
      }
      case 'sendPhoto': {
        const err = this.contract(c.fields.caption ?? '', c.fields.parse_mode, 1024, 'message caption is too long');
        if (err) return err;
        const f = c.files.photo;
        if (!f && !c.fields.photo) return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: there is no photo in the request' } };
        if (f && f.bytes.length > 10 * 1024 * 1024) return { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' } };
        return { body: { ok: true, result: { message_id: ++this.msgId, date, chat, caption: c.fields.caption, photo: [{ file_id: `file-${this.msgId}`, file_unique_id: `u${this.msgId}`, width: 100, height: 100 }] } } };
      }
      default: return { status: 404, body: { ok: false, error_code: 404, description: 'Not Found: method not found' } };
    }
  }

  private contract(text: string, parseMode: string | undefined, max: number, tooLong: string): ScriptedReply | null {
    if (parseMode === 'HTML') {
      const e = htmlParseError(text);
      if (e) return { status: 400, body: { ok: false, error_code: 400, description: `Bad Request: can't parse entities: ${e}` } };
    }
    const len = parseMode === 'HTML' ? htmlVisibleLength(text) : text.length;
    if (len > max) return { status: 400, body: { ok: false, error_code: 400, description: `Bad Request: ${tooLong}` } };
    return null;
  }

  private answer(res: ServerResponse, c: RecordedCall, r: ScriptedReply): void {
    if (res.destroyed || res.socket?.destroyed) { c.status = -2; this.notify(); return; } // the client gave up: nothing delivered
    c.status = r.status ?? 200;
    if (r.raw !== undefined) {
      res.writeHead(c.status, { 'content-type': r.contentType ?? 'text/html' });
      res.end(r.raw);
    } else {
      res.writeHead(c.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body ?? { ok: true, result: true }));
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const ch of req) chunks.push(ch as Buffer);
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    let body: Buffer;
    try { body = await this.readBody(req); } catch { return; }
    if (!m) { res.writeHead(404).end(JSON.stringify({ ok: false, error_code: 404, description: 'Not Found' })); return; }
    const contentType = String(req.headers['content-type'] ?? '');
    const fields: Record<string, string> = {};
    const files: Record<string, RecordedFile> = {};
    for (const [k, v] of url.searchParams) fields[k] = v;
    if (body.length) {
      if (contentType.startsWith('application/json')) {
        for (const [k, v] of Object.entries(JSON.parse(body.toString('utf8')) as Record<string, unknown>)) fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
      } else {
        const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }).formData();
        for (const [k, v] of form) {
          if (typeof v === 'string') fields[k] = v;
          else files[k] = { filename: v.name, type: v.type, bytes: Buffer.from(await v.arrayBuffer()) };
        }
      }
    }
    const call: RecordedCall = { seq: ++this.seq, method: m[2], token: m[1], fields, files, contentType, at: Date.now(), status: 0 };
    this.calls.push(call);
    const script = this.scripts.find((s) => s.times > 0 && this.matches(s.match, call));
    if (script) script.times--;
    this.scripts = this.scripts.filter((s) => s.times > 0);
    const reply = script ? (typeof script.reply === 'function' ? script.reply(call) : script.reply) : null;
    if (reply?.network) { call.status = -1; req.socket.destroy(); this.notify(); return; }
    if (reply?.stall || (!reply && this.stallAll && call.method !== 'getUpdates')) { this.stalled.push({ res, call }); this.notify(); return; }
    if (!reply && call.method === 'getUpdates') { await this.getUpdates(res, call); return; }
    this.answer(res, call, reply ?? this.defaultReply(call));
  }

  private async getUpdates(res: ServerResponse, call: RecordedCall): Promise<void> {
    const offset = Number(call.fields.offset ?? 0);
    const pick = (): Record<string, unknown>[] => this.updates.filter((u) => (u.update_id as number) >= offset);
    let out = pick();
    if (!out.length) {
      const wait = Math.min(Number(call.fields.timeout ?? 0) * 1000, this.longPollCapMs);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.pollers.push(() => { clearTimeout(t); resolve(); });
      });
      out = pick();
    }
    this.answer(res, call, { body: { ok: true, result: out } });
  }
}

export async function startBotApiServer(): Promise<BotApiServer> {
  return new BotApiServer().start();
}

// ───────────────────────────── PNG helpers (decode to check uploads; tiny encoder for stubs) ─────────────────────────────

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface DecodedPng { width: number; height: number; bitDepth: number; colorType: number; chunks: string[]; pixelBytes: number }

/**
 * Fully decode a PNG's structure: signature, every chunk's CRC, IHDR, and the inflated IDAT stream
 * whose length must equal height × (1 + bytes per row). Throws on any inconsistency.
 */
export function decodePng(buf: Uint8Array): DecodedPng {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  for (let i = 0; i < 8; i++) if (buf[i] !== sig[i]) throw new Error('not a PNG signature');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let width = 0, height = 0, bitDepth = 0, colorType = 0;
  while (off < buf.length) {
    const len = dv.getUint32(off);
    const type = String.fromCharCode(...buf.subarray(off + 4, off + 8));
    const data = buf.subarray(off + 8, off + 8 + len);
    const crc = dv.getUint32(off + 8 + len);
    if (crc32(buf.subarray(off + 4, off + 8 + len)) !== crc) throw new Error(`bad CRC in ${type}`);
    chunks.push(type);
    if (type === 'IHDR') { width = dv.getUint32(off + 8); height = dv.getUint32(off + 12); bitDepth = data[8]; colorType = data[9]; }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
    if (type === 'IEND') break;
  }
  if (chunks[0] !== 'IHDR' || chunks[chunks.length - 1] !== 'IEND') throw new Error('PNG must start with IHDR and end with IEND');
  const channels: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const bpp = (channels[colorType] ?? 0) * bitDepth;
  const raw = inflateSync(Buffer.concat(idat));
  const expect = height * (1 + Math.ceil((width * bpp) / 8));
  if (raw.length !== expect) throw new Error(`IDAT inflates to ${raw.length} bytes, expected ${expect}`);
  return { width, height, bitDepth, colorType, chunks, pixelBytes: raw.length };
}

/**
 * A clock for the sender that never sleeps: `sleep(ms)` advances virtual time by `ms` on the next turn
 * of the event loop (unless aborted first), so waits of seconds are checked in microseconds.
 */
export class VirtualClock {
  readonly sleeps: number[] = [];
  constructor(public t = Date.UTC(2024, 0, 10, 12, 0, 0)) {}
  now(): number { return this.t; }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(() => {
      if (!signal?.aborted) { this.t += ms; this.sleeps.push(ms); }
      resolve();
    }));
  }
}
