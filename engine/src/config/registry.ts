/** Instrument registry from a config: the built-ins, then each `instruments` entry as an override or addition. */
import { InstrumentRegistry } from '../core/instruments.js';
import { instrumentSpec } from './validate.js';
import type { TapeFlowConfig } from './types.js';

export function buildRegistry(config: Pick<TapeFlowConfig, 'instruments' | 'sessions'>): InstrumentRegistry {
  const reg = new InstrumentRegistry();
  for (const ic of config.instruments) reg.add(instrumentSpec(ic, config.sessions));
  return reg;
}
