/**
 * Declarative query-parameter specs, compiled once into zod schemas (`paramSchema`): the same schemas
 * check every value here (bounds, enums, lengths, patterns) and describe the parameters in
 * /openapi.json (openapi.ts, zod-to-openapi). Validation: every known parameter checked, repeated ones
 * rejected; unknown ones such as a cache-buster `_=1` ignored.
 */
import { z } from 'zod';

export interface ParamSpec {
  name: string;
  in?: 'query' | 'path';
  type: 'integer' | 'number' | 'string' | 'boolean';
  required?: boolean;
  min?: number;
  max?: number;
  /** strings: allowed values */
  enum?: readonly string[];
  /** strings: max length (default 200) */
  maxLength?: number;
  pattern?: RegExp;
  default?: unknown;
  /** integer times: 'ms' (Unix ms) or 's' (Unix s); an RFC3339 time is accepted too and converted */
  time?: 'ms' | 's';
  /** other names of the parameter (e.g. `start_time` for `from`); giving two of them is an error */
  aliases?: readonly string[];
  description: string;
}

export class ParamError extends Error {
  constructor(readonly status: number, readonly param: string, readonly reason: string) {
    super(`invalid parameter "${param}": ${reason}`);
  }
}

const INT_RE = /^-?\d{1,16}$/;
/** RFC3339 date-time (offset required; `T`, `t` or a space; fraction of any length) */
export const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC3339 text → Unix ms (fraction truncated to ms), or undefined when a field is out of range. */
export function parseRfc3339(raw: string): number | undefined {
  const m = RFC3339_RE.exec(raw);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return undefined;
  let ms = Date.UTC(y, mo - 1, d, h, mi, Math.min(se, 59)) + Number(((m[7] ?? '') + '000').slice(0, 3));
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return undefined;
  const z = m[8]!;
  if (z !== 'Z' && z !== 'z') {
    const sign = z[0] === '-' ? -1 : 1;
    const oh = Number(z.slice(1, 3)), om = Number(z.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  return ms;
}
const NUM_RE = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Validate `query` against `specs`; parameters not in `specs` are ignored (clients add cache busters). */
export function validate(specs: readonly ParamSpec[], query: Record<string, unknown>, path: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    let raw = s.in === 'path' ? path[s.name] : query[s.name];
    for (const a of s.aliases ?? []) {
      if (query[a] === undefined) continue;
      if (raw !== undefined) throw new ParamError(400, a, `given together with "${s.name}" (they are the same parameter)`);
      raw = query[a];
    }
    if (Array.isArray(raw)) throw new ParamError(400, s.name, 'given more than once');
    if (raw !== undefined && typeof raw !== 'string') throw new ParamError(400, s.name, 'must be a plain value');
    if (raw === undefined || raw === '') {
      if (s.required) throw new ParamError(400, s.name, `required ${s.type} is missing`);
      if (s.default !== undefined) out[s.name] = s.default;
      continue;
    }
    out[s.name] = convert(s, raw);
  }
  return out;
}

/** The zod schema of one parameter's typed value (required form; openapi.ts adds optional/default). */
export function paramSchema(s: ParamSpec): z.ZodType {
  let sch = schemas.get(s);
  if (sch) return sch;
  switch (s.type) {
    case 'integer':
    case 'number': {
      let n = s.type === 'integer' ? z.number().int() : z.number();
      if (s.min !== undefined) n = n.min(s.min);
      if (s.max !== undefined) n = n.max(s.max);
      sch = n;
      break;
    }
    case 'boolean': sch = z.boolean(); break;
    default: {
      let str = z.string().max(s.maxLength ?? 200);
      if (s.pattern) str = str.regex(s.pattern);
      sch = s.enum ? z.enum(s.enum as [string, ...string[]]) : str;
    }
  }
  sch = sch.describe(s.description);
  schemas.set(s, sch);
  return sch;
}
const schemas = new WeakMap<ParamSpec, z.ZodType>();

/** The query (or path) parameters of a route as one zod object, for the OpenAPI document. */
export function paramsObject(specs: readonly ParamSpec[], where: 'query' | 'path'): z.ZodObject | undefined {
  const list = specs.filter((s) => (s.in ?? 'query') === where);
  if (!list.length) return undefined;
  return z.object(Object.fromEntries(list.map((s) => {
    let sch = paramSchema(s);
    // a time parameter also takes an RFC3339 text (converted by `validate`)
    if (s.time) sch = z.union([sch, z.string().regex(RFC3339_RE).describe('RFC3339 time, e.g. 2024-08-08T12:00:00Z')]).describe(s.description);
    if (s.default !== undefined) sch = (sch as z.ZodType<unknown>).default(s.default as never);
    else if (!s.required && where === 'query') sch = sch.optional();
    return [s.name, sch];
  })));
}

/** Query text → typed value (syntax only); the value is then checked by the parameter's zod schema. */
function convert(s: ParamSpec, raw: string): unknown {
  let v: unknown;
  switch (s.type) {
    case 'integer': {
      if (s.time && !INT_RE.test(raw) && RFC3339_RE.test(raw)) {
        const ms = parseRfc3339(raw);
        if (ms === undefined) throw new ParamError(400, s.name, `not a valid RFC3339 time: "${raw.slice(0, 40)}"`);
        v = s.time === 's' ? Math.floor(ms / 1000) : ms;
        break;
      }
      if (!INT_RE.test(raw)) throw new ParamError(400, s.name, `must be an integer${s.time ? ` (Unix ${s.time === 's' ? 'seconds' : 'ms'}) or an RFC3339 time` : ''}, got "${raw.slice(0, 30)}"`);
      v = Number(raw);
      if (!Number.isSafeInteger(v)) throw new ParamError(400, s.name, 'integer out of range');
      break;
    }
    case 'number': {
      if (!NUM_RE.test(raw)) throw new ParamError(400, s.name, `must be a number, got "${raw.slice(0, 30)}"`);
      v = Number(raw);
      if (!Number.isFinite(v)) throw new ParamError(400, s.name, 'must be finite');
      break;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') v = true;
      else if (raw === 'false' || raw === '0') v = false;
      else throw new ParamError(400, s.name, `must be true or false, got "${raw.slice(0, 30)}"`);
      break;
    default: v = raw;
  }
  if (plainlyValid(s, v)) return v;
  const r = paramSchema(s).safeParse(v);
  if (r.success) return r.data;
  throw new ParamError(400, s.name, reason(s, r.error.issues[0], v, raw));
}

/**
 * The checks paramSchema's schema makes, in plain code: a value passing them passes the schema
 * unchanged, so the common (valid) request skips zod's parse (7 % of an uncached /history answer's
 * CPU); anything else still goes to the schema, which decides and words the error.
 */
export function plainlyValid(s: ParamSpec, v: unknown): boolean {
  switch (s.type) {
    case 'integer':
    case 'number':
      return typeof v === 'number' && (s.type === 'number' ? Number.isFinite(v) : Number.isSafeInteger(v)) && (s.min === undefined || v >= s.min) && (s.max === undefined || v <= s.max);
    case 'boolean': return typeof v === 'boolean';
    default:
      if (typeof v !== 'string') return false;
      if (s.enum) return s.enum.includes(v);
      if (v.length > (s.maxLength ?? 200)) return false;
      if (s.pattern) { s.pattern.lastIndex = 0; return s.pattern.test(v); }
      return true;
  }
}

/** The zod issue as the API's `reason` text. */
function reason(s: ParamSpec, iss: z.core.$ZodIssue, v: unknown, raw: string): string {
  switch (iss.code) {
    case 'too_small': return `must be >= ${s.min}, got ${v}`;
    case 'too_big': return s.type === 'string' ? `longer than ${s.maxLength ?? 200} characters` : `must be <= ${s.max}, got ${v}`;
    case 'invalid_value': return `must be one of ${(s.enum ?? []).join(', ')}, got "${raw.slice(0, 30)}"`;
    case 'invalid_format': return `malformed value "${raw.slice(0, 30)}"`;
    default: return iss.message;
  }
}
