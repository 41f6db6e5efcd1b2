/**
 * Validation of a parsed TapeFlow config (pure: no file or environment access). Every problem is
 * collected with its key path; defaults are applied; instruments are checked against the built-in
 * registry (overrides) and resolved exactly as buildRegistry will resolve them.
 */
import { InstrumentRegistry, resolveInstrument, type InstrumentSpec } from '../core/instruments.js';
import { SESSION_TEMPLATES, isSessionTemplate, isTimeZone, parseHHMM, type SessionSpec } from '../core/sessions.js';
import { parseTimeframe } from '../analytics/timeframe.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { ALERT_KINDS } from '../alerts/types.js';
import { FEED_VENUES } from '../venues/registry.js';
import { DEFAULT_PCR_THRESHOLDS, pcrThresholdsProblem } from '../signals/pcr.js';
import { INVALID, describe, indexPath, keyPath, suggest, walk, type Field, type Schema } from './schema.js';
import {
  ASSET_CLASSES, FLOW_KINDS, defaultConfig,
  type ConfigIssue, type InstrumentConfig, type SessionDefinition, type SessionRef, type TapeFlowConfig,
} from './types.js';

const ENV_NAME: Schema = {
  type: 'string', pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  patternHint: 'must be the NAME of an environment variable (letters, digits, _), not the secret itself',
};

const nonEmpty: Schema = { type: 'string', check: (v) => (v.trim() === '' ? 'must not be empty' : undefined) };

function urlSchema(protocols: string[], what: string): Schema {
  return {
    type: 'string',
    check: (v) => {
      let u: URL;
      try { u = new URL(v); } catch { return `not a valid URL: ${JSON.stringify(v)}`; }
      if (!protocols.includes(u.protocol)) return `${what} must start with ${protocols.map((p) => p + '//').join(' or ')}; got ${JSON.stringify(v)}`;
      return undefined;
    },
  };
}

const timeSchema = (which: 'start' | 'end'): Schema => ({
  type: 'string',
  check: (v) => {
    try {
      const m = parseHHMM(v);
      if (which === 'start' && m === 1440) return 'start must be before 24:00';
    } catch (e) { return (e as Error).message; }
    return undefined;
  },
});

const WEEKDAYS = [1, 2, 3, 4, 5];

const SESSION_DEF: Schema = {
  type: 'object',
  fields: {
    timezone: { required: true, schema: { type: 'string', check: (v) => (isTimeZone(v) ? undefined : `unknown time zone ${JSON.stringify(v)} (use an IANA name such as America/New_York)`) } },
    start: { required: true, schema: timeSchema('start') },
    end: { required: true, schema: timeSchema('end') },
    days: { default: () => [...WEEKDAYS], schema: { type: 'array', minItems: 1, items: { type: 'number', integer: true, min: 1, max: 7 } } },
  },
};

const TEMPLATE_NAMES = Object.keys(SESSION_TEMPLATES);

/** Resolve an instrument's session reference (template, named session, or inline hours). */
export function resolveSessionRef(ref: SessionRef, sessions: Record<string, SessionDefinition>, instrumentId = 'custom'): SessionSpec {
  if (typeof ref === 'string') {
    if (isSessionTemplate(ref)) return SESSION_TEMPLATES[ref];
    const def = Object.prototype.hasOwnProperty.call(sessions, ref) ? sessions[ref] : undefined;
    if (!def) throw new Error(`unknown session template "${ref}"`);
    return { name: ref, timezone: def.timezone, start: def.start, end: def.end, days: [...def.days] };
  }
  return { name: `${instrumentId}:custom`, timezone: ref.timezone, start: ref.start, end: ref.end, days: [...ref.days] };
}

let builtinCache: Map<string, InstrumentSpec> | null = null;
function builtins(): Map<string, InstrumentSpec> {
  builtinCache ??= new Map(InstrumentRegistry.builtinSpecs().map((s) => [s.id, s]));
  return builtinCache;
}

/** The full instrument spec for a config entry: built-in values (if the id is built in) + overrides. */
export function instrumentSpec(ic: InstrumentConfig, sessions: Record<string, SessionDefinition>): InstrumentSpec {
  const base = builtins().get(ic.id);
  const assetClass = ic.assetClass ?? base?.assetClass;
  const tickSize = ic.tickSize ?? base?.tickSize;
  const lotStep = ic.lotStep ?? base?.lotStep;
  const profileRow = ic.profileRow ?? base?.profileRow;
  if (!assetClass || !tickSize || !lotStep || !profileRow) {
    throw new Error(`instrument ${ic.id}: a new instrument needs assetClass, tickSize, lotStep and profileRow`);
  }
  const session = ic.session !== undefined
    ? resolveSessionRef(ic.session, sessions, ic.id)
    : base?.session ?? (assetClass === 'crypto' ? SESSION_TEMPLATES.crypto_24x7 : SESSION_TEMPLATES.full_day);
  const spec: InstrumentSpec = {
    id: ic.id,
    symbol: ic.symbol ?? base?.symbol ?? ic.id,
    venue: ic.venue ?? base?.venue ?? 'custom',
    assetClass,
    description: ic.description ?? base?.description ?? ic.id,
    tickSize,
    lotStep,
    profileRow,
    contractSize: ic.contractSize ?? base?.contractSize ?? 1,
    session,
    thresholds: {
      absorptionMinVolume: ic.thresholds?.absorptionMinVolume ?? base?.thresholds.absorptionMinVolume ?? 30,
      initiativeMinDelta: ic.thresholds?.initiativeMinDelta ?? base?.thresholds.initiativeMinDelta ?? 20,
    },
    flow: ic.flow ?? base?.flow ?? (assetClass === 'crypto' ? 'orderflow' : 'quote-activity'),
  };
  // a new profileRow drops the built-in footprint row (it was sized for the old profile row)
  const footprintRow = ic.footprintRow ?? (ic.profileRow === undefined ? base?.footprintRow : undefined);
  if (footprintRow !== undefined) spec.footprintRow = footprintRow;
  const primary = ic.primary ?? base?.primary;
  if (primary !== undefined) spec.primary = primary;
  return spec;
}

/** Exact decimal check: is `value` a positive whole multiple of `step`? (both normalized decimal strings) */
export function isMultipleOf(value: string, step: string): boolean {
  const dec = (s: string): number => (s.includes('.') ? s.length - s.indexOf('.') - 1 : 0);
  const d = Math.max(dec(value), dec(step));
  const units = (s: string): bigint => BigInt(s.replace('.', '') + '0'.repeat(d - dec(s)));
  const v = units(value), st = units(step);
  return st > 0n && v > 0n && v % st === 0n;
}

const INSTRUMENT_FIELDS: Record<string, Field> = {
  id: { required: true, schema: { type: 'string', pattern: /^[A-Za-z0-9][A-Za-z0-9_.:\-/]*$/, patternHint: 'must be letters, digits and _ . : - / (e.g. NAS100, BINANCE_SPOT:BTCUSDT)' } },
  symbol: { schema: nonEmpty },
  venue: { schema: nonEmpty },
  assetClass: { schema: { type: 'string', enum: ASSET_CLASSES } },
  description: { schema: { type: 'string' } },
  tickSize: { schema: { type: 'decimal' } },
  lotStep: { schema: { type: 'decimal' } },
  profileRow: { schema: { type: 'decimal' } },
  footprintRow: { schema: { type: 'decimal' } },
  contractSize: { schema: { type: 'number', gt: 0 } },
  session: { schema: { type: 'custom', walk: () => INVALID } }, // replaced per validation run (needs the session names)
  thresholds: {
    schema: {
      type: 'object',
      fields: {
        absorptionMinVolume: { schema: { type: 'number', min: 0 } },
        initiativeMinDelta: { schema: { type: 'number', min: 0 } },
      },
    },
  },
  flow: { schema: { type: 'string', enum: FLOW_KINDS } },
  primary: { schema: { type: 'boolean' } },
};

const NEW_INSTRUMENT_REQUIRED = ['assetClass', 'tickSize', 'lotStep', 'profileRow'] as const;

function instrumentsSchema(sessionNames: Set<string>, validSessions: Record<string, SessionDefinition>): Schema {
  const sessionRef: Schema = {
    type: 'custom',
    walk: (v, path, issues) => {
      if (typeof v === 'string') {
        if (isSessionTemplate(v) || sessionNames.has(v)) return v;
        const known = [...TEMPLATE_NAMES, ...sessionNames];
        const s = suggest(v, known);
        issues.push({ path, message: `unknown session template ${JSON.stringify(v)}${s ? ` (did you mean "${s}"?)` : ''}; known: ${known.join(', ')}` });
        return INVALID;
      }
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return walk(SESSION_DEF, v, path, issues);
      issues.push({ path, message: `expected a session name or {timezone, start, end, days}, got ${describe(v)}` });
      return INVALID;
    },
  };
  const item: Schema = { type: 'object', fields: { ...INSTRUMENT_FIELDS, session: { schema: sessionRef } } };
  return {
    type: 'custom',
    walk: (v, path, issues) => {
      if (!Array.isArray(v)) {
        issues.push({ path, message: `expected a list of instruments (- id: ...), got ${describe(v)}` });
        return INVALID;
      }
      const out: InstrumentConfig[] = [];
      const firstAt = new Map<string, number>();
      v.forEach((raw, i) => {
        const p = indexPath(path, i);
        const before = issues.length;
        const o = walk(item, raw, p, issues);
        if (o === INVALID) return;
        const ic = o as InstrumentConfig;
        const given = raw as Record<string, unknown>;
        const has = (k: string): boolean => given[k] !== undefined && given[k] !== null;
        if (ic.id === undefined) return;
        const prev = firstAt.get(ic.id);
        if (prev !== undefined) {
          issues.push({ path: keyPath(p, 'id'), message: `duplicate id ${JSON.stringify(ic.id)} (already configured at ${indexPath(path, prev)})` });
          return;
        }
        firstAt.set(ic.id, i);
        const base = builtins().get(ic.id);
        if (!base) {
          const caseTwin = [...builtins().keys()].find((k) => k.toLowerCase() === ic.id.toLowerCase());
          if (caseTwin) {
            issues.push({ path: keyPath(p, 'id'), message: `unknown instrument id ${JSON.stringify(ic.id)}: ids are case-sensitive (did you mean the built-in "${caseTwin}"?)` });
            return;
          }
          for (const k of NEW_INSTRUMENT_REQUIRED) {
            if (!has(k)) issues.push({ path: keyPath(p, k), message: `required for a new instrument (${JSON.stringify(ic.id)} is not a built-in id)` });
          }
        }
        // rows must sit on the tick grid; report at the key the user wrote
        const tick = ic.tickSize ?? (has('tickSize') ? undefined : base?.tickSize);
        if (tick !== undefined) {
          const rows: Array<['profileRow' | 'footprintRow', string | undefined]> = [
            ['profileRow', ic.profileRow ?? (has('profileRow') ? undefined : base?.profileRow)],
            ['footprintRow', ic.footprintRow ?? (has('footprintRow') || has('profileRow') ? undefined : base?.footprintRow)],
          ];
          for (const [k, row] of rows) {
            if (row === undefined || isMultipleOf(row, tick)) continue;
            if (has(k)) issues.push({ path: keyPath(p, k), message: `${row} is not a multiple of tick size ${tick}` });
            else issues.push({ path: keyPath(p, 'tickSize'), message: `the built-in ${k} ${row} is not a multiple of tick size ${tick}; set ${k} too` });
          }
        }
        if (issues.length === before) {
          if (typeof ic.session === 'string' && sessionNames.has(ic.session) && !validSessions[ic.session]) return; // its own errors are reported
          try {
            resolveInstrument(instrumentSpec(ic, validSessions));
          } catch (e) {
            issues.push({ path: p, message: (e as Error).message });
            return;
          }
        }
        out.push(ic);
      });
      return out;
    },
  };
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const PCR_T: Schema = { type: 'number', gt: 0, max: 100 };
/** feeds[].kite (venue kite): engine/src/venues/kite/config.ts; thresholds must increase (signals/pcr.ts) */
const KITE: Schema = {
  type: 'object',
  fields: {
    mode: { schema: { type: 'string', enum: ['ltp', 'quote', 'full'] } },
    holidays: { schema: { type: 'array', items: { type: 'string', pattern: DAY_RE, patternHint: 'YYYY-MM-DD' } } },
    pcr: {
      schema: {
        type: 'object',
        fields: {
          underlying: { required: true, schema: { type: 'string', pattern: /^\S.*$/, patternHint: 'an option name of the instruments dump (NIFTY, BANKNIFTY, …)' } },
          spot: { required: true, schema: { type: 'string', pattern: /^[A-Z]+:.+$/, patternHint: 'EXCHANGE:tradingsymbol, e.g. "NSE:NIFTY 50"' } },
          expiry: { schema: { type: 'custom', walk: (v, path, issues) => {
            if (v === 'nearest') return v;
            if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && DAY_RE.test(x))) return v;
            issues.push({ path, message: `expected "nearest" or a list of YYYY-MM-DD expiries, got ${JSON.stringify(v)}` });
            return INVALID;
          } } },
          strikes: { schema: { type: 'number', integer: true, min: 0, max: 100 } },
          thresholds: { schema: { type: 'custom', walk: (v, path, issues) => {
            const r = walk({ type: 'object', fields: { strongBearish: { schema: PCR_T }, bearish: { schema: PCR_T }, bullish: { schema: PCR_T }, strongBullish: { schema: PCR_T } } }, v, path, issues);
            if (r === INVALID) return r;
            const p = pcrThresholdsProblem({ ...DEFAULT_PCR_THRESHOLDS, ...(r as object) });
            if (p) { issues.push({ path, message: p }); return INVALID; }
            return r;
          } } },
        },
      },
    },
  },
};

const FEED: Schema = {
  type: 'object',
  fields: {
    venue: { required: true, schema: { type: 'string', enum: [...FEED_VENUES] } },
    symbols: {
      required: true,
      schema: {
        type: 'custom',
        walk: (v, path, issues) => {
          const r = walk({ type: 'array', minItems: 1, items: nonEmpty }, v, path, issues);
          if (r === INVALID) return r;
          const seen = new Set<string>();
          let ok = true;
          (r as string[]).forEach((s, i) => {
            if (seen.has(s)) { issues.push({ path: indexPath(path, i), message: `duplicate symbol ${JSON.stringify(s)}` }); ok = false; }
            seen.add(s);
          });
          return ok ? r : INVALID;
        },
      },
    },
    wsUrl: { schema: urlSchema(['ws:', 'wss:'], 'wsUrl') },
    restUrl: { schema: urlSchema(['http:', 'https:'], 'restUrl') },
    routing: { schema: { type: 'string', enum: ['split', 'root'] } },
    kite: { schema: KITE },
    enabled: { default: true, schema: { type: 'boolean' } },
  },
};

const ORIGIN: Schema = {
  type: 'string',
  check: (v) => {
    if (v === '*') return undefined;
    let u: URL;
    try { u = new URL(v); } catch { return `not an origin: ${JSON.stringify(v)} (use scheme://host[:port] or "*")`; }
    if (u.origin !== v) return `not an origin: ${JSON.stringify(v)} (use scheme://host[:port] with no path or trailing slash, e.g. ${JSON.stringify(u.origin)})`;
    return undefined;
  },
};

/** a Host header name: DNS name or IP address, no scheme, port or path */
const HOST_NAME: Schema = {
  type: 'string',
  check: (v) => (/^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]+|[A-Za-z0-9.-]+)$/.test(v.trim()) ? undefined : `not a host name: ${JSON.stringify(v)} (a DNS name or IP address without scheme, port or path, e.g. "charts.example.com")`),
};

/** "HH:MM", 00:00–24:00 */
const HM: Schema = { type: 'string', check: (v) => (/^([01]?\d|2[0-3]):[0-5]\d$|^24:00$/.test(v.trim()) ? undefined : `expected a time "HH:MM", got ${JSON.stringify(v)}`) };

const TIME_ZONE: Schema = { type: 'string', check: (v) => (isTimeZone(v) ? undefined : `unknown time zone ${JSON.stringify(v)} (use an IANA name such as Europe/Berlin)`) };

const CHAT_ID: Schema = {
  type: 'custom',
  walk: (v, path, issues) => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      issues.push({ path, message: `expected a numeric chat id such as 123456789 or -1001234567890, got ${describe(v)}` });
      return INVALID;
    }
    return n;
  },
};

const TIMEFRAME: Schema = {
  type: 'string',
  check: (v) => { try { parseTimeframe(v); return undefined; } catch (e) { return (e as Error).message; } },
};

function rootSchema(sessionNames: Set<string>, validSessions: Record<string, SessionDefinition>): Schema {
  const d = defaultConfig();
  return {
    type: 'object',
    fields: {
      instruments: { default: () => [], schema: instrumentsSchema(sessionNames, validSessions) },
      sessions: { default: () => ({}), schema: { type: 'custom', walk: () => validSessions } }, // walked first, see validateConfig
      feeds: { default: () => [], schema: { type: 'array', items: FEED } },
      server: {
        default: d.server,
        schema: {
          type: 'object',
          fields: {
            host: { default: d.server.host, schema: nonEmpty },
            port: { default: d.server.port, schema: { type: 'number', integer: true, min: 0, max: 65535 } },
            cors: {
              default: d.server.cors,
              schema: { type: 'object', fields: { origins: { default: () => [], schema: { type: 'array', items: ORIGIN } } } },
            },
            authTokenEnv: { schema: ENV_NAME },
            protect: { default: d.server.protect, schema: { type: 'string', enum: ['api', 'all'] } },
            allowedHosts: { default: () => [], schema: { type: 'array', items: HOST_NAME } },
            allowNoAuth: { default: d.server.allowNoAuth, schema: { type: 'boolean' } },
            jwt: {
              schema: {
                type: 'object',
                fields: {
                  secretEnv: { default: 'TAPEFLOW_JWT_SECRET', schema: ENV_NAME },
                  ttlS: { default: 900, schema: { type: 'number', integer: true, min: 10, max: 86_400 } },
                  revoked: { default: () => [], schema: { type: 'array', items: { type: 'string', pattern: /^[\w-]{1,80}$/, patternHint: 'a token id (jti)' } } },
                },
              },
            },
            authThrottle: {
              default: d.server.authThrottle,
              schema: {
                type: 'object',
                fields: {
                  maxFailures: { default: d.server.authThrottle.maxFailures, schema: { type: 'number', integer: true, min: 1, max: 10_000 } },
                  windowS: { default: d.server.authThrottle.windowS, schema: { type: 'number', integer: true, min: 1, max: 86_400 } },
                  lockS: { default: d.server.authThrottle.lockS, schema: { type: 'number', integer: true, min: 1, max: 86_400 } },
                },
              },
            },
          },
        },
      },
      store: {
        default: d.store,
        schema: {
          type: 'object',
          fields: {
            path: { default: d.store.path, schema: nonEmpty },
            retentionDays: { schema: { type: 'number', integer: true, min: 1 } },
            maxQueuedOps: { schema: { type: 'number', integer: true, min: 1000 } },
          },
        },
      },
      alerts: {
        default: d.alerts,
        schema: {
          type: 'object',
          fields: {
            telegram: {
              default: d.alerts.telegram,
              schema: {
                type: 'object',
                fields: {
                  enabled: { default: false, schema: { type: 'boolean' } },
                  tokenEnv: { default: d.alerts.telegram.tokenEnv, schema: ENV_NAME },
                  chatIdsEnv: { schema: ENV_NAME },
                  allowChatIds: { schema: { type: 'array', items: CHAT_ID } },
                  outboxTtlHours: { schema: { type: 'number', gt: 0, max: 24 * 30 } },
                  apiRoot: { schema: urlSchema(['http:', 'https:'], 'apiRoot') },
                  dbPath: { schema: nonEmpty },
                  kinds: { default: () => [...d.alerts.telegram.kinds], schema: { type: 'array', items: { type: 'string', enum: ALERT_KINDS } } },
                  charts: { default: d.alerts.telegram.charts, schema: { type: 'boolean' } },
                  commands: { default: d.alerts.telegram.commands, schema: { type: 'string', enum: ['polling', 'webhook', 'off'] } },
                  webhook: {
                    default: () => ({ ...d.alerts.telegram.webhook }),
                    schema: {
                      type: 'object',
                      fields: {
                        path: { default: d.alerts.telegram.webhook.path, schema: { type: 'string', pattern: /^\/(?!api(\/|$))[A-Za-z0-9_.\-/]*$/, patternHint: 'must be a path starting with / (letters, digits, _ . - /), not under /api' } },
                        secretEnv: { default: d.alerts.telegram.webhook.secretEnv, schema: ENV_NAME },
                        publicUrl: { schema: urlSchema(['https:'], 'publicUrl') },
                      },
                    },
                  },
                  quietHours: {
                    schema: {
                      type: 'object',
                      fields: {
                        start: { required: true, schema: HM },
                        end: { required: true, schema: HM },
                        timezone: { default: 'UTC', schema: TIME_ZONE },
                        mode: { default: 'silent', schema: { type: 'string', enum: ['silent', 'suppress'] } },
                      },
                    },
                  },
                  cooldownMs: { schema: { type: 'object', fields: Object.fromEntries(ALERT_KINDS.map((k) => [k, { schema: { type: 'number', integer: true, min: 0 } }])) } },
                },
              },
            },
          },
        },
      },
      analytics: {
        default: d.analytics,
        schema: {
          type: 'object',
          fields: {
            timeframe: { default: d.analytics.timeframe, schema: TIMEFRAME },
            valueAreaPct: { default: d.analytics.valueAreaPct, schema: { type: 'number', gt: 0, max: 1 } },
            imbalance: {
              default: d.analytics.imbalance,
              schema: {
                type: 'object',
                fields: {
                  ratio: { default: d.analytics.imbalance.ratio, schema: { type: 'number', min: 1 } },
                  compare: { default: d.analytics.imbalance.compare, schema: { type: 'string', enum: ['diagonal', 'horizontal'] } },
                  minDominant: { default: d.analytics.imbalance.minDominant, schema: { type: 'number', min: 0 } },
                  minOther: { default: d.analytics.imbalance.minOther, schema: { type: 'number', min: 0 } },
                  zeroPolicy: { default: d.analytics.imbalance.zeroPolicy, schema: { type: 'string', enum: ['ignore', 'imbalance', 'requireMinOther'] } },
                  metric: { default: d.analytics.imbalance.metric, schema: { type: 'string', enum: ['volume', 'trades'] } },
                },
              },
            },
            stackedMinRows: { default: d.analytics.stackedMinRows, schema: { type: 'number', integer: true, min: 1, max: 100 } },
            cvdReset: { default: d.analytics.cvdReset, schema: { type: 'string', enum: ['session', 'never'] } },
            barMemoryMB: { default: d.analytics.barMemoryMB, schema: { type: 'number', min: 8, max: 65_536 } },
          },
        },
      },
      paper: {
        default: d.paper,
        schema: {
          type: 'object',
          fields: {
            enabled: { default: d.paper.enabled, schema: { type: 'boolean' } },
            initialBalance: { default: d.paper.initialBalance, schema: { type: 'number', gt: 0 } },
            notionalPerTrade: { default: d.paper.notionalPerTrade, schema: { type: 'number', gt: 0 } },
            maxPositionPct: { default: d.paper.maxPositionPct, schema: { type: 'number', gt: 0, max: 100 } },
            maxExposurePct: { default: d.paper.maxExposurePct, schema: { type: 'number', gt: 0, max: 1000 } },
            dailyLossPct: { default: d.paper.dailyLossPct, schema: { type: 'number', gt: 0, max: 100 } },
            feeBps: { default: d.paper.feeBps, schema: { type: 'number', min: 0, max: 1000 } },
            slippageBps: { default: d.paper.slippageBps, schema: { type: 'number', min: 0, max: 1000 } },
          },
        },
      },
      ruleMode: {
        default: () => ({ ...d.ruleMode, seed: { ...d.ruleMode.seed } }),
        schema: {
          type: 'object',
          fields: {
            preset: { default: d.ruleMode.preset, schema: { type: 'string', enum: ['flowsight', 'seed'] } },
            seed: {
              default: () => ({ ...d.ruleMode.seed }),
              schema: {
                type: 'object',
                fields: {
                  minConfidence: { default: d.ruleMode.seed.minConfidence, schema: { type: 'number', min: 0, max: 10 } },
                  maxDailySignals: { default: d.ruleMode.seed.maxDailySignals, schema: { type: 'number', integer: true, min: 1, max: 1000 } },
                },
              },
            },
          },
        },
      },
      merged: {
        default: () => [],
        schema: {
          type: 'array',
          items: {
            type: 'object',
            fields: {
              id: { required: true, schema: nonEmpty },
              sources: { required: true, schema: { type: 'array', items: nonEmpty } },
              tickSize: { schema: nonEmpty },
              row: { schema: { type: 'decimal' } },
            },
          },
        },
      },
      mt5: {
        default: d.mt5,
        schema: {
          type: 'object',
          fields: {
            enabled: { default: d.mt5.enabled, schema: { type: 'boolean' } },
            host: { default: d.mt5.host, schema: nonEmpty },
            port: { default: d.mt5.port, schema: { type: 'number', integer: true, min: 0, max: 65535 } },
            secretEnv: { default: d.mt5.secretEnv, schema: ENV_NAME },
            // "" keeps the broker name (turns the heuristics off for that symbol)
            symbols: { default: () => ({}), schema: { type: 'map', values: { type: 'string' } } },
            suffixes: { schema: { type: 'array', items: nonEmpty } },
            prefixes: { schema: { type: 'array', items: nonEmpty } },
            dst: { schema: { type: 'string', enum: ['auto', 'us', 'eu', 'none'] } },
            dbPath: { schema: nonEmpty },
          },
        },
      },
      cluster: {
        default: d.cluster,
        schema: {
          type: 'object',
          fields: {
            servers: { default: () => [...d.cluster.servers], schema: { type: 'array', items: nonEmpty } },
            nodeId: { schema: nonEmpty },
            instruments: { default: () => [], schema: { type: 'array', items: nonEmpty } },
            files: { default: () => [], schema: { type: 'array', items: nonEmpty } },
            replicas: { default: d.cluster.replicas, schema: { type: 'number', integer: true, min: 1, max: 5 } },
            retention: {
              default: d.cluster.retention,
              schema: {
                type: 'object',
                fields: {
                  maxAgeS: { default: d.cluster.retention.maxAgeS, schema: { type: 'number', integer: true, min: 0 } },
                  maxBytes: { default: d.cluster.retention.maxBytes, schema: { type: 'number', integer: true, min: -1 } },
                },
              },
            },
            dedupWindowS: { default: d.cluster.dedupWindowS, schema: { type: 'number', integer: true, min: 1 } },
            leaseTtlMs: { default: d.cluster.leaseTtlMs, schema: { type: 'number', integer: true, min: 500 } },
            snapshotEveryMs: { default: d.cluster.snapshotEveryMs, schema: { type: 'number', integer: true, min: 100 } },
            opsPort: { default: d.cluster.opsPort, schema: { type: 'number', integer: true, min: 0, max: 65535 } },
            clockMs: { default: d.cluster.clockMs, schema: { type: 'number', integer: true, min: 0 } },
            liveWindowMs: { default: d.cluster.liveWindowMs, schema: { type: 'number', integer: true, min: 1000 } },
            wsIntervals: { default: () => ({}), schema: { type: 'object', fields: Object.fromEntries(['tick', 'bar', 'footprint', 'delta', 'vwap', 'profile', 'orderbook', 'stats', 'trade_state'].map((k) => [k, { schema: { type: 'number', integer: true, min: 0 } }])) } },
          },
        },
      },
      log: {
        default: d.log,
        schema: {
          type: 'object',
          fields: {
            level: { default: d.log.level, schema: { type: 'string', enum: LOG_LEVELS } },
            format: { default: d.log.format, schema: { type: 'string', enum: LOG_FORMATS } },
          },
        },
      },
    },
  };
}

const SESSION_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Validate a parsed config (e.g. YAML.parse output). Pure. Returns the typed config with defaults
 * when there are no errors; `errors` always lists every problem found.
 */
export function validateConfig(raw: unknown): { config?: TapeFlowConfig; errors: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  if (raw === null || raw === undefined) return { config: defaultConfig(), errors };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { errors: [{ path: '', message: `expected a map of sections (instruments, feeds, server, …), got ${describe(raw)}` }] };
  }
  const root = raw as Record<string, unknown>;
  // sessions first: instruments refer to them by name
  const sessionNames = new Set<string>();
  let validSessions: Record<string, SessionDefinition> = {};
  if (root.sessions !== undefined && root.sessions !== null) {
    if (typeof root.sessions === 'object' && !Array.isArray(root.sessions)) {
      for (const k of Object.keys(root.sessions)) sessionNames.add(k);
    }
    const r = walk({ type: 'map', values: SESSION_DEF, keyPattern: SESSION_NAME, keyHint: 'start with a letter; letters, digits, _ and -' }, root.sessions, 'sessions', errors);
    if (r !== INVALID) validSessions = r as Record<string, SessionDefinition>;
    for (const name of sessionNames) {
      if (isSessionTemplate(name)) {
        errors.push({ path: keyPath('sessions', name), message: `name clashes with the built-in session template "${name}"; choose another name` });
        delete validSessions[name];
      }
    }
  }
  const out = walk(rootSchema(sessionNames, validSessions), raw, '', errors);
  if (out !== INVALID) {
    // imbalance minimums are instrument units, or trade counts (whole numbers) with metric 'trades'
    const im = (out as TapeFlowConfig).analytics?.imbalance;
    if (im && im.metric === 'trades') {
      for (const k of ['minDominant', 'minOther'] as const) {
        if (!Number.isInteger(im[k])) errors.push({ path: `analytics.imbalance.${k}`, message: `with metric: trades this is a trade count, got ${im[k]}` });
      }
    }
  }
  if (errors.length || out === INVALID) return { errors };
  const config = { ...(out as Omit<TapeFlowConfig, 'source'>), source: null } as TapeFlowConfig;
  return { config, errors };
}
