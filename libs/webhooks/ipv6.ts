/**
 * IPv6 text to bytes, and the IPv4 addresses an IPv6 address carries inside it. Pure functions,
 * so the SSRF rules can decide on exact bytes rather than on spellings (`::ffff:7f00:1`,
 * `::ffff:127.0.0.1` and `0:0:0:0:0:ffff:7f00:0001` are one address).
 */

/** How an IPv6 address carries an IPv4 address. */
export type EmbeddingForm =
  | 'mapped' // ::ffff:0:0/96 (RFC 4291)
  | 'translated' // ::ffff:0:0:0/96 (RFC 2765)
  | 'compatible' // ::/96, deprecated (RFC 4291)
  | 'nat64' // 64:ff9b::/96 (RFC 6052)
  | '6to4' // 2002::/16, the IPv4 address in bits 16-48 (RFC 3056)
  | 'teredo-server' // 2001::/32, bits 32-64 (RFC 4380)
  | 'teredo-client' // 2001::/32, the last 32 bits XOR 0xffffffff
  | 'isatap'; // interface id 0000:5efe or 0200:5efe (u/g bits free) + IPv4 (RFC 5214)

/** One IPv4 address found inside an IPv6 address. */
export interface EmbeddedIPv4 {
  form: EmbeddingForm;
  /** Dotted quad. */
  ipv4: string;
}

const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const DEC_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The 16 bytes of an IPv6 address in text form: eight hex groups, at most one `::`, an optional
 * dotted IPv4 tail in place of the last two groups, and an optional non-empty `%zone` (ignored: it
 * does not change the address). Brackets are not accepted. Answers null for anything else.
 */
export function parseIPv6(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const address = zone === -1 ? text : text.slice(0, zone);
  if (zone !== -1 && (zone === text.length - 1 || text.indexOf('%', zone + 1) !== -1)) return null;
  if (address.length > 45) return null;
  const halves = address.split('::');
  if (halves.length > 2) return null;
  // A dotted IPv4 may only end the address: in the head only when there is no tail.
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const count = head.length + tail.length;
  // `::` stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const words = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

/** Hex groups of one side of `::` as 16-bit words; `v4Tail` allows a dotted IPv4 as the last part. */
function groups(part: string, v4Tail: boolean): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const words: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (v4Tail && piece.includes('.') && i === pieces.length - 1) {
      const v4 = parseIPv4(piece);
      if (!v4) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEX_GROUP.test(piece)) {
      words.push(parseInt(piece, 16));
    } else return null;
  }
  return words;
}

/** The 4 bytes of a strict dotted quad (decimal, no leading zeros), or null. */
export function parseIPv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => DEC_OCTET.test(p))) return null;
  return parts.map(Number);
}

/** The address in full, uncompressed, lower-case form (`0:0:0:0:0:ffff:7f00:1`). */
export function formatIPv6(bytes: Uint8Array): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return words.join(':');
}

const quad = (b: Uint8Array, at: number, xor = 0) => [0, 1, 2, 3].map((i) => (b[at + i]! ^ xor) & 0xff).join('.');
const zeros = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
const startsWith = (b: Uint8Array, prefix: number[]) => prefix.every((x, i) => b[i] === x);

/**
 * Every IPv4 address embedded in these 16 bytes by a known transition mechanism, in the order of
 * EmbeddingForm. An address can match several forms (a Teredo address names two IPv4 addresses;
 * an ISATAP interface id can follow any prefix). Operator-chosen prefixes (6rd, local-use NAT64
 * 64:ff9b:1::/48 of unknown length) cannot be decoded here; the caller refuses those blocks whole.
 */
export function embeddedIPv4(bytes: Uint8Array): EmbeddedIPv4[] {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address has 16 bytes, got ${bytes.length}`);
  const found: EmbeddedIPv4[] = [];
  const add = (form: EmbeddingForm, at: number, xor = 0) => found.push({ form, ipv4: quad(bytes, at, xor) });
  if (zeros(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) add('mapped', 12);
  if (zeros(bytes, 0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(bytes, 10, 12)) add('translated', 12);
  if (zeros(bytes, 0, 12)) add('compatible', 12);
  if (startsWith(bytes, [0x00, 0x64, 0xff, 0x9b]) && zeros(bytes, 4, 12)) add('nat64', 12);
  if (startsWith(bytes, [0x20, 0x02])) add('6to4', 2);
  if (startsWith(bytes, [0x20, 0x01, 0x00, 0x00])) {
    add('teredo-server', 4);
    add('teredo-client', 12, 0xff);
  }
  // Modified EUI-64: the u (0x02) and g (0x01) bits of the first byte may be set.
  if ((bytes[8]! & 0xfc) === 0 && bytes[9] === 0 && bytes[10] === 0x5e && bytes[11] === 0xfe) add('isatap', 12);
  return found;
}
