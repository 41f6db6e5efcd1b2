/**
 * Kite instrument metadata: ids `KITE:<EXCHANGE>:<tradingsymbol>` registered from the instruments dump
 * (exact tick and lot). A token the dump does not name is registered as `KITE:<token>` with the tick of its
 * segment's price divisor (0.01 paise, CDS 0.0000001, BCD 0.0001) and a lot of 1.
 */
import { defineVenueInfo } from '../../replay/context.js';

export const KITE_INFO = defineVenueInfo('kite', { prefix: 'KITE', minPriceDecimals: 2, minQtyDecimals: 0, assetClass: 'stock' });
