// Benchmark child: N simulated kiosks over loopback, each a real `ws` client with an RpcPeer
// that boots, heartbeats and answers every command Accepted; reconnects with exponential
// backoff and full jitter. With several hub URLs (several hub processes), kiosk i starts on
// URL i mod n and, like kioskd, tries the next URL after an attempt that ended without an
// accepted Boot. Driven over IPC by scripts/bench/hub.ts.
// Messages in: {type:'connect', urls, file, count} | {type:'status'} | {type:'exit'}.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { HUB_TO_KIOSK_ACTIONS, RpcPeer, SUBPROTOCOL } from '../../protocol/index.js';

interface Sim {
  kioskId: string;
  secret: string;
  ws?: WebSocket;
  booted: boolean;
  attempt: number;
  connects: number;
  /** Index into `urls` of the hub this kiosk dials. */
  at: number;
  heartbeat?: NodeJS.Timeout;
}

const sims: Sim[] = [];
let urls: string[] = [];
let replacedCloses = 0;
const send = (m: unknown) => process.send?.(m);

function open(sim: Sim): void {
  const auth = `Basic ${Buffer.from(`${sim.kioskId}:${sim.secret}`).toString('base64')}`;
  const ws = new WebSocket(urls[sim.at % urls.length]!, SUBPROTOCOL, {
    headers: { authorization: auth },
    perMessageDeflate: false,
  });
  sim.ws = ws;
  sim.booted = false;
  const peer = new RpcPeer({ role: 'kiosk', send: (t) => ws.send(t), callTimeoutMs: 30_000 });
  for (const action of HUB_TO_KIOSK_ACTIONS)
    peer.handle(action, () => ({ status: 'Accepted' }) as never);
  ws.on('message', (d) => peer.receive(d as Buffer));
  ws.on('open', () => {
    sim.attempt = 0;
    sim.connects++;
    peer
      .call('Boot', {
        kioskId: sim.kioskId,
        softwareVersion: 'bench',
        slotCount: 8,
        bootReason: 'PowerOn',
      })
      .then((r) => {
        sim.booted = true;
        const every = r.heartbeatInterval * 1000;
        sim.heartbeat = setTimeout(function beat() {
          peer.call('Heartbeat', {}).catch(() => undefined);
          sim.heartbeat = setTimeout(beat, every);
        }, Math.random() * every);
      })
      // No answer to Boot: drop the connection and try again (next URL), as kioskd does.
      .catch(() => ws.terminate());
  });
  ws.on('error', () => undefined);
  ws.on('close', (code) => {
    if (code === 4001) replacedCloses++;
    peer.close('closed');
    clearTimeout(sim.heartbeat);
    if (!sim.booted) sim.at++;
    sim.booted = false;
    if (sim.ws !== ws) return;
    sim.ws = undefined;
    const cap = Math.min(5000, 100 * 2 ** sim.attempt++);
    setTimeout(() => open(sim), Math.random() * cap);
  });
}

process.on(
  'message',
  async (m: { type: string; urls?: string[]; file?: string; count?: number }) => {
    if (m.type === 'connect') {
      urls = m.urls!;
      const creds = JSON.parse(readFileSync(m.file!, 'utf8')) as Array<{
        kioskId: string;
        secret: string;
      }>;
      const want = Math.min(m.count!, creds.length);
      for (let i = sims.length; i < want; i++) {
        const sim: Sim = { ...creds[i]!, booted: false, attempt: 0, connects: 0, at: i };
        sims.push(sim);
        open(sim);
        if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20));
      }
      send({ type: 'connect' });
    } else if (m.type === 'status') {
      let openCount = 0;
      let booted = 0;
      for (const s of sims) {
        if (s.ws?.readyState === WebSocket.OPEN) openCount++;
        if (s.booted) booted++;
      }
      send({
        type: 'status',
        total: sims.length,
        open: openCount,
        booted,
        replacedCloses,
        rss: process.memoryUsage().rss,
      });
    } else if (m.type === 'exit') {
      process.exit(0);
    }
  },
);
send({ type: 'ready' });
