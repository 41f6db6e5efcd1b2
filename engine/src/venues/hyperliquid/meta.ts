/**
 * Hyperliquid instrument metadata: ids `HYPERLIQUID:<coin>` (BTC, ETH, `@107` spot indices, …). Hyperliquid
 * does not pad its decimal strings: inferred steps get a floor of 5 size decimals (the largest `szDecimals`
 * of the perps) and the price step comes from the data (an l2Book snapshot has many levels).
 */
import { defineVenueInfo } from '../../replay/context.js';

export const HYPERLIQUID_INFO = defineVenueInfo('hyperliquid', { prefix: 'HYPERLIQUID', minPriceDecimals: 0, minQtyDecimals: 5, assetClass: 'crypto' });
