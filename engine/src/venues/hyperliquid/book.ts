/**
 * Hyperliquid book rule (venue `hyperliquid`): every l2Book message is a full snapshot without a sequence,
 * so each one replaces the book (the generic snapshot-reset rule); there are no deltas to chain.
 */
import { SnapshotResetSync, registerBookSync } from '../../book/sync.js';

registerBookSync('hyperliquid', (opts, venue) => new SnapshotResetSync(venue, opts));
