/**
 * Pure formatting of alert payloads into Telegram HTML (parse_mode "HTML"): every dynamic value is
 * escaped (`&`, `<`, `>`), every line is self-contained (tags open and close on the same line), so a
 * message can be split on line boundaries without breaking markup. Limits: 4096 characters per text,
 * 1024 per caption, counted after entity parsing (tags removed, entities as one character).
 * No Node imports.
 */
import type { AlertPayload, DailyBiasAlert, EntryAlert, ExitAlert, ExitWarningAlert, RuleAlert, Side, SweepAlert, BreakEvenAlert, TrailAlert, PcrAlert } from './types.js';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;

/** Escape text for HTML parse mode (also `"` so the result is safe inside attribute values). */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** HTML → the plain text Telegram would show (tags removed, the supported entities decoded). */
export function stripHtml(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l === 'lt') return '<';
    if (l === 'gt') return '>';
    if (l === 'amp') return '&';
    if (l === 'quot') return '"';
    return String.fromCodePoint(l.startsWith('#x') ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10));
  });
}

/** Length as Telegram counts it (UTF-16 code units of the parsed text). */
export function visibleLength(html: string): number {
  return stripHtml(html).length;
}

/** Number with at most `dp` decimals, no trailing zeros, no exponent, ASCII minus. */
export function num(x: number, dp = 2): string {
  if (!Number.isFinite(x)) return 'n/a';
  const f = Math.round(x * 10 ** dp) / 10 ** dp;
  let s = f.toFixed(dp);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

export function signed(x: number, dp = 2): string {
  const s = num(x, dp);
  return x > 0 && s !== '0' ? `+${s}` : s;
}

/** "2024-01-10 00:07:00 UTC" */
export function utc(ts: number): string {
  return `${new Date(ts).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function duration(ms: number): string {
  if (!(ms >= 0)) return 'n/a';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${sec}s` : `${sec}s`;
}

const dir = (s: Side): string => (s === 'buy' ? 'LONG' : 'SHORT');
const dot = (s: Side): string => (s === 'buy' ? '🟢' : '🔴');
const code = (s: string): string => `<code>${escapeHtml(s)}</code>`;
const bold = (s: string): string => `<b>${escapeHtml(s)}</b>`;
const bullets = (xs: string[]): string[] => xs.map((x) => `• ${escapeHtml(x)}`);
const when = (ts: number): string => `🕒 ${utc(ts)}`;

function entry(a: EntryAlert): string[] {
  const vol = a.volume === null ? null : a.avgVolume && a.avgVolume > 0 ? `volume ${num(a.volume)} (${num(a.volume / a.avgVolume)}× avg ${num(a.avgVolume)})` : `volume ${num(a.volume)}`;
  const flow = [a.delta === null ? null : `Delta ${bold(signed(a.delta))}`, vol].filter((x): x is string => x !== null).join(' · ');
  return [
    `${dot(a.side)} <b>ENTRY SIGNAL · ${dir(a.side)}</b> ${code(a.symbol)}`,
    `Score ${bold(num(a.score))} · grade ${bold(a.grade)} · ${escapeHtml(a.pattern)}`,
    ...(flow ? [flow] : []),
    `Bias ${a.bias ? `${escapeHtml(a.bias.direction)} ${num(a.bias.confidence)} (${escapeHtml(a.bias.shape)})` : 'none'}`,
    `Entry ${code(a.entry)} · SL ${code(a.sl)} · TP ${code(a.tp)}`,
    `R:R ${bold(num(a.rr))}`,
    ...(a.level ? [`Level ${escapeHtml(a.level.kind)} ${code(a.level.price)} (strength ${num(a.level.strength)})`] : []),
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

function breakEven(a: BreakEvenAlert): string[] {
  return [
    `🛡 <b>BREAK EVEN</b> ${code(a.symbol)} · ${dir(a.side)} (grade ${escapeHtml(a.grade)})`,
    `Stop moved to entry ${code(a.sl)} · TP ${code(a.tp)}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

function trail(a: TrailAlert): string[] {
  return [
    `📐 <b>TRAIL UPDATE</b> ${code(a.symbol)} · ${dir(a.side)} (grade ${escapeHtml(a.grade)})`,
    `New SL ${code(a.sl)} · entry ${code(a.entry)} · TP ${code(a.tp)}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

const EXIT_REASON: Record<ExitAlert['reason'], string> = { sl: 'stop hit', tp: 'target hit', 'opposite-signal': 'opposite signal', manual: 'closed manually' };

function exit(a: ExitAlert): string[] {
  const pnl = Number(a.pnl);
  const icon = pnl > 0 ? '✅' : pnl < 0 ? '❌' : '⚪';
  return [
    `${icon} <b>EXIT · ${dir(a.side)}</b> ${code(a.symbol)} · ${EXIT_REASON[a.reason]}`,
    `Entry ${code(a.entry)} → exit ${code(a.exit)}`,
    `PnL ${bold(`${pnl > 0 ? '+' : ''}${escapeHtml(a.pnl)}`)} · ${bold(`${signed(a.r)} R`)} · held ${duration(a.durationMs)}`,
    ...bullets(a.summary),
    when(a.ts),
  ];
}

function exitWarning(a: ExitWarningAlert): string[] {
  return [
    `⚠️ <b>EXIT WARNING</b> ${code(a.symbol)} · ${dir(a.side)} open (grade ${escapeHtml(a.grade)})`,
    `Opposite ${escapeHtml(a.signalKind)}, strength ${bold(num(a.strength))} (closes at ${num(a.closeThreshold)})`,
    `Price ${code(a.price)} · entry ${code(a.entry)}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

function dailyBias(a: DailyBiasAlert): string[] {
  const d = a.direction.toUpperCase();
  const lines = [
    `🧭 <b>DAILY BIAS</b> ${code(a.symbol)} · ${escapeHtml(a.session)}`,
    `Prior session ${escapeHtml(a.priorSession)}: shape ${bold(a.shape)} → ${bold(d)}, confidence ${bold(num(a.confidence))}`,
    `Value acceptance ${escapeHtml(a.acceptance)}${a.warning ? ' · ⚠️ <b>WARNING</b>' : ''}`,
    `POC ${code(a.poc ?? 'n/a')} · VAH ${code(a.vah ?? 'n/a')} · VAL ${code(a.val ?? 'n/a')}`,
    `LVNs ${a.lvns.length ? a.lvns.map(code).join(', ') : 'none'}`,
    `Qualified levels${a.levels.length ? ':' : ' none'}`,
    ...a.levels.map((l) => `  ${escapeHtml(l.kind)} ${code(l.price)} strength ${num(l.strength)}${l.merged ? ' merged' : ''}${l.confluence ? ' confluence' : ''}`),
    ...bullets(a.reasoning),
    when(a.ts),
  ];
  return lines;
}

function rule(a: RuleAlert): string[] {
  return [
    `${a.signal === 'LONG' ? '🟢' : '🔴'} <b>${a.signal}</b> ${code(a.symbol)} · confidence ${bold(num(a.confidence))} (${escapeHtml(a.level)})`,
    `Price ${code(a.price)}`,
    `CVD ${signed(a.cvd)} · imbalance ${a.imbalance === null ? 'n/a' : signed(a.imbalance)} · VWAP ${a.vwap === null ? 'n/a' : code(num(a.vwap))}`,
    `Absorption ${signed(a.absorption)} · session ${a.session ? `${escapeHtml(a.session)} ` : ''}${a.sessionActive ? 'active' : 'inactive'}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

function sweep(a: SweepAlert): string[] {
  return [
    `⚡ <b>SWEEP</b> ${code(a.symbol)} · ${a.side === 'buy' ? 'buy side (bullish)' : 'sell side (bearish)'} ${code(a.low)}–${code(a.high)} · strength ${bold(num(a.strength))}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

function pcr(a: PcrAlert): string[] {
  const n = (x: number | null): string => (x === null ? 'n/a' : num(x));
  const icon = a.bias.includes('bullish') ? '🟢' : a.bias.includes('bearish') ? '🔴' : '⚪';
  return [
    `${icon} <b>PCR BIAS · ${escapeHtml(a.bias.toUpperCase())}</b> ${code(a.symbol)}${a.previousBias ? ` (was ${escapeHtml(a.previousBias)})` : ''}`,
    `Expiry ${escapeHtml(a.expiries.join(', '))} · spot ${code(n(a.spot))} · ATM ${code(n(a.atmStrike))}`,
    `PCR OI ${bold(n(a.pcrOi))} · near ATM ${bold(n(a.nearAtmPcrOi))} · volume ${bold(n(a.pcrVolume))} · session change ${a.changePcrOi === null ? 'n/a' : bold(signed(a.changePcrOi))}`,
    ...bullets(a.reasoning),
    when(a.ts),
  ];
}

/** The message of one alert, in HTML parse mode (may exceed the limits: see splitHtml / fitCaption). */
export function formatAlert(a: AlertPayload): string {
  switch (a.kind) {
    case 'entry': return entry(a).join('\n');
    case 'break_even': return breakEven(a).join('\n');
    case 'trail': return trail(a).join('\n');
    case 'exit': return exit(a).join('\n');
    case 'exit_warning': return exitWarning(a).join('\n');
    case 'daily_bias': return dailyBias(a).join('\n');
    case 'rule': return rule(a).join('\n');
    case 'sweep': return sweep(a).join('\n');
    case 'pcr': return pcr(a).join('\n');
  }
}

/** Cut one line to `limit` visible characters: its text is kept (markup dropped) and ends with "…". */
export function truncateLine(line: string, limit: number): string {
  if (visibleLength(line) <= limit) return line;
  let plain = stripHtml(line).slice(0, Math.max(0, limit - 1));
  const last = plain.charCodeAt(plain.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) plain = plain.slice(0, -1); // never split a surrogate pair
  return escapeHtml(plain) + '…';
}

/** Split HTML on line boundaries into parts of at most `limit` visible characters each. */
export function splitHtml(html: string, limit = TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let cur = '';
  let curLen = 0;
  for (const raw of html.split('\n')) {
    const line = truncateLine(raw, limit);
    const len = visibleLength(line);
    if (cur && curLen + 1 + len > limit) { parts.push(cur); cur = ''; curLen = 0; }
    cur = cur ? `${cur}\n${line}` : line;
    curLen = cur === line ? len : curLen + 1 + len;
  }
  if (cur || !parts.length) parts.push(cur);
  return parts;
}

/**
 * A caption for a photo: the whole message when it fits in `limit`, else its leading lines that fit;
 * `rest` is the remainder (to be sent as follow-up text), null when nothing was left out.
 */
export function fitCaption(html: string, limit = CAPTION_LIMIT): { caption: string; rest: string | null } {
  if (visibleLength(html) <= limit) return { caption: html, rest: null };
  const lines = html.split('\n');
  let n = 0, len = 0;
  for (; n < lines.length; n++) {
    const l = visibleLength(lines[n]) + (n ? 1 : 0);
    if (len + l > limit) break;
    len += l;
  }
  if (n === 0) return { caption: truncateLine(lines[0], limit), rest: lines.slice(1).join('\n') || null };
  return { caption: lines.slice(0, n).join('\n'), rest: lines.slice(n).join('\n') };
}
