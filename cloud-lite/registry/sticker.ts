/**
 * The printable sticker of a kiosk: a QR code of its landing page (`<origin>/k/<id>`, the renter's
 * QR landing) as SVG (with the kiosk's name and the URL under it, for printing at any size) and
 * as PNG (the code alone, 1024 px, for other layouts). Error correction M (15%: survives
 * scratches on a sticker); a quiet zone of 4 modules as the QR standard asks. `qrcode` (and its
 * PNG encoder) is loaded at the first sticker made, not when the hub starts.
 */
export interface Sticker {
  url: string;
  svg: string;
  png: Buffer;
}

export function landingUrl(origin: string, kioskId: string): string {
  return `${origin.replace(/\/+$/, '')}/k/${encodeURIComponent(kioskId)}`;
}

const xml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );

export async function makeSticker(
  origin: string,
  kiosk: { id: string; name: string },
): Promise<Sticker> {
  const { default: QRCode } = await import('qrcode');
  const url = landingUrl(origin, kiosk.id);
  const opts = { errorCorrectionLevel: 'M' as const, margin: 4 };
  const qr = await QRCode.toString(url, { ...opts, type: 'svg' });
  const png = await QRCode.toBuffer(url, { ...opts, type: 'png', width: 1024 });
  // The QR's own <svg> nested in a 60 x 80 mm sticker with the name and the URL below it.
  const inner = qr.replace('<svg ', '<svg x="10" y="10" width="280" height="280" ');
  const name = kiosk.name.length > 40 ? `${kiosk.name.slice(0, 39)}…` : kiosk.name;
  const svg = [
    '<svg xmlns="http://www.w3.org/2000/svg" width="60mm" height="80mm" viewBox="0 0 300 400">',
    `<title>${xml(`${name}: ${url}`)}</title>`,
    '<rect width="300" height="400" fill="#ffffff"/>',
    inner,
    `<text x="150" y="322" font-family="sans-serif" font-size="22" font-weight="bold" text-anchor="middle" fill="#000000">${xml(name)}</text>`,
    `<text x="150" y="356" font-family="monospace" font-size="${url.length > 40 ? 11 : 14}" text-anchor="middle" fill="#000000">${xml(url)}</text>`,
    '</svg>',
  ].join('\n');
  return { url, svg, png };
}
