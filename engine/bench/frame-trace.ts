/**
 * Where a browser frame's main-thread time goes, from a Chromium trace (CDP Tracing) of a few frames:
 * each trace event's self time (its duration minus its children's) on the renderer's main thread,
 * summed per event name and divided by the frame count, and how many canvases were handed to the
 * compositor per frame. Used by the workstation bench (WS_TRACE=1) for the page and for the bare
 * Lightweight Charts chart beside it.
 */
import type { CDPSession } from 'playwright-core';

interface TraceEvent { name: string; ph: string; pid: number; tid: number; ts: number; dur?: number; args?: { name?: string } }

export interface FrameTrace { selfMsPerFrame: Record<string, number>; canvasesPerFrame: number }

export async function traceFrames(cdp: CDPSession, frames: number, run: () => Promise<void>, top = 8): Promise<FrameTrace> {
  const events: TraceEvent[] = [];
  // the protocol types the events as string maps; they carry numbers (ts, dur, pid, tid)
  const onData = (d: { value: object[] }): void => { events.push(...(d.value as TraceEvent[])); };
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,blink,cc,toplevel', transferMode: 'ReportEvents' });
  await run();
  const done = new Promise<void>((ok) => cdp.once('Tracing.tracingComplete', () => ok()));
  await cdp.send('Tracing.end');
  await done;
  cdp.off('Tracing.dataCollected', onData);
  // the renderer's main thread: the CrRendererMain that ran script
  const ran = new Set(events.filter((e) => e.name === 'FunctionCall').map((e) => `${e.pid}:${e.tid}`));
  const thread = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && ran.has(`${e.pid}:${e.tid}`));
  if (!thread) return { selfMsPerFrame: {}, canvasesPerFrame: 0 };
  const main = events.filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const self = new Map<string, number>(), open: TraceEvent[] = [];
  for (const e of main) {
    while (open.length && open[open.length - 1].ts + open[open.length - 1].dur! <= e.ts) open.pop();
    const parent = open[open.length - 1];
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - e.dur!);
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur!);
    open.push(e);
  }
  const selfMsPerFrame: Record<string, number> = {};
  for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) selfMsPerFrame[name] = Number((us / 1000 / frames).toFixed(3));
  const canvases = main.filter((e) => e.name === 'Canvas2DResourceProvider::ProduceCanvasResource').length;
  return { selfMsPerFrame, canvasesPerFrame: Number((canvases / frames).toFixed(2)) };
}
