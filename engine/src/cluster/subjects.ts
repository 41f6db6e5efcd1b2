/**
 * Subject, stream and KV names of the cluster, and the msgpack codec of what travels on them.
 * Events: tf.ev.<venue>.<instrument> on stream TF_EVENTS (the tape as the log).
 * Outputs: tf.out.<instrument>.<kind> on stream TF_OUT (trade, bar, footprint, profile, signal, state).
 * Leases and checkpoints: KV bucket tf_leases (lease.<instrument>, node.<nodeId>), tf_snap (snap.<instrument>,
 * img.<instrument>.<gen>.<n>).
 */
import { Packr } from 'msgpackr';

export const EVENT_STREAM = 'TF_EVENTS';
export const OUT_STREAM = 'TF_OUT';
export const LEASE_BUCKET = 'tf_leases';
export const SNAP_BUCKET = 'tf_snap';

/**
 * Instrument ids as subject tokens and KV key parts: NATS subjects cannot hold '.', '*', '>' or spaces
 * and KV keys only [-/_=.A-Za-z0-9], so every other character becomes '_' ("BINANCE_SPOT:BTCUSDT" →
 * "BINANCE_SPOT_BTCUSDT"). Two ids differing only there would share subjects: engine nodes refuse that.
 */
export function token(s: string): string { return s.replace(/[^A-Za-z0-9_-]/g, '_'); }

export const eventSubject = (venue: string, instrument: string): string => `tf.ev.${token(venue)}.${token(instrument)}`;
/**
 * The market clock of one instrument in live use: {type: 'clock', instrument, ts} on tf.ev.clock.<instrument>,
 * published by the engine node owning it when its open bar's end has passed on the wall clock. In the log,
 * so replaying the stream (or a successor resuming it) closes the bar at the same point.
 */
export const clockSubject = (instrument: string): string => `tf.ev.clock.${token(instrument)}`;
export interface ClockEvent { type: 'clock'; instrument: string; ts: number }
/** every venue's events of one instrument (an engine node's consumer filter) */
export const instrumentEvents = (instrument: string): string => `tf.ev.*.${token(instrument)}`;
export type OutKind = 'trade' | 'bar' | 'footprint' | 'profile' | 'signal' | 'state' | 'checksum';
export const outSubject = (instrument: string, kind: OutKind): string => `tf.out.${token(instrument)}.${kind}`;

// records, not structures: plain maps so any msgpack reader decodes them
const packr = new Packr({ useRecords: false });
export const encode = (v: unknown): Uint8Array => packr.pack(v);
export const decode = <T = unknown>(b: Uint8Array): T => packr.unpack(b) as T;

/**
 * Dedup id of a published event (Nats-Msg-Id): venue, instrument, type, time, the venue's own trade id
 * or sequence, and the occurrence of that key (n-th event with the same type, time and id/sequence —
 * CME MBO records of one packet share a sequence, quotes have none). Two ingest nodes replaying the same
 * tape (or one re-sending after a reconnect) produce the same ids and the stream stores each event once;
 * distinct events never share an id.
 */
export function eventMsgId(ev: { type: string; instrument: string; ts: number; id?: number; seq?: number }, venue: string, occurrence: number): string {
  const vid = ev.type === 'trade' && ev.id ? `i${ev.id}` : ev.seq !== undefined && ev.seq !== null ? `s${ev.seq}` : '';
  return `${venue}:${ev.instrument}:${ev.type}:${ev.ts}:${vid}:${occurrence}`;
}
