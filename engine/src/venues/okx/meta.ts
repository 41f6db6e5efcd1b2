/**
 * OKX instrument metadata: ids `OKX:<instId>` (BTC-USDT, BTC-USDT-SWAP, …). OKX does not pad its decimal
 * strings, so steps inferred from data get a floor of 2 price and 8 size decimals; the live feed registers
 * instruments from /api/v5/public/instruments (tickSz, lotSz, ctVal) instead when it can.
 */
import { defineVenueInfo } from '../../replay/context.js';

export const OKX_INFO = defineVenueInfo('okx', { prefix: 'OKX', minPriceDecimals: 2, minQtyDecimals: 8, assetClass: 'crypto' });
