/**
 * Kite book rule (venue `kite`): every full-mode packet carries the whole visible book (5 levels a side)
 * without a sequence, so each one replaces the book (the generic snapshot-reset rule). Book metrics of a
 * Kite instrument are over those 5 levels only.
 */
import { SnapshotResetSync, registerBookSync } from '../../book/sync.js';

registerBookSync('kite', (opts, venue) => new SnapshotResetSync(venue, opts));
