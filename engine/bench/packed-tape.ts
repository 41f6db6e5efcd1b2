/**
 * A recorded tape held off the JS heap: events packed into typed arrays and decoded into fresh event
 * objects one chunk at a time, as a feed decodes frames. Holding 1.7 M event objects (and their level
 * arrays) in the heap instead makes every major GC mark them all; a process that ingests live never
 * has such a heap, and the bench would measure the tape's GC cost rather than the engine's.
 */
import type { Level, MarketEvent, Side, SideSource } from '../src/core/events.js';

const K_TRADE = 0, K_QUOTE = 1, K_SNAP = 2, K_DELTA = 3, K_OTHER = 4;
const STRIDE = 8; // ts, x1..x4, first level, bid levels, ask levels
const SIDES: Side[] = ['buy', 'sell', 'unknown'];
const SOURCES: SideSource[] = ['flag', 'quote', 'tick', 'midtick', 'none'];

export class PackedTape {
  readonly length: number;
  private readonly kind: Uint8Array;
  private readonly inst: Uint16Array;
  private readonly f: Float64Array;
  private readonly lv: Float64Array;
  private readonly names: string[];
  /** events of other types (gaps, MBO): rare, kept as objects */
  private readonly other: MarketEvent[];

  constructor(events: readonly MarketEvent[]) {
    this.length = events.length;
    this.kind = new Uint8Array(events.length);
    this.inst = new Uint16Array(events.length);
    this.f = new Float64Array(events.length * STRIDE);
    this.names = [];
    this.other = [];
    const ids = new Map<string, number>();
    let nLevels = 0;
    for (const e of events) if (e.type === 'book_snapshot' || e.type === 'book_delta') nLevels += e.bids.length + e.asks.length;
    this.lv = new Float64Array(nLevels * 2);
    let l = 0;
    const putLevels = (ls: Level[]): void => { for (const [p, s] of ls) { this.lv[l++] = p; this.lv[l++] = s; } };
    events.forEach((e, i) => {
      let id = ids.get(e.instrument);
      if (id === undefined) { id = this.names.length; ids.set(e.instrument, id); this.names.push(e.instrument); }
      this.inst[i] = id;
      const o = i * STRIDE, f = this.f;
      f[o] = e.ts;
      switch (e.type) {
        case 'trade':
          this.kind[i] = K_TRADE;
          f[o + 1] = e.id; f[o + 2] = e.price; f[o + 3] = e.size; f[o + 4] = SIDES.indexOf(e.side) * 8 + SOURCES.indexOf(e.sideSource);
          break;
        case 'quote':
          this.kind[i] = K_QUOTE;
          f[o + 1] = e.bid; f[o + 2] = e.ask; f[o + 3] = e.bidSize; f[o + 4] = e.askSize;
          break;
        case 'book_snapshot':
        case 'book_delta':
          this.kind[i] = e.type === 'book_snapshot' ? K_SNAP : K_DELTA;
          f[o + 1] = e.seq;
          if (e.type === 'book_delta') { f[o + 2] = e.firstSeq; f[o + 3] = e.prevSeq; }
          f[o + 5] = l / 2; f[o + 6] = e.bids.length; f[o + 7] = e.asks.length;
          putLevels(e.bids); putLevels(e.asks);
          break;
        default:
          this.kind[i] = K_OTHER;
          f[o + 1] = this.other.length;
          this.other.push(e);
      }
    });
  }

  private levels(first: number, n: number): Level[] {
    const out: Level[] = new Array(n);
    for (let k = 0; k < n; k++) out[k] = [this.lv[(first + k) * 2], this.lv[(first + k) * 2 + 1]];
    return out;
  }

  /** Event `i` as a fresh object. */
  at(i: number): MarketEvent {
    const o = i * STRIDE, f = this.f, instrument = this.names[this.inst[i]], ts = f[o];
    switch (this.kind[i]) {
      case K_TRADE: { const c = f[o + 4]; return { type: 'trade', instrument, ts, id: f[o + 1], price: f[o + 2], size: f[o + 3], side: SIDES[c >> 3], sideSource: SOURCES[c & 7] }; }
      case K_QUOTE: return { type: 'quote', instrument, ts, bid: f[o + 1], ask: f[o + 2], bidSize: f[o + 3], askSize: f[o + 4] };
      case K_SNAP: return { type: 'book_snapshot', instrument, ts, seq: f[o + 1], bids: this.levels(f[o + 5], f[o + 6]), asks: this.levels(f[o + 5] + f[o + 6], f[o + 7]) };
      case K_DELTA: return { type: 'book_delta', instrument, ts, seq: f[o + 1], firstSeq: f[o + 2], prevSeq: f[o + 3], bids: this.levels(f[o + 5], f[o + 6]), asks: this.levels(f[o + 5] + f[o + 6], f[o + 7]) };
      default: return this.other[f[o + 1]];
    }
  }
}
