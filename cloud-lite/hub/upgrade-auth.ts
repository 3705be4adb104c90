import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** Kiosk id and secret from `Authorization: Basic base64(kioskId:secret)`, or undefined. */
export function parseBasicAuth(
  req: IncomingMessage,
): { kioskId: string; secret: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header.length > 1024) return undefined;
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { kioskId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** True when the client offered `subprotocol` in Sec-WebSocket-Protocol. */
export function offersSubprotocol(req: IncomingMessage, subprotocol: string): boolean {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((p) => p.trim() === subprotocol);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  503: 'Service Unavailable',
};

/** Answers an upgrade request with a bare status (no body, no detail) and closes the socket. */
export function rejectUpgrade(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  );
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1000).unref();
}
