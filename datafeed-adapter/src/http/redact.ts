/**
 * The view of status objects given to callers without a token: no file paths and no error text
 * (they can name directories, users, hosts). Keys that hold paths are dropped, keys that hold error
 * text are replaced, and path-like words inside other strings are masked.
 */
const PATH_KEYS = /^(path|dbPath|file|filename|dir|directory|storePath|cwd)$/i;
const ERROR_KEYS = /^(lastError|error|err|stack|errorText)$/i;
const PATH_WORD = /(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?/g;

export function publicView<T>(v: T, depth = 0): T {
  if (typeof v === 'string') return v.replace(PATH_WORD, '[path]') as T;
  if (v === null || typeof v !== 'object' || depth > 8) return v;
  if (Array.isArray(v)) return v.map((x) => publicView(x, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (PATH_KEYS.test(k)) continue;
    if (ERROR_KEYS.test(k) && x !== null && x !== undefined) { out[k] = 'hidden (authenticate to see error text)'; continue; }
    out[k] = publicView(x, depth + 1);
  }
  return out as T;
}
