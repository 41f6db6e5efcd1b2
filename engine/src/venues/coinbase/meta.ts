/**
 * Coinbase instrument metadata. Coinbase does not pad decimal strings, so inferred steps get a floor:
 * at least 2 price decimals and 8 size decimals.
 */
import { defineVenueInfo } from '../../replay/context.js';

export const COINBASE_INFO = defineVenueInfo('coinbase', { prefix: 'COINBASE', minPriceDecimals: 2, minQtyDecimals: 8, assetClass: 'crypto' });
