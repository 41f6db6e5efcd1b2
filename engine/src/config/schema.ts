/**
 * A small hand-written schema walker: checks a parsed YAML/JSON value against a schema, collects
 * every problem with its key path (`instruments[2].tickSize`), applies defaults, and returns the
 * normalized value. Pure (no Node APIs). Null counts as absent, so `server:` with every line
 * commented out means "use the defaults".
 */
import { normalizeDecimal } from '../core/decimal.js';
import { isSecretKey } from '../log.js';
import type { ConfigIssue } from './types.js';

export type Schema =
  | { type: 'string'; enum?: readonly string[]; pattern?: RegExp; patternHint?: string; check?: (v: string) => string | undefined }
  | { type: 'number'; integer?: boolean; min?: number; max?: number; gt?: number; lt?: number }
  | { type: 'boolean' }
  /** a positive decimal given as a string ("0.25") or a YAML number; normalized to a string */
  | { type: 'decimal' }
  | { type: 'array'; items: Schema; minItems?: number }
  | { type: 'object'; fields: Record<string, Field> }
  /** a map with user-chosen keys (e.g. named sessions) */
  | { type: 'map'; values: Schema; keyPattern?: RegExp; keyHint?: string }
  /** anything else: the function reports its own issues and returns the value or INVALID */
  | { type: 'custom'; walk: (v: unknown, path: string, issues: ConfigIssue[]) => unknown };

export interface Field {
  schema: Schema;
  required?: boolean;
  /** applied when the key is absent or null (a function is called each time, for fresh arrays) */
  default?: unknown;
}

/** Returned (and left out of parent objects) when a value failed validation. */
export const INVALID: unique symbol = Symbol('invalid');

export function keyPath(path: string, key: string): string {
  const k = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (!path) return k;
  return k.startsWith('"') ? `${path}[${k}]` : `${path}.${k}`;
}

export function indexPath(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** Short description of a value for "expected X, got Y" messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Edit distance counting an adjacent swap as one edit ("prot" -> "port" is 1). */
function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[m][n];
}

/** The closest allowed name when it is a likely typo, else undefined. */
export function suggest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  const lower = name.toLowerCase();
  for (const a of allowed) {
    const d = a.toLowerCase() === lower ? 0 : editDistance(lower, a.toLowerCase());
    if (d < bestD) { bestD = d; best = a; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

function isLiteral(v: unknown): boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

/** Report a secret-looking key holding a literal; returns true when it did. */
function secretIssue(key: string, value: unknown, path: string, envKeys: string[], issues: ConfigIssue[]): boolean {
  if (!isSecretKey(key) || !isLiteral(value)) return false;
  const own = envKeys.find((k) => k.toLowerCase() === `${key.toLowerCase()}env`) ?? envKeys[0];
  issues.push({
    path: keyPath(path, key),
    message: own
      ? `secrets come from environment variables: use ${own}`
      : 'secrets come from environment variables: remove it from the file (this section takes no secret)',
  });
  return true;
}

/** Secret literals hidden inside an unknown subtree are still reported (they must not sit in a file). */
function scanSecrets(v: unknown, path: string, issues: ConfigIssue[]): void {
  if (Array.isArray(v)) v.forEach((x, i) => scanSecrets(x, indexPath(path, i), issues));
  else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (!secretIssue(k, x, path, [], issues)) scanSecrets(x, keyPath(path, k), issues);
    }
  }
}

function fresh(d: unknown): unknown {
  if (typeof d === 'function') return (d as () => unknown)();
  return d === undefined ? undefined : structuredClone(d);
}

export function walk(schema: Schema, v: unknown, path: string, issues: ConfigIssue[]): unknown {
  const bad = (message: string): typeof INVALID => { issues.push({ path, message }); return INVALID; };
  switch (schema.type) {
    case 'string': {
      if (typeof v !== 'string') {
        // YAML turns `port: 8080` into a number; for strings accept plain numbers only where a string is unambiguous
        return bad(`expected a string, got ${describe(v)}`);
      }
      if (schema.enum && !schema.enum.includes(v)) {
        const s = suggest(v, schema.enum);
        return bad(`must be one of ${schema.enum.join(', ')}; got ${JSON.stringify(v)}${s ? ` (did you mean "${s}"?)` : ''}`);
      }
      if (schema.pattern && !schema.pattern.test(v)) return bad(`${schema.patternHint ?? `must match ${schema.pattern}`}; got ${JSON.stringify(v)}`);
      if (schema.check) {
        const m = schema.check(v);
        if (m) return bad(m);
      }
      return v;
    }
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`expected a number, got ${describe(v)}`);
      if (schema.integer && !Number.isInteger(v)) return bad(`expected a whole number, got ${v}`);
      if (schema.min !== undefined && v < schema.min) return bad(`out of range: ${v} is below the minimum ${schema.min}`);
      if (schema.max !== undefined && v > schema.max) return bad(`out of range: ${v} is above the maximum ${schema.max}`);
      if (schema.gt !== undefined && !(v > schema.gt)) return bad(`out of range: must be greater than ${schema.gt}, got ${v}`);
      if (schema.lt !== undefined && !(v < schema.lt)) return bad(`out of range: must be less than ${schema.lt}, got ${v}`);
      return v;
    }
    case 'boolean':
      if (typeof v !== 'boolean') return bad(`expected true or false, got ${describe(v)}`);
      return v;
    case 'decimal': {
      let s: string;
      if (typeof v === 'number' && Number.isFinite(v)) s = normalizeDecimal(String(v));
      else if (typeof v === 'string') s = normalizeDecimal(v);
      else return bad(`expected a decimal such as "0.25", got ${describe(v)}`);
      if (!/^\d+(\.\d+)?$/.test(s)) return bad(`expected a positive decimal such as "0.25", got ${describe(v)}`);
      if (!/[1-9]/.test(s)) return bad(`out of range: must be greater than 0, got ${JSON.stringify(s)}`);
      return s;
    }
    case 'array': {
      if (!Array.isArray(v)) return bad(`expected a list, got ${describe(v)}`);
      if (schema.minItems !== undefined && v.length < schema.minItems) return bad(`expected at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}, got ${v.length}`);
      const out: unknown[] = [];
      let ok = true;
      v.forEach((x, i) => {
        const r = walk(schema.items, x, indexPath(path, i), issues);
        if (r === INVALID) ok = false; else out.push(r);
      });
      return ok ? out : INVALID;
    }
    case 'object': {
      if (!isPlainObject(v)) return bad(`expected a map of keys, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      const allowed = Object.keys(schema.fields);
      const envKeys = allowed.filter((k) => k.endsWith('Env'));
      for (const [k, x] of Object.entries(v)) {
        if (secretIssue(k, x, path, envKeys, issues)) continue;
        if (!Object.prototype.hasOwnProperty.call(schema.fields, k)) {
          const s = suggest(k, allowed);
          issues.push({ path: keyPath(path, k), message: `unknown key${s ? ` (did you mean "${s}"?)` : ` (allowed: ${allowed.join(', ')})`}` });
          scanSecrets(x, keyPath(path, k), issues);
        }
      }
      for (const [k, f] of Object.entries(schema.fields)) {
        const x = v[k];
        if (x === undefined || x === null) {
          if (f.required) issues.push({ path: keyPath(path, k), message: 'required key is missing' });
          else if (f.default !== undefined) out[k] = fresh(f.default);
          continue;
        }
        if (isSecretKey(k) && isLiteral(x)) continue; // reported above
        const r = walk(f.schema, x, keyPath(path, k), issues);
        if (r !== INVALID) out[k] = r;
      }
      return out;
    }
    case 'map': {
      if (!isPlainObject(v)) return bad(`expected a map of names, got ${describe(v)}`);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (secretIssue(k, x, path, [], issues)) continue;
        if (schema.keyPattern && !schema.keyPattern.test(k)) {
          issues.push({ path: keyPath(path, k), message: `invalid name: ${schema.keyHint ?? `must match ${schema.keyPattern}`}` });
          continue;
        }
        const r = walk(schema.values, x, keyPath(path, k), issues);
        if (r !== INVALID) out[k] = r;
      }
      return out;
    }
    case 'custom':
      return schema.walk(v, path, issues);
  }
}
