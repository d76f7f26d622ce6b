// RFC 868 time: seconds since 1900-01-01T00:00:00Z as an unsigned 32-bit big-endian number. The count
// wraps on 2036-02-07T06:28:16Z; decoding picks the era that puts the time nearest a reference.

export const RFC868_EPOCH_OFFSET = 2_208_988_800; // seconds from 1900-01-01 to 1970-01-01
const ERA = 2 ** 32;

// The 4-byte reply for a Unix time in milliseconds (sub-second part dropped).
export function encodeTime(unixMs: number): Buffer {
  const seconds = Math.floor(unixMs / 1000) + RFC868_EPOCH_OFFSET;
  const reply = Buffer.allocUnsafe(4);
  reply.writeUInt32BE(((seconds % ERA) + ERA) % ERA, 0);
  return reply;
}

// The Unix time in milliseconds that a 4-byte reply means, in the era nearest `referenceMs`
// (the local clock, normally): 0x00000001 read in 2036 is just after the wrap, not 1900.
export function decodeTime(reply: Uint8Array, referenceMs = Date.now()): number {
  if (reply.length !== 4) throw new RangeError(`an RFC 868 reply is 4 bytes, got ${reply.length}`);
  const value = Buffer.from(reply.buffer, reply.byteOffset, 4).readUInt32BE(0);
  const referenceSeconds = Math.floor(referenceMs / 1000) + RFC868_EPOCH_OFFSET;
  const era = Math.round((referenceSeconds - value) / ERA);
  return (era * ERA + value - RFC868_EPOCH_OFFSET) * 1000;
}
