/**
 * MQL5 → C++ translation of the EA's own source (TapeFlowBridge.mq5 and the Include/*.mqh it includes),
 * so CI can compile and run the EA text itself against the real bridge server (shim/cpp/ supplies the
 * MQL5 API). The translation is mechanical and covers the MQL5 subset the EA uses: `input`,
 * `#property`, `#include`, `#define`, structs and enums, `string`, dynamic / fixed arrays and array
 * reference parameters, functions called before their definition. Anything outside that subset
 * (classes, templates, pointers, #import, …) is refused with file:line, so an EA change the shim
 * cannot run fails the build loudly instead of being skipped. `#line` directives keep g++ errors on
 * the .mq5/.mqh lines.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export class TranslateError extends Error {}

/** MQL5 scalar and API types that may declare arrays (user structs/enums are added per source). */
const BASE_TYPES = ['bool', 'char', 'uchar', 'short', 'ushort', 'int', 'uint', 'long', 'ulong', 'double', 'float', 'string', 'datetime', 'color', 'MqlTick', 'MqlBookInfo'];
/** Constructs the shim does not translate: refusing them is the "fails loudly" contract. */
const REFUSED: [RegExp, string][] = [
  [/\bclass\s+\w+/, 'classes'], [/\btemplate\s*</, 'templates'], [/\bvirtual\b/, 'virtual methods'], [/\boperator\s*[^\w\s]/, 'operator overloading'],
  [/\bnew\s+\w+/, 'new'], [/\bdelete\s+\w+/, 'delete'], [/\binterface\s+\w+/, 'interfaces'], [/\bunion\s+\w+/, 'unions'],
  [/\bthis\b/, 'this'], [/::/, 'scope resolution'], [/\bGetPointer\b/, 'object pointers'],
  [/\bsinput\b/, 'sinput'], [/\binput\s+group\b/, 'input groups'],
];

interface Masked { code: string; lits: string[] }

/** Replace string/char literals and comments by placeholders so regexes see only code. */
function mask(src: string): Masked {
  const lits: string[] = [];
  let out = '';
  for (let i = 0; i < src.length;) {
    const c = src[i], n = src[i + 1];
    if (c === '/' && n === '/') { const e = src.indexOf('\n', i); const end = e < 0 ? src.length : e; lits.push(src.slice(i, end)); out += `\u0001${lits.length - 1}\u0002`; i = end; continue; }
    if (c === '/' && n === '*') {
      const e = src.indexOf('*/', i + 2);
      const end = e < 0 ? src.length : e + 2;
      const text = src.slice(i, end);
      lits.push(text.replace(/[^\n]/g, ''));  // keep the newlines so line numbers hold
      out += `\u0001${lits.length - 1}\u0002`;
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) { if (src[j] === '\\') j++; if (src[j] === '\n') break; j++; }
      lits.push(src.slice(i, j + 1));
      out += `\u0001${lits.length - 1}\u0002`;
      i = j + 1;
      continue;
    }
    out += c;
    i++;
  }
  return { code: out, lits };
}
function unmask(code: string, lits: string[]): string {
  return code.replace(/\u0001(\d+)\u0002/g, (_, k: string) => lits[Number(k)]);
}
const lineOf = (code: string, idx: number): number => code.slice(0, idx).split('\n').length;

interface Unit { file: string; start: number; code: string; lits: string[] }

/** Inline #include files (each once, like the EA's include guards), recording each unit's origin. */
function load(file: string, includeRoot: string, seen: Set<string>, units: Unit[]): void {
  const abs = resolve(file);
  if (seen.has(abs)) return;
  seen.add(abs);
  const m = mask(readFileSync(abs, 'utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'));
  const lines = m.code.split('\n');
  let buf: string[] = [];
  let start = 1;
  const flush = (): void => { if (buf.length) units.push({ file: abs, start, code: `#line ${start} "${abs}"\n` + buf.join('\n'), lits: m.lits }); buf = []; };
  lines.forEach((ln, k) => {
    const inc = /^\s*#include\s+(<([^>]+)>|\u0001(\d+)\u0002)/.exec(ln);
    if (inc) {
      flush();
      const rel = inc[2] ?? m.lits[Number(inc[3])].slice(1, -1);
      const target = inc[2] ? join(includeRoot, rel) : join(dirname(abs), rel);
      load(target, includeRoot, seen, units);
      start = k + 2;
      return;
    }
    buf.push(ln);
  });
  flush();
}

function refuse(u: Unit, idx: number, what: string): never {
  throw new TranslateError(`${u.file}:${u.start + lineOf(u.code, idx) - 2}: the MQL5 shim cannot run ${what}; extend mt5-bridge/shim (translate.ts + cpp/) or keep the EA inside the supported subset`);
}

/** Split a declarator list at top-level commas. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, st = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(st, i)); st = i + 1; }
  }
  out.push(s.slice(st));
  return out;
}

export interface Translation {
  cpp: string;
  files: string[];
  handlers: string[];
  inputs: { name: string; type: string }[];
}

/** Translate an EA (the .mq5 file; includes resolve against `includeRoot`, MQL5/Include). */
export function translateEa(mq5: string, includeRoot = join(dirname(mq5), 'Include')): Translation {
  const units: Unit[] = [];
  load(mq5, includeRoot, new Set(), units);
  // user types first (arrays of them need MqlArray<>)
  const types = new Set(BASE_TYPES);
  for (const u of units) for (const m of u.code.matchAll(/\b(?:struct|enum)\s+(\w+)/g)) types.add(m[1]);
  const typeAlt = [...types].join('|');
  const protos: string[] = [];
  const handlers = new Set<string>();
  const inputs: { name: string; type: string }[] = [];
  const out: string[] = [];
  for (const u of units) {
    let code = u.code;
    for (const [re, what] of REFUSED) { const m = re.exec(code); if (m) refuse(u, m.index, what); }
    const ptr = new RegExp(`\\b(${typeAlt})\\s*\\*\\s*\\w+`).exec(code);
    if (ptr) refuse(u, ptr.index, 'pointers');
    // MQL5 enums are 4-byte ints: say so, so they can be declared ahead of the prototypes
    code = code.replace(/\benum\s+(\w+)\s*\{/g, (_m, n: string) => `enum ${n} : int {`);
    for (const m of code.matchAll(/^\s*#\s*(\w+)/gm)) {
      if (!['property', 'define', 'ifndef', 'ifdef', 'endif', 'else', 'undef', 'line'].includes(m[1])) refuse(u, m.index, `#${m[1]}`);
    }
    // #property: terminal metadata, no code
    code = code.replace(/^(\s*)#property\b.*$/gm, (l) => '// ' + l.trim());
    // input T name = default;  →  const T name = MqlInput<T>("name", default);
    code = code.replace(/^(\s*)input\s+(\w+)\s+(\w+)\s*(?:=\s*([^;]+))?;/gm, (_l, ind: string, type: string, name: string, def: string | undefined) => {
      inputs.push({ name, type });
      const t = type === 'string' ? 'MqlString' : type;
      return `${ind}const ${t} ${name} = MqlInput<${t}>("${name}", ${def ? def.trim() : `${t}()`});`;
    });
    // array parameters: [const] T &name[]  →  [const] MqlArray<T> &name
    code = code.replace(new RegExp(`(const\\s+)?\\b(${typeAlt})\\s*&\\s*(\\w+)\\s*\\[\\s*\\]`, 'g'), (_m, c: string | undefined, t: string, n: string) => `${c ?? ''}MqlArray<${t}> &${n}`);
    // by-value array parameters are not MQL5 (arrays are always passed by reference)
    // array declarations: T a[], b[N], c;  →  one declaration per declarator
    code = code.replace(new RegExp(`^(\\s*)(static\\s+)?\\b(${typeAlt})\\s+([^;(){}=]*\\[[^;(){}]*);`, 'gm'), (m, ind: string, st: string | undefined, t: string, decls: string) => {
      const parts = splitTop(decls).map((d) => d.trim());
      return ind + parts.map((d) => {
        const a = /^(\w+)\s*\[\s*([^\]]*)\]$/.exec(d);
        if (!a) return `${st ?? ''}${t} ${d};`;
        return a[2] ? `${st ?? ''}MqlArray<${t}> ${a[1]}(${a[2]}, true);` : `${st ?? ''}MqlArray<${t}> ${a[1]};`;
      }).join(' ');
    });
    // functions: collect prototypes (MQL5 may call a function defined further down), defaults stay in the prototype only
    let depth = 0;
    let res = '';
    let last = 0;
    const fnRe = new RegExp(`(^|\\n)([ \\t]*)((?:const\\s+)?\\b(?:void|${typeAlt})\\b[\\w\\s&]*?)\\b(\\w+)\\s*\\(([^()]*)\\)(\\s*)\\{`, 'g');
    // find depth-0 definitions by scanning braces
    const depthAt: number[] = new Array(code.length + 1);
    for (let i = 0; i < code.length; i++) { depthAt[i] = depth; if (code[i] === '{') depth++; else if (code[i] === '}') depth--; }
    depthAt[code.length] = depth;
    for (const m of code.matchAll(fnRe)) {
      const at = m.index! + m[1].length;
      if (depthAt[at] !== 0) continue;
      const [, , ind, ret, name, params, ws] = m;
      if (/^(if|for|while|switch|return)$/.test(name)) continue;
      if (name.startsWith('On')) handlers.add(name);
      const cleanParams = splitTop(params).map((p) => p.replace(/\s*=\s*[^,]+$/, '')).join(',');
      protos.push(unmask(`${ret.trim()} ${name}(${params.trim()});`, u.lits).replace(/\bstring\b/g, 'MqlString'));
      res += code.slice(last, at) + `${ind}${ret}${name}(${cleanParams})${ws}{`;
      last = m.index! + m[0].length;
    }
    code = res + code.slice(last);
    // the type `string` is MqlString (UTF-16, like MQL5)
    code = code.replace(/\bstring\b/g, 'MqlString');
    out.push(unmask(code, u.lits));
  }
  // every struct/enum declared ahead, then every prototype: MQL5 resolves functions defined further down
  const ahead: string[] = [];
  for (const u of units) {
    for (const m of u.code.matchAll(/\bstruct\s+(\w+)/g)) ahead.push(`struct ${m[1]};`);
    for (const m of u.code.matchAll(/\benum\s+(\w+)/g)) ahead.push(`enum ${m[1]} : int;`);
  }
  const h = (n: string): boolean => handlers.has(n);
  if (!h('OnInit')) throw new TranslateError(`${mq5}: no OnInit`);
  const adapters = [
    '\n// ---- event adapters for the shim runtime (generated)',
    `int mql_ea_OnInit() { return OnInit(); }`,
    `void mql_ea_OnDeinit(int reason) { ${h('OnDeinit') ? 'OnDeinit(reason);' : '(void)reason;'} }`,
    `void mql_ea_OnTimer() { ${h('OnTimer') ? 'OnTimer();' : ''} }`,
    `void mql_ea_OnTick() { ${h('OnTick') ? 'OnTick();' : ''} }`,
    `void mql_ea_OnBookEvent(const MqlString &symbol) { ${h('OnBookEvent') ? 'OnBookEvent(symbol);' : '(void)symbol;'} }`,
    `extern const bool mql_ea_has_OnTick = ${h('OnTick')}, mql_ea_has_OnBookEvent = ${h('OnBookEvent')}, mql_ea_has_OnTimer = ${h('OnTimer')};`,
  ];
  const cpp = [
    `// GENERATED from ${mq5} by mt5-bridge/shim/translate.ts: do not edit; edit the MQL5 source.`,
    '#include "mql5_api.hpp"',
    '// ---- declarations ahead (MQL5 resolves names defined further down; C++ needs them declared)',
    ...ahead,
    ...protos,
    ...out,
    ...adapters,
    '',
  ].join('\n');
  return { cpp, files: [...new Set(units.map((u) => u.file))], handlers: [...handlers], inputs };
}
