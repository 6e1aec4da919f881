// frame.js — the binary media frame of docs/PROTOCOL.md §2.1, parsed exactly as proto/frame.c
// does (same checks, same order, same error names). No DOM: the unit test runs it under node.
//
//   offset 0  version    1
//          1  track      0..31
//          2  flags      bit 0 KEY, 1 CONFIG, 2 DISCARDABLE, 3 END, 4 PART; bits 5..7 zero
//                        (END with PART: BBT_EFRAME_FLAGS)
//          3  reserved   0
//          4  seq        uint32 big-endian, per track, wraps
//          8  capture_us uint64 big-endian, wall clock µs since 1970
//         16  payload    ≥ 1 byte, except with END (may be empty)

export const HEADER_LEN = 16;
export const VERSION = 1;
export const MAX_TRACKS = 32;
export const MAX_PAYLOAD = 8388608; // the protocol's ceiling (8 MiB)

export const FLAG_KEY = 1;
export const FLAG_CONFIG = 2;
export const FLAG_DISCARDABLE = 4;
export const FLAG_END = 8;
// More of this frame follows (a fragment, §2.5: relay → viewer only, when the viewer asked).
export const FLAG_PART = 16;
const FLAGS_ALL = FLAG_KEY | FLAG_CONFIG | FLAG_DISCARDABLE | FLAG_END | FLAG_PART;

// The status codes of docs/PROTOCOL.md §4 for frames.
export const FRAME_ERRORS = Object.freeze({
  BBT_EFRAME_SHORT: 20,
  BBT_EFRAME_VERSION: 21,
  BBT_EFRAME_FLAGS: 22,
  BBT_EFRAME_TRACK: 23,
  BBT_EFRAME_EMPTY: 24,
  BBT_EFRAME_TOO_BIG: 25,
});

export class FrameError extends Error {
  constructor(name, detail) {
    super(`${name}: ${detail}`);
    this.name = 'FrameError';
    this.code = FRAME_ERRORS[name];
    this.symbol = name;
  }
}

// Parse one binary WebSocket message (ArrayBuffer, or a Uint8Array view). Returns
// {version, track, flags, seq, captureUs, payload} where payload is a Uint8Array view of the
// message (no copy) and captureUs a Number (exact below 2^53 µs, i.e. until the year 2255).
// Throws FrameError for a malformed frame; never anything else for any input.
export function parseFrame(msg, maxPayload = MAX_PAYLOAD) {
  let bytes;
  if (msg instanceof ArrayBuffer) bytes = new Uint8Array(msg);
  else if (ArrayBuffer.isView(msg)) bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
  else throw new FrameError('BBT_EFRAME_SHORT', 'not a binary message');
  if (!(maxPayload > 0) || maxPayload > MAX_PAYLOAD) maxPayload = MAX_PAYLOAD;
  const len = bytes.byteLength;
  if (len < HEADER_LEN) throw new FrameError('BBT_EFRAME_SHORT', `${len} bytes, header needs ${HEADER_LEN}`);
  if (bytes[0] !== VERSION) throw new FrameError('BBT_EFRAME_VERSION', `version ${bytes[0]}`);
  if (bytes[3] !== 0) throw new FrameError('BBT_EFRAME_FLAGS', `reserved byte ${bytes[3]}`);
  const track = bytes[1];
  const flags = bytes[2];
  if (flags & ~FLAGS_ALL) throw new FrameError('BBT_EFRAME_FLAGS', `flags 0x${flags.toString(16)}`);
  if ((flags & FLAG_END) && (flags & FLAG_PART)) throw new FrameError('BBT_EFRAME_FLAGS', 'END with PART');
  if (track >= MAX_TRACKS) throw new FrameError('BBT_EFRAME_TRACK', `track ${track}`);
  const n = len - HEADER_LEN;
  if (n === 0 && !(flags & FLAG_END)) throw new FrameError('BBT_EFRAME_EMPTY', 'empty payload without END');
  if (n > maxPayload) throw new FrameError('BBT_EFRAME_TOO_BIG', `payload ${n} > ${maxPayload}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_LEN);
  const seq = dv.getUint32(4);
  const captureUs = dv.getUint32(8) * 4294967296 + dv.getUint32(12);
  return {
    version: VERSION,
    track,
    flags,
    seq,
    captureUs,
    payload: bytes.subarray(HEADER_LEN),
  };
}

// Padding (§2.6): a message of the relay's padding probes, to a viewer that subscribed with
// "padding": true — its first byte is 0 (never a frame's version). The receiver drops it.
export const PADDING = 0;
export function isPadding(msg) {
  let first;
  if (msg instanceof ArrayBuffer) first = msg.byteLength >= 1 ? new Uint8Array(msg, 0, 1)[0] : -1;
  else if (ArrayBuffer.isView(msg)) first = msg.byteLength >= 1 ? new Uint8Array(msg.buffer, msg.byteOffset, 1)[0] : -1;
  else return false;
  return first === PADDING;
}

// Sequence distance from a to b modulo 2^32 (1 = b follows a directly), as a signed number
// in -2^31..2^31-1, so a wrap from 2^32-1 to 0 counts as +1.
export function seqDelta(a, b) {
  return ((b - a) | 0);
}

export const isKey = (f) => (f.flags & FLAG_KEY) !== 0;
export const isConfig = (f) => (f.flags & FLAG_CONFIG) !== 0;
export const isEnd = (f) => (f.flags & FLAG_END) !== 0;
export const isPart = (f) => (f.flags & FLAG_PART) !== 0;

// Fragment reassembly, docs/PROTOCOL.md §2.5: every parsed message goes through push(), which
// returns a whole frame or null. Per track at most one frame is being assembled: a PART message
// starts one (or appends to the pending one with the same seq), a message without PART completes
// the pending one with its seq. A message whose seq differs from its track's pending frame
// discards that frame (onDrop, counted in `errors`) and is then handled as if nothing were
// pending; so is an assembly that would exceed maxPayload, and the rest of that frame's
// fragments are then ignored. A message without PART and nothing pending comes back as it was
// (the same object: the caller may pass its buffer on without a copy); an assembled frame is a
// new object whose `buf` is one fresh ArrayBuffer holding its 16-byte header (PART clear) and its
// payload, `payload` a view of it at HEADER_LEN. Never throws for a parsed frame.
export class Reassembler {
  constructor(maxPayload = MAX_PAYLOAD, onDrop = null) {
    this.maxPayload = maxPayload > 0 && maxPayload <= MAX_PAYLOAD ? maxPayload : MAX_PAYLOAD;
    this.onDrop = onDrop;
    this.errors = 0;
    this.slots = new Map(); // track -> {seq, captureUs, parts: Uint8Array[], len} | {skip: seq}
  }

  // Forget every pending frame without counting it (the connection closed).
  reset() {
    this.slots.clear();
  }

  drop(track, why, seq, bySeq, bytes) {
    this.errors++;
    if (this.onDrop) this.onDrop({ why, track, seq, bySeq, bytes });
  }

  push(f) {
    const part = (f.flags & FLAG_PART) !== 0;
    let s = this.slots.get(f.track);
    if (s && s.parts && s.seq !== f.seq) {
      this.drop(f.track, 'incomplete', s.seq, f.seq, s.len);
      this.slots.delete(f.track);
      s = undefined;
    }
    if (s && s.skip !== undefined) {
      this.slots.delete(f.track);
      if (s.skip === f.seq) { // the rest of a discarded frame
        if (part) this.slots.set(f.track, s);
        return null;
      }
      s = undefined;
    }
    if (!s && !part) return f;
    if (!s) {
      s = { seq: f.seq, captureUs: f.captureUs, parts: [], len: 0 };
      this.slots.set(f.track, s);
    }
    const n = f.payload.byteLength;
    if (n > this.maxPayload - s.len) {
      this.drop(f.track, 'too big', s.seq, f.seq, s.len + n);
      if (part) this.slots.set(f.track, { skip: f.seq });
      else this.slots.delete(f.track);
      return null;
    }
    s.parts.push(f.payload);
    s.len += n;
    if (part) return null;
    this.slots.delete(f.track);
    return assemble(f, s);
  }
}

function assemble(last, s) {
  const buf = new ArrayBuffer(HEADER_LEN + s.len);
  const bytes = new Uint8Array(buf);
  const dv = new DataView(buf);
  dv.setUint8(0, VERSION);
  dv.setUint8(1, last.track);
  dv.setUint8(2, last.flags);
  dv.setUint32(4, last.seq);
  dv.setUint32(8, Math.floor(s.captureUs / 4294967296));
  dv.setUint32(12, s.captureUs % 4294967296);
  let at = HEADER_LEN;
  for (const p of s.parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { version: VERSION, track: last.track, flags: last.flags, seq: last.seq, captureUs: s.captureUs,
           payload: bytes.subarray(HEADER_LEN), buf };
}
