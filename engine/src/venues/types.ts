/**
 * What a venue folder provides to the registry (engine/src/venues/registry.ts). One folder per venue
 * holds its frame parser (`parse.ts`), its book sequencing rule (`book.ts`, registered with the core
 * book machinery), its live connection (`feed.ts`: URLs, subscribe, ping, REST snapshot, backfill) and
 * its instrument metadata (`meta.ts`); `index.ts` describes it with a VenueDef.
 */
import type { EventSink } from '../replay/types.js';
import type { FeedContext } from '../replay/context.js';
import type { BaseFeed } from '../feeds/base.js';
import type { FeedOptions } from '../feeds/types.js';

/** Turns one raw frame (object or JSON text) into events; throws BadRow when malformed, ignores non-market frames. */
export type FrameParser = (frame: unknown, recvTs: number, ctx: FeedContext, sink: EventSink) => void;

/** How a venue's trades missed during a disconnect or a restart can be fetched again over REST. */
export interface BackfillSpec {
  /** 'id': contiguous trade ids, fetch from an id (Binance aggTrades fromId); 'time': fetch recent trades after a time */
  by: 'id' | 'time';
  /** the REST endpoint used, for docs and logs */
  endpoint: string;
  /** false when the venue only serves a bounded recent window (gaps beyond it are recorded, not recovered) */
  complete: boolean;
}

/** A venue endpoint set as documented, with the venue page/notice it follows (docs/feeds.md). */
export interface VenueEndpoints {
  ws: string;
  rest?: string;
  /** the venue document or notice these endpoints follow, with its date */
  source: string;
}

export interface VenueReplay {
  /** format name of files of this venue's WebSocket frames, one JSON per line */
  format: string;
  /** format name of `<receive ns> <frame JSON>` captures of this venue */
  capture?: string;
  /** true when a parsed JSON line is a frame of this venue (format detection) */
  detect(o: Record<string, unknown>): boolean;
}

export interface VenueDef {
  /** venue id: config `feeds[].venue`, `tapeflow record --venue`, the recorder's `venue` */
  id: string;
  /** parser family shared by variants of one exchange (binance, bybit, …) */
  family: string;
  /** one line for help texts and docs */
  title: string;
  /** venue name the parser registers instruments under (Instrument.venue; book rule key) */
  instrumentVenue: string;
  /** other names of this venue in recordings and data files (e.g. Tardis `binance-futures`) */
  aliases?: string[];
  parse: FrameParser;
  /** parse a frame of this family when the variant is unknown (guessed per frame); default `parse` */
  parseFamily?: FrameParser;
  /** live connection; absent for replay-only venues */
  feed?: (o: FeedOptions) => BaseFeed;
  endpoints?: VenueEndpoints;
  backfill?: BackfillSpec;
  replay?: VenueReplay;
  /** cryptofeed captures: connection URL of this venue */
  matchUrl?(url: string): boolean;
  /**
   * Data-file naming convention of this venue (lower-cased base name): `variant` says a file holds this venue's
   * frames (e.g. `usdm_…`), `symbol` captures the venue symbol for files whose frames name none.
   */
  fileHint?: { variant: RegExp; symbol?: RegExp };
  /** cryptofeed capture file-name prefixes (upper case, e.g. BINANCE_FUTURES) */
  fileNames?: string[];
  /** Tardis exchange ids that map to this venue */
  tardis?: string[];
}
