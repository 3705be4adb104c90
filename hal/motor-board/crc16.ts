/**
 * CRC-16/MODBUS: poly 0x8005 (reflected 0xA001), init 0xFFFF, refin/refout true,
 * xorout 0x0000, check("123456789") = 0x4B37. Sent little-endian (low byte first).
 */
export function crc16Modbus(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= data[i]!;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    }
  }
  return crc;
}
