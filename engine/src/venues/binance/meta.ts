/**
 * Binance instrument metadata: id prefixes (USD-M uses the bare symbol, as the built-in instruments do)
 * and the decimals floor of inferred steps (Binance pads its decimal strings, so no floor is needed).
 */
import { defineVenueInfo } from '../../replay/context.js';

export const BINANCE_USDM_INFO = defineVenueInfo('binance-usdm', { prefix: '', minPriceDecimals: 0, minQtyDecimals: 0, assetClass: 'crypto' });
export const BINANCE_SPOT_INFO = defineVenueInfo('binance-spot', { prefix: 'BINANCE_SPOT', minPriceDecimals: 0, minQtyDecimals: 0, assetClass: 'crypto' });
export const BINANCE_COINM_INFO = defineVenueInfo('binance-coinm', { prefix: 'BINANCE_COINM', minPriceDecimals: 0, minQtyDecimals: 0, assetClass: 'crypto' });
