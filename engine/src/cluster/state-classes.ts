/**
 * Classes a checkpoint image may hold that a freshly wired InstrumentState does not (closed bars and
 * their sealed rows, profile sessions, anchored VWAPs, book levels built later): their prototypes by
 * class name, for restoreImage. Every class exported by the modules below is registered, so a class
 * added to them later is covered; a class missing from both this list and the fresh twin fails the
 * restore with its name and path (state-image.ts), never a partial state.
 */
import * as footprint from '../analytics/footprint.js';
import * as rowGrid from '../analytics/row-grid.js';
import * as sealedRows from '../analytics/sealed-rows.js';
import * as volumeProfile from '../analytics/profile/volume-profile.js';
import * as developing from '../analytics/profile/developing.js';
import * as scopes from '../analytics/profile/scopes.js';
import * as nakedPoc from '../analytics/profile/naked-poc.js';
import * as vwap from '../analytics/vwap.js';
import * as delta from '../analytics/delta.js';
import * as checksum from '../analytics/checksum.js';
import * as orderBook from '../book/order-book.js';
import * as iceberg from '../book/iceberg.js';
import * as institutional from '../book/institutional.js';
import * as levelFlow from '../book/level-flow.js';
import * as mbo from '../book/mbo.js';
import * as sync from '../book/sync.js';
import * as detectors from '../signals/detectors.js';
import * as state from '../signals/state.js';
import * as thresholds from '../signals/thresholds.js';

const modules: Record<string, unknown>[] = [footprint, rowGrid, sealedRows, volumeProfile, developing, scopes, nakedPoc, vwap, delta, checksum, orderBook, iceberg, institutional, levelFlow, mbo, sync, detectors, state, thresholds];

/** a class: a function whose prototype has its own constructor (arrow functions have no prototype) */
const isClass = (v: unknown): v is { name: string; prototype: object } => typeof v === 'function' && typeof (v as { prototype?: unknown }).prototype === 'object' && /^class[\s{]/.test(Function.prototype.toString.call(v));

export const STATE_CLASSES: ReadonlyMap<string, object> = new Map<string, object>(
  modules.flatMap((m) => Object.values(m).filter(isClass).map((c) => [c.name, c.prototype] as [string, object])),
);
