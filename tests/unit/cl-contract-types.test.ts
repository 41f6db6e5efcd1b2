/**
 * Charting Library contract, item 3 (typings): the project's datafeed, wrapped datafeed, indicator
 * getter and drawing helpers are assignable — with no casts — to the host's strict declarations
 * (tests/helpers/cl-host-api.ts: branded strings, real enums, readonly metainfo). `npm test` runs tsc
 * over this file first, so a type that stops fitting fails the suite; the @ts-expect-error lines prove
 * the host declarations are strict enough to catch the defects issue 15 listed.
 */
import { describe, expect, it } from 'vitest';
import { TapeFlowDatafeed } from '../../datafeed-adapter/src/client/datafeed.js';
import { withDerivedTickers } from '../../indicators/charting-library/derived.js';
import { tapeflowIndicators, METAINFO } from '../../indicators/charting-library/studies.js';
import { drawProfileLevels, type ChartApiLike } from '../../indicators/charting-library/drawings.js';
import type * as Host from '../helpers/cl-host-api.js';

const df = new TapeFlowDatafeed({ baseUrl: 'http://127.0.0.1:1', WebSocket: class { binaryType = ''; readyState = 0; send() {} close() {} onopen = null; onmessage = null; onclose = null; onerror = null; constructor(_u: string) {} } });

// the widget options a user writes: no casts anywhere
const options: Host.WidgetOptions = {
  datafeed: withDerivedTickers(df),
  custom_indicators_getter: (PineJS) => tapeflowIndicators(PineJS),
};
const plain: Host.IBasicDataFeed & Host.IDatafeedQuotesApi = df;
// v29's chart API (async createShape) where the helpers take a ChartApiLike
const drawOn = (hostChart: Host.IChartWidgetApi): Promise<string[]> => drawProfileLevels(hostChart, { poc: 1, vah: 2, val: 0, start: 0 });
const asChart = (hostChart: Host.IChartWidgetApi): ChartApiLike => hostChart;

// the host declarations catch the listed defects:
// @ts-expect-error a plain string is not a ResolutionString
const badRes: Host.ResolutionString = '1';
// @ts-expect-error full_name does not exist on LibrarySymbolInfo (v27+)
const badInfo: Host.LibrarySymbolInfo = { name: 'X', full_name: 'X', description: '', type: 'crypto', session: '24x7', exchange: '', listed_exchange: '', timezone: 'Etc/UTC', format: 'price', pricescale: 1, minmov: 1 };
// @ts-expect-error a string union is not the host's StudyPlotType enum
const badPlot: Host.StudyMetaInfo['plots'] = [{ id: 'x', type: 'line' }];
// @ts-expect-error a style without its title
const badStyle: Host.StudyMetaInfo['styles'] = { x: { histogramBase: 0 } };
// @ts-expect-error horizontal_ray is not a single-point tool
const badShape = (hostChart: Host.IChartWidgetApi): Promise<string> => hostChart.createShape({ time: 0, price: 1 }, { shape: 'horizontal_ray' });

describe('CL contract 3: typings', () => {
  it('the objects assigned to the host types above are the real ones', async () => {
    expect(typeof options.datafeed.getBars).toBe('function');
    expect(plain).toBe(df);
    // a host chart object (v29: Promises) goes through the helpers
    const calls: string[] = [];
    const host = { createShape: async () => 'e1', createMultipointShape: async (_p: unknown, o: { shape?: string }) => { calls.push(o.shape!); return `e${calls.length}`; }, removeEntity() {} } as unknown as Host.IChartWidgetApi;
    expect(await drawOn(host)).toEqual(['e1', 'e2', 'e3']);
    expect(calls).toEqual(['horizontal_ray', 'horizontal_ray', 'horizontal_ray']);
    expect(asChart(host)).toBe(host);
    const list = await tapeflowIndicators({ Std: {} as never });
    const ind: readonly Host.CustomIndicator[] = list;
    expect(ind.map((s) => s.metainfo.id)).toEqual(Object.values(METAINFO).map((m) => m.id));
    expect(ind.every((s) => typeof s.constructor === 'function')).toBe(true);
    expect([badRes, badInfo, badPlot, badStyle, badShape].length).toBe(5);
    df.destroy();
  });
});
