/** Kite-specific keys of a `feeds[]` entry (`kite:`), validated by engine/src/config/validate.ts. */
import type { PcrThresholds } from '../../signals/pcr.js';

export interface KitePcrConfig {
  /** option `name` in the instruments dump: NIFTY, BANKNIFTY, RELIANCE, … */
  underlying: string;
  /** the underlying's price: an `EXCHANGE:tradingsymbol` of the dump (e.g. "NSE:NIFTY 50", "NSE:RELIANCE") */
  spot: string;
  /** 'nearest' (default) or a list of YYYY-MM-DD expiries */
  expiry?: 'nearest' | string[];
  /** listed strikes each side of ATM for the near-the-money PCR (default 5) */
  strikes?: number;
  thresholds?: Partial<PcrThresholds>;
}

export interface KiteConfig {
  /** streaming mode of the symbols (default full: depth, OI and volume); the PCR chain is always full */
  mode?: 'ltp' | 'quote' | 'full';
  pcr?: KitePcrConfig;
  /** exchange holidays (YYYY-MM-DD, IST) on which the NSE session does not open */
  holidays?: string[];
}
