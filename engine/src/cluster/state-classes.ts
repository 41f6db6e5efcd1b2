/**
 * Classes a checkpoint image may hold that a freshly wired InstrumentState does not (closed bars and
 * their row grids, profile sessions, anchored VWAPs, book levels built later): their prototypes by
 * class name, for restoreImage. Classes the fresh twin already holds are found in it; a class missing
 * from both fails the restore with its name and path (state-image.ts), never a partial state.
 */
import { FootprintBar } from '../analytics/footprint.js';
import { GridArena, RowGrid } from '../analytics/row-grid.js';
import { VolumeProfile } from '../analytics/profile/volume-profile.js';
import { DevelopingProfile } from '../analytics/profile/developing.js';
import { FixedRangeProfile } from '../analytics/profile/scopes.js';
import { Vwap } from '../analytics/vwap.js';
import { Checksum } from '../analytics/checksum.js';
import { BookLevels, OrderBook } from '../book/order-book.js';

export const STATE_CLASSES: ReadonlyMap<string, object> = new Map<string, object>(
  [FootprintBar, RowGrid, GridArena, VolumeProfile, DevelopingProfile, FixedRangeProfile, Vwap, Checksum, BookLevels, OrderBook].map((c) => [c.name, c.prototype as object]),
);
