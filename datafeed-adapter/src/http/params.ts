/**
 * Declarative query-parameter specs: one table drives validation (every known parameter checked,
 * repeated ones rejected; unknown ones such as a cache-buster `_=1` ignored) and the OpenAPI document.
 */
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
  description: string;
}

export class ParamError extends Error {
  constructor(readonly status: number, readonly param: string, readonly reason: string) {
    super(`invalid parameter "${param}": ${reason}`);
  }
}

const INT_RE = /^-?\d{1,16}$/;
const NUM_RE = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Validate `query` against `specs`; parameters not in `specs` are ignored (clients add cache busters). */
export function validate(specs: readonly ParamSpec[], query: Record<string, unknown>, path: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    const raw = s.in === 'path' ? path[s.name] : query[s.name];
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

function convert(s: ParamSpec, raw: string): unknown {
  switch (s.type) {
    case 'integer': {
      if (!INT_RE.test(raw)) throw new ParamError(400, s.name, `must be an integer, got "${raw.slice(0, 30)}"`);
      const v = Number(raw);
      if (!Number.isSafeInteger(v)) throw new ParamError(400, s.name, 'integer out of range');
      range(s, v);
      return v;
    }
    case 'number': {
      if (!NUM_RE.test(raw)) throw new ParamError(400, s.name, `must be a number, got "${raw.slice(0, 30)}"`);
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new ParamError(400, s.name, 'must be finite');
      range(s, v);
      return v;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ParamError(400, s.name, `must be true or false, got "${raw.slice(0, 30)}"`);
    default: {
      const max = s.maxLength ?? 200;
      if (raw.length > max) throw new ParamError(400, s.name, `longer than ${max} characters`);
      if (s.enum && !s.enum.includes(raw)) throw new ParamError(400, s.name, `must be one of ${s.enum.join(', ')}, got "${raw.slice(0, 30)}"`);
      if (s.pattern && !s.pattern.test(raw)) throw new ParamError(400, s.name, `malformed value "${raw.slice(0, 30)}"`);
      return raw;
    }
  }
}

function range(s: ParamSpec, v: number): void {
  if (s.min !== undefined && v < s.min) throw new ParamError(400, s.name, `must be >= ${s.min}, got ${v}`);
  if (s.max !== undefined && v > s.max) throw new ParamError(400, s.name, `must be <= ${s.max}, got ${v}`);
}

/** OpenAPI 3.1 parameter objects for a spec list. */
export function openapiParams(specs: readonly ParamSpec[]): unknown[] {
  return specs.map((s) => {
    const schema: Record<string, unknown> = { type: s.type };
    if (s.min !== undefined) schema.minimum = s.min;
    if (s.max !== undefined) schema.maximum = s.max;
    if (s.enum) schema.enum = [...s.enum];
    if (s.default !== undefined) schema.default = s.default;
    if (s.type === 'string') schema.maxLength = s.maxLength ?? 200;
    return { name: s.name, in: s.in ?? 'query', required: s.in === 'path' ? true : !!s.required, description: s.description, schema };
  });
}
