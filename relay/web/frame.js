// frame.js — the binary media frame of docs/PROTOCOL.md §2.1, parsed exactly as proto/frame.c
// does (same checks, same order, same error names). No DOM: the unit test runs it under node.
//
//   offset 0  version    1
//          1  track      0..31
//          2  flags      bit 0 KEY, 1 CONFIG, 2 DISCARDABLE, 3 END; bits 4..7 zero
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
const FLAGS_ALL = FLAG_KEY | FLAG_CONFIG | FLAG_DISCARDABLE | FLAG_END;

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

// Sequence distance from a to b modulo 2^32 (1 = b follows a directly), as a signed number
// in -2^31..2^31-1, so a wrap from 2^32-1 to 0 counts as +1.
export function seqDelta(a, b) {
  return ((b - a) | 0);
}

export const isKey = (f) => (f.flags & FLAG_KEY) !== 0;
export const isConfig = (f) => (f.flags & FLAG_CONFIG) !== 0;
export const isEnd = (f) => (f.flags & FLAG_END) !== 0;
