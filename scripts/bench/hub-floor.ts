// Benchmark child: the floor of bench:hub. A bare `ws` server (no store, no authentication, no
// schema checks) that the same load process (hub-load.ts) connects to: it answers each
// kiosk's CALL (Boot, Heartbeat) with a CALLRESULT at once, and times command round trips as
// the hub does: a CALL EnableSlot to a kiosk, the kiosk's CALLRESULT back. Whatever the hub
// costs on top of this is the hub's own work. Driven over IPC by scripts/bench/hub.ts.
// argv: <port>. Messages in: {type:'stats'} | {type:'rtt', count, concurrency, kiosks} |
// {type:'stop'}.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { timeRoundTrips } from './round-trips.js';

const port = Number(process.argv[2] ?? '0');
const send = (m: unknown) => process.send?.(m);
const sockets = new Map<string, WebSocket>();
const pending = new Map<string, () => void>();
const http = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({
  server: http,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (p) => p.values().next().value ?? false,
});

wss.on('connection', (ws, req) => {
  const auth = req.headers.authorization ?? '';
  const kioskId = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
    .toString('utf8')
    .split(':')[0]!;
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as [number, string, ...unknown[]];
    if (frame[0] === 2) {
      const at = new Date().toISOString();
      const answer =
        frame[2] === 'Boot' ? { status: 'Accepted', currentTime: at, heartbeatInterval: 60 } : {};
      if (frame[2] === 'Heartbeat') Object.assign(answer, { currentTime: at });
      ws.send(JSON.stringify([3, frame[1], answer]));
      if (frame[2] === 'Boot') sockets.set(kioskId, ws);
    } else pending.get(frame[1])?.();
  });
  ws.on('close', () => {
    if (sockets.get(kioskId) === ws) sockets.delete(kioskId);
  });
  ws.on('error', () => undefined);
});

function roundTrip(kioskId: string): Promise<void> {
  const ws = sockets.get(kioskId);
  if (!ws) return Promise.reject(new Error(`${kioskId} is not connected`));
  const id = randomUUID();
  return new Promise<void>((resolve) => {
    pending.set(id, () => {
      pending.delete(id);
      resolve();
    });
    ws.send(JSON.stringify([2, id, 'EnableSlot', { commandId: randomUUID(), slot: 1 }]));
  });
}

process.on(
  'message',
  async (m: { type: string; count?: number; concurrency?: number; kiosks?: string[] }) => {
    if (m.type === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'stats', rss: process.memoryUsage().rss, connected: sockets.size });
    } else if (m.type === 'rtt') {
      send(await timeRoundTrips(m, (kioskId) => roundTrip(kioskId).then(() => true)));
    } else if (m.type === 'stop') {
      wss.close();
      http.close();
      send({ type: 'stop' });
      process.exit(0);
    }
  },
);

http.listen(port, '127.0.0.1', () => {
  const addr = http.address();
  send({ type: 'ready', port: typeof addr === 'object' && addr ? addr.port : port });
});
