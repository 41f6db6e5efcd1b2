/**
 * Bybit instrument metadata. Linear instruments are `BYBIT:<S>`; the spot feed registers `BYBIT_SPOT:<S>`
 * itself (venue `bybit` for the book rules, see feed.ts).
 */
import { defineVenueInfo } from '../../replay/context.js';

export const BYBIT_INFO = defineVenueInfo('bybit', { prefix: 'BYBIT', minPriceDecimals: 0, minQtyDecimals: 0, assetClass: 'crypto' });
