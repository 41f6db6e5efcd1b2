/**
 * Drawing helpers on `widget.activeChart()`: POC/VAH/VAL, qualified levels, value-area box and trade
 * entries/exits via createShape / createMultipointShape. Works with both API styles: v22–v28 return
 * `EntityId | null` synchronously, v29 returns `Promise<EntityId>`; nulls are skipped. Never calls
 * createExecutionShape/createOrderLine (Trading Platform only on v29).
 */
export type EntityId = string;
export interface ShapePoint { time: number; price?: number; channel?: 'open' | 'high' | 'low' | 'close' }
/** Single-point shapes we draw with createShape (the library accepts only single-point tools there). */
export type SinglePointShape = 'arrow_up' | 'arrow_down' | 'flag' | 'vertical_line' | 'horizontal_line' | 'text' | 'note';
/** Tools we draw with createMultipointShape (a ray needs its one point through this call). */
export type MultipointShape = 'horizontal_ray' | 'trend_line' | 'rectangle' | 'price_label' | 'ray';
interface ShapeOptionsBase { text?: string; lock?: boolean; disableSelection?: boolean; disableSave?: boolean; disableUndo?: boolean; overrides?: Record<string, unknown>; zOrder?: 'top' | 'bottom'; showInObjectsTree?: boolean; filled?: boolean }
export interface CreateShapeOptions extends ShapeOptionsBase { shape: SinglePointShape }
export interface CreateMultipointShapeOptions extends ShapeOptionsBase { shape: MultipointShape }
/** The part of `widget.activeChart()` we call; v29's IChartWidgetApi and the v22–v28 one are assignable to it. */
export interface ChartApiLike {
  createShape(point: ShapePoint, options: CreateShapeOptions): EntityId | null | Promise<EntityId>;
  createMultipointShape(points: ShapePoint[], options: CreateMultipointShapeOptions): EntityId | null | Promise<EntityId>;
  removeEntity(id: EntityId, options?: { disableUndo?: boolean }): void;
}

/** Await a sync-or-async createShape result; null/undefined/rejection → null. */
export async function shapeId(r: EntityId | null | Promise<EntityId> | undefined): Promise<EntityId | null> {
  try { const id = await r; return id ?? null; } catch { return null; }
}

const common = { lock: true, disableSelection: true, disableSave: true, disableUndo: true, showInObjectsTree: false } as const;

export interface ProfileLevels { poc: number | null; vah: number | null; val: number | null; start: number; end?: number }

/** POC/VAH/VAL as horizontal rays from the profile start (Unix ms), plus an optional value-area box. */
export async function drawProfileLevels(chart: ChartApiLike, p: ProfileLevels, o: { box?: boolean; colors?: Partial<Record<'poc' | 'vah' | 'val' | 'box', string>> } = {}): Promise<EntityId[]> {
  const c = { poc: '#ffb300', vah: '#5c6bc0', val: '#5c6bc0', box: 'rgba(92,107,192,0.12)', ...(o.colors ?? {}) };
  const t = Math.floor(p.start / 1000);
  const ids: (EntityId | null)[] = [];
  for (const [k, price] of [['poc', p.poc], ['vah', p.vah], ['val', p.val]] as const) {
    if (price === null) continue;
    ids.push(await shapeId(chart.createMultipointShape([{ time: t, price }], { ...common, shape: 'horizontal_ray', text: k.toUpperCase(), overrides: { linecolor: c[k], linewidth: k === 'poc' ? 2 : 1, linestyle: k === 'poc' ? 0 : 2, showLabel: true, textcolor: c[k] } })));
  }
  if (o.box && p.vah !== null && p.val !== null && p.end !== undefined) {
    ids.push(await shapeId(chart.createMultipointShape([{ time: t, price: p.vah }, { time: Math.floor(p.end / 1000), price: p.val }], { ...common, shape: 'rectangle', overrides: { backgroundColor: c.box, color: c.box, fillBackground: true, linewidth: 0 } })));
  }
  return ids.filter((x): x is EntityId => x !== null);
}

export interface QualifiedLevel { price: number; time: number; label: string; color?: string; strength?: number }

export async function drawLevels(chart: ChartApiLike, levels: QualifiedLevel[]): Promise<EntityId[]> {
  const out: EntityId[] = [];
  for (const l of levels) {
    const id = await shapeId(chart.createMultipointShape([{ time: Math.floor(l.time / 1000), price: l.price }], { ...common, shape: 'horizontal_ray', text: l.label, overrides: { linecolor: l.color ?? '#ab47bc', linewidth: l.strength && l.strength >= 70 ? 2 : 1, showLabel: true } }));
    if (id) out.push(id);
  }
  return out;
}

export interface TradeMark { time: number; price: number; side: 'buy' | 'sell'; kind: 'entry' | 'exit'; text?: string }

export async function drawTrades(chart: ChartApiLike, trades: TradeMark[]): Promise<EntityId[]> {
  const out: EntityId[] = [];
  for (const t of trades) {
    const up = t.side === 'buy';
    const id = await shapeId(chart.createShape({ time: Math.floor(t.time / 1000), price: t.price }, { ...common, shape: up ? 'arrow_up' : 'arrow_down', text: t.text ?? `${t.kind} ${t.side}`, overrides: { color: t.kind === 'exit' ? '#787b86' : up ? '#26a69a' : '#ef5350' } }));
    if (id) out.push(id);
  }
  return out;
}

export function removeAll(chart: ChartApiLike, ids: EntityId[]): void { for (const id of ids) chart.removeEntity(id, { disableUndo: true }); }
