/**
 * A complete image of an engine node's deterministic state (Engine + books + signals of one
 * instrument), so a node taking the instrument over resumes from it instead of replaying the stream.
 *
 * Why a reflective image and not per-class save/restore code: the state is spread over ~40 classes
 * of the core (bars, footprint rows, profiles, VWAP, CVD, checksum accumulator, detectors, the trade
 * state machine, books); hand-written save/restore for each would be a second copy of every field
 * that silently falls behind when a field is added. The image walks the object graph instead:
 * - data (numbers, strings, arrays, typed arrays, Maps, Sets, plain and class objects) is recorded;
 *   shared references and cycles are kept (each object once, later occurrences by reference);
 * - functions (listeners, callbacks: the wiring) are not data: they are recorded as "keep", and the
 *   restore overlays the image onto a freshly wired twin, keeping the twin's functions and the
 *   identity of every object the twin already has (so closures that captured them stay valid);
 * - objects of the `fixed` list (the instrument registry and what it reaches at start: configuration
 *   built the same way on every node) are recorded by their index in that list, never copied;
 * - an object the twin does not have is built from its class prototype (`classes`, by name); a class
 *   name missing there, or a function inside such an object, fails with the class and path in the
 *   message — never a silently partial state.
 * Core-safe: no Node imports.
 */

type Proto = object;
/** the encoded form: arrays with a tag first (compact in msgpack) */
type Img = unknown;

const T_REF = 0, T_ARR = 1, T_MAP = 2, T_SET = 3, T_OBJ = 4, T_FN = 5, T_KEEP = 6, T_TYPED = 7, T_UNDEF = 8, T_NEGZ = 9, T_DATE = 10, T_BUF = 11, T_FIXED = 12;

const TYPED: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

/** Objects recorded by index: configuration every node builds identically (fixedObjects). */
export interface Fixed { list: readonly object[]; index: ReadonlyMap<object, number>; fingerprint: string }

export function fixedList(list: object[]): Fixed {
  const index = new Map<object, number>();
  list.forEach((o, i) => index.set(o, i));
  // two nodes must number the same objects the same way: the class sequence is checked at restore
  let h = 0;
  for (const o of list) for (const ch of `${(Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null)?.constructor?.name ?? ''},`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return { list, index, fingerprint: `${list.length}:${(h >>> 0).toString(16)}` };
}

/** Every object reachable from `roots`, in a deterministic order. */
export function reachable(roots: object[]): Set<object> {
  const seen = new Set<object>();
  const stack: unknown[] = [...roots];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) for (const [k, x] of v) { stack.push(k, x); }
    else if (v instanceof Set) for (const x of v) stack.push(x);
    else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  return seen;
}

/** Encode the state graph under `root` (an array or object of roots). */
export function captureImage(root: object, fixed: Fixed = fixedList([])): Img {
  const ids = new Map<object, number>();
  const enc = (v: unknown, path: string): Img => {
    switch (typeof v) {
      case 'number': return Object.is(v, -0) ? [T_NEGZ] : v;
      case 'string': case 'boolean': case 'bigint': return v;
      case 'undefined': return [T_UNDEF];
      case 'function': return [T_FN];
      case 'symbol': throw new Error(`state image: a symbol at ${path} cannot be recorded`);
    }
    if (v === null) return null;
    const obj = v as object;
    const fx = fixed.index.get(obj);
    if (fx !== undefined) return [T_FIXED, fx];
    const seen = ids.get(obj);
    if (seen !== undefined) return [T_REF, seen];
    const id = ids.size;
    ids.set(obj, id);
    if (Array.isArray(obj)) return [T_ARR, id, obj.map((x, i) => enc(x, `${path}[${i}]`))];
    if (obj instanceof Map) { const out: Img[] = []; let i = 0; for (const [k, x] of obj) { out.push(enc(k, `${path}.key${i}`), enc(x, `${path}.get(${String(k)})`)); i++; } return [T_MAP, id, out]; }
    if (obj instanceof Set) { const out: Img[] = []; let i = 0; for (const x of obj) out.push(enc(x, `${path}.set${i++}`)); return [T_SET, id, out]; }
    if (obj instanceof Date) return [T_DATE, id, obj.getTime()];
    if (obj instanceof ArrayBuffer) {
      // trailing zeros are not recorded: arena slabs and grid capacity are mostly unused (zeroed) room
      const u8 = new Uint8Array(obj);
      let end = u8.length;
      while (end > 0 && u8[end - 1] === 0) end--;
      return [T_BUF, id, obj.byteLength, u8.slice(0, end)];
    }
    if (ArrayBuffer.isView(obj)) {
      const name = obj.constructor.name;
      if (!(name in TYPED)) throw new Error(`state image: ${name} at ${path} cannot be recorded`);
      // the buffer by identity: views sharing one buffer (row grids, arenas) still share it when restored
      const n = (obj as unknown as { length: number }).length;
      return [T_TYPED, id, name, enc(obj.buffer, `${path}.buffer`), obj.byteOffset, n];
    }
    const proto = Object.getPrototypeOf(obj) as { constructor?: { name?: string } } | null;
    const cls = proto === null ? '' : proto === Object.prototype ? 'Object' : proto.constructor?.name ?? '';
    if (!cls) throw new Error(`state image: an object without a named class at ${path}`);
    const keys = Object.keys(obj);
    const vals: Img[] = [];
    for (const k of keys) vals.push(k, enc((obj as Record<string, unknown>)[k], `${path}.${k}`));
    return [T_OBJ, id, cls, Object.isFrozen(obj) ? 1 : 0, vals];
  };
  return [fixed.fingerprint, enc(root, 'root')];
}

/**
 * Overlay an image onto `twin` (the same graph freshly constructed and wired, before any event),
 * in place. `classes` gives the prototype of each class an image may hold that the twin lacks.
 */
export function restoreImage(twin: object, image: Img, classes: ReadonlyMap<string, Proto>, fixed: Fixed = fixedList([])): void {
  const [fingerprint, img] = image as [string, Img];
  if (fingerprint !== fixed.fingerprint) throw new Error(`state image: configuration objects differ (image ${fingerprint}, this node ${fixed.fingerprint}): the nodes do not run the same config`);
  const byId = new Map<number, unknown>();
  const protoOf = (cls: string, path: string): Proto | null => {
    if (cls === 'Object') return Object.prototype;
    const p = classes.get(cls);
    if (!p) throw new Error(`state image: class ${cls} at ${path} is not in the restore class list (engine/src/cluster/state-classes.ts)`);
    return p;
  };
  // dec: the value at `path`, given what the twin holds there (reused when it is the same kind)
  const dec = (e: Img, have: unknown, path: string): unknown => {
    if (!Array.isArray(e)) return e;
    const tag = e[0] as number;
    switch (tag) {
      case T_NEGZ: return -0;
      case T_UNDEF: return undefined;
      case T_FN: if (typeof have !== 'function') throw new Error(`state image: a function at ${path} that the fresh twin does not have (state held in a closure cannot be restored)`); return have;
      case T_KEEP: return have;
      case T_FIXED: { const o = fixed.list[e[1] as number]; if (o === undefined) throw new Error(`state image: configuration object ${String(e[1])} at ${path} unknown on this node`); return o; }
      case T_REF: { const id = e[1] as number; if (!byId.has(id)) throw new Error(`state image: dangling reference ${id} at ${path}`); return byId.get(id); }
    }
    const id = e[1] as number;
    switch (tag) {
      case T_DATE: { const d = new Date(e[2] as number); byId.set(id, d); return d; }
      case T_BUF: {
        const buf = new ArrayBuffer(e[2] as number);
        new Uint8Array(buf).set(e[3] as Uint8Array);
        byId.set(id, buf);
        return buf;
      }
      case T_TYPED: {
        const C = TYPED[e[2] as string] as unknown as new (b: ArrayBuffer, off: number, n: number) => ArrayBufferView;
        const buf = dec(e[3], undefined, `${path}.buffer`) as ArrayBuffer;
        const t = new C(buf, e[4] as number, e[5] as number);
        byId.set(id, t);
        return t;
      }
      case T_ARR: {
        const items = e[2] as Img[];
        const arr = Array.isArray(have) ? have : [];
        byId.set(id, arr);
        const old = arr.slice();
        arr.length = items.length;
        for (let i = 0; i < items.length; i++) arr[i] = dec(items[i], old[i], `${path}[${i}]`);
        return arr;
      }
      case T_MAP: {
        const kv = e[2] as Img[];
        const m = have instanceof Map ? have : new Map();
        byId.set(id, m);
        const old = new Map(m);
        m.clear();
        for (let i = 0; i < kv.length; i += 2) {
          const k = dec(kv[i], undefined, `${path}.key`);
          m.set(k, dec(kv[i + 1], old.get(k), `${path}.get(${String(k)})`));
        }
        return m;
      }
      case T_SET: {
        const s = have instanceof Set ? have : new Set();
        byId.set(id, s);
        s.clear();
        for (const x of e[2] as Img[]) s.add(dec(x, undefined, `${path}.set`));
        return s;
      }
      case T_OBJ: {
        const cls = e[2] as string, frozen = e[3] === 1, vals = e[4] as Img[];
        const twinCls = have !== null && typeof have === 'object' ? (Object.getPrototypeOf(have) === Object.prototype ? 'Object' : (Object.getPrototypeOf(have) as { constructor?: { name?: string } } | null)?.constructor?.name) : undefined;
        const reuse = twinCls === cls && !Object.isFrozen(have);
        const obj = (reuse ? have : Object.create(protoOf(cls, path))) as Record<string, unknown>;
        byId.set(id, obj);
        for (let i = 0; i < vals.length; i += 2) {
          const k = vals[i] as string;
          obj[k] = dec(vals[i + 1], reuse ? obj[k] : undefined, `${path}.${k}`);
        }
        if (frozen) Object.freeze(obj);
        return obj;
      }
    }
    throw new Error(`state image: unknown tag ${tag} at ${path}`);
  };
  const out = dec(img, twin, 'root');
  if (out !== twin) throw new Error('state image: the root does not match the twin');
}

/** Class name → prototype of every class found in `roots`' graphs (a fresh twin's, or a list). */
export function classesOf(roots: object[], into = new Map<string, Proto>()): Map<string, Proto> {
  for (const o of reachable(roots)) {
    const p = Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null;
    const name = p?.constructor?.name;
    if (!p || p === Object.prototype || Array.isArray(o) || o instanceof Map || o instanceof Set || ArrayBuffer.isView(o) || o instanceof ArrayBuffer || !name) continue;
    const had = into.get(name);
    if (had && had !== p) throw new Error(`state image: two classes named ${name}`);
    into.set(name, p);
  }
  return into;
}
