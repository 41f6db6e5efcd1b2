/**
 * FNV-1a-style checksum over a stream of market events (two 32-bit lanes → 16 hex digits). Each
 * number is folded in as the two 32-bit words of its IEEE-754 double (-0 folded into 0, NaN
 * canonical), one FNV-1a step (xor, multiply by the FNV prime) per word; strings as UTF-16 code
 * units. The second lane uses a different basis and an extra shift so the pair is 64 bits wide.
 * Pure JS (no Node crypto) so browsers and Node agree.
 */
import type { Level, MarketEvent } from '../core/events.js';

const TYPE_CODE: Record<MarketEvent['type'], number> = { trade: 1, quote: 2, book_snapshot: 3, book_delta: 4, gap: 5, mbo: 6 };
const SIDE_CODE: Record<string, number> = { buy: 1, sell: 2, unknown: 3 };
const SRC_CODE: Record<string, number> = { flag: 1, quote: 2, tick: 3, midtick: 4, none: 5 };

export class EventChecksum {
  private a = 0x811c9dc5;
  private b = 0xcbf29ce4; // second lane: different offset basis
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);
  private lastStr = '';
  private lastStrA = 0;
  private lastStrB = 0;
  /** number of events folded in */
  count = 0;

  private byte(v: number): void {
    this.a = Math.imul(this.a ^ v, 0x01000193);
    this.b = Math.imul(this.b ^ v, 0x01000193) ^ (this.b >>> 13);
  }

  num(x: number): void {
    this.f64[0] = x === 0 ? 0 : x !== x ? NaN : x;
    const w0 = this.u32[0];
    const w1 = this.u32[1];
    let a = Math.imul(this.a ^ w0, 0x01000193);
    a = Math.imul(a ^ w1, 0x01000193);
    let b = Math.imul(this.b ^ w0, 0x01000193) ^ (this.b >>> 13);
    b = Math.imul(b ^ w1, 0x01000193) ^ (b >>> 13);
    this.a = a;
    this.b = b;
  }

  str(s: string): void {
    // instrument names repeat on every event: cache the lane states of the last string
    if (s === this.lastStr && s !== '') {
      this.byte(this.lastStrA);
      this.byte(this.lastStrB);
      return;
    }
    let ha = 0x811c9dc5;
    let hb = 0x9e3779b9;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      ha = Math.imul(ha ^ c, 0x01000193);
      hb = Math.imul(hb ^ c, 0x01000193) ^ (hb >>> 13);
    }
    this.lastStr = s;
    this.lastStrA = ha & 0xff ^ (ha >>> 24);
    this.lastStrB = hb & 0xff ^ (hb >>> 24);
    this.byte(this.lastStrA);
    this.byte(this.lastStrB);
  }

  private levels(ls: Level[]): void {
    this.num(ls.length);
    for (let i = 0; i < ls.length; i++) {
      this.num(ls[i][0]);
      this.num(ls[i][1]);
    }
  }

  add(ev: MarketEvent): void {
    this.count++;
    this.byte(TYPE_CODE[ev.type]);
    this.str(ev.instrument);
    this.num(ev.ts);
    switch (ev.type) {
      case 'trade':
        this.num(ev.id); this.num(ev.price); this.num(ev.size);
        this.byte(SIDE_CODE[ev.side]); this.byte(SRC_CODE[ev.sideSource]);
        break;
      case 'quote':
        this.num(ev.bid); this.num(ev.ask); this.num(ev.bidSize); this.num(ev.askSize);
        break;
      case 'book_snapshot':
        this.num(ev.seq); this.levels(ev.bids); this.levels(ev.asks);
        break;
      case 'book_delta':
        this.num(ev.firstSeq); this.num(ev.seq); this.num(ev.prevSeq); this.levels(ev.bids); this.levels(ev.asks);
        break;
      case 'gap':
        this.num(ev.from); this.num(ev.to); this.str(ev.reason);
        break;
      case 'mbo':
        this.str(ev.action); this.byte(SIDE_CODE[ev.side]); this.num(ev.price); this.num(ev.size); this.str(ev.orderId); this.num(ev.seq); this.num(ev.flags);
        break;
    }
  }

  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}

/** Checksum of a recorded event stream; equals `SimStats.checksum` for the events a simulator emitted. */
export function simChecksum(events: Iterable<MarketEvent>): string {
  const c = new EventChecksum();
  for (const ev of events) c.add(ev);
  return c.hex();
}
