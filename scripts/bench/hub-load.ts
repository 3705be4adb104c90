// Benchmark child: simulated kiosks over loopback, each a real `ws` client with an RpcPeer
// that talks as kioskd does (kiosk/link/hub-link.ts): Boot (with a database id, its remote
// configuration state and kioskd's protocol features), an Inventory after each accepted Boot,
// Heartbeats (with the configuration state) every interval the hub gives, and every command
// answered Accepted. A connection that fails or closes is retried after kioskd's own backoff
// (kiosk/link/backoff.ts, full jitter, with kioskd's defaults), the attempt count reset only
// after a connection that stayed booted for a minute; with several hub URLs (several hub
// processes), kiosk i starts on URL i mod n and, like kioskd, tries the next URL after an
// attempt that ended without an accepted Boot. Several of these processes can share a run
// (each holds the kiosks of its own index range: one socket each, under the per-process limit
// of open files). Driven over IPC by scripts/bench/hub.ts.
// Messages in: {type:'connect', urls, file, from, to} (kiosks [from, to) of the file, those
// not started yet) | {type:'drop', below} (closes and stops every kiosk of index >= below) |
// {type:'status'} | {type:'exit'}.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { fullJitterDelay } from '../../kiosk/link/backoff.js';
import { FEATURE_NAMES, HUB_TO_KIOSK_ACTIONS, RpcPeer, SUBPROTOCOL } from '../../protocol/index.js';

/** kioskd's defaults (kiosk/config.ts hub.backoff): ceiling 1 s doubling to 60 s; reset after 60 s booted. */
const BACKOFF = { baseMs: 1000, capMs: 60_000 };
const STABLE_MS = 60_000;
const SLOTS = 8;

interface Sim {
  index: number;
  kioskId: string;
  secret: string;
  databaseId: string;
  ws?: WebSocket;
  booted: boolean;
  bootedAt: number;
  attempt: number;
  connects: number;
  /** Index into `urls` of the hub this kiosk dials. */
  at: number;
  /** Dropped by a 'drop' message: not reconnected. */
  stopped: boolean;
  heartbeat?: NodeJS.Timeout;
  retry?: NodeJS.Timeout;
}

const sims: Sim[] = [];
let urls: string[] = [];
let replacedCloses = 0;
/** Closes with 1013 (the hub turned the kiosk away: too busy) and HTTP 503 upgrades. */
let busyCloses = 0;
let busyUpgrades = 0;
let heartbeatsOk = 0;
let heartbeatsFailed = 0;
let bootsFailed = 0;
let inventoriesFailed = 0;
const send = (m: unknown) => process.send?.(m);
const config = { version: 0, restartPending: false };

function open(sim: Sim): void {
  const auth = `Basic ${Buffer.from(`${sim.kioskId}:${sim.secret}`).toString('base64')}`;
  const ws = new WebSocket(urls[sim.at % urls.length]!, SUBPROTOCOL, {
    headers: { authorization: auth },
    perMessageDeflate: false,
    handshakeTimeout: 30_000,
  });
  sim.ws = ws;
  sim.booted = false;
  const peer = new RpcPeer({ role: 'kiosk', send: (t) => ws.send(t), callTimeoutMs: 30_000 });
  for (const action of HUB_TO_KIOSK_ACTIONS)
    peer.handle(action, () => ({ status: 'Accepted' }) as never);
  ws.on('message', (d) => peer.receive(d as Buffer));
  ws.on('unexpected-response', (_req, res) => {
    if (res.statusCode === 503) busyUpgrades++;
    ws.terminate();
  });
  ws.on('open', () => {
    sim.connects++;
    peer
      .call('Boot', {
        kioskId: sim.kioskId,
        softwareVersion: 'bench',
        slotCount: SLOTS,
        bootReason: sim.connects === 1 ? 'PowerOn' : 'Unknown',
        databaseId: sim.databaseId,
        config,
        features: [...FEATURE_NAMES],
      })
      .then((r) => {
        if (r.status !== 'Accepted') throw new Error(`Boot ${r.status}`);
        sim.booted = true;
        sim.bootedAt = Date.now();
        const every = r.heartbeatInterval * 1000;
        sim.heartbeat = setTimeout(function beat() {
          // kioskd drops the link when a Heartbeat fails.
          peer.call('Heartbeat', { config }).then(
            () => heartbeatsOk++,
            () => {
              heartbeatsFailed++;
              ws.terminate();
            },
          );
          sim.heartbeat = setTimeout(beat, every);
        }, Math.random() * every);
        const takenAt = new Date().toISOString();
        const slots = Array.from({ length: SLOTS }, (_, i) => ({
          slot: i + 1,
          state: 'empty' as const,
          writeProtect: false,
        }));
        peer.call('Inventory', { takenAt, slots }).catch(() => {
          inventoriesFailed++;
          ws.terminate();
        });
      })
      // No accepted Boot: drop the connection and try again (next URL), as kioskd does.
      .catch(() => {
        bootsFailed++;
        ws.terminate();
      });
  });
  ws.on('error', () => undefined);
  ws.on('close', (code) => {
    if (code === 4001) replacedCloses++;
    if (code === 1013) busyCloses++;
    peer.close('closed');
    clearTimeout(sim.heartbeat);
    const stable = sim.booted && Date.now() - sim.bootedAt >= STABLE_MS;
    if (!sim.booted) sim.at++;
    sim.booted = false;
    if (sim.ws !== ws) return;
    sim.ws = undefined;
    if (sim.stopped) return;
    if (stable) sim.attempt = 0;
    sim.retry = setTimeout(() => open(sim), fullJitterDelay(sim.attempt++, BACKOFF));
  });
}

process.on(
  'message',
  async (m: {
    type: string;
    urls?: string[];
    file?: string;
    from?: number;
    to?: number;
    below?: number;
  }) => {
    if (m.type === 'connect') {
      urls = m.urls!;
      const creds = JSON.parse(readFileSync(m.file!, 'utf8')) as Array<{
        kioskId: string;
        secret: string;
      }>;
      const to = Math.min(m.to!, creds.length);
      const started = new Set(sims.map((s) => s.index));
      let n = 0;
      for (let i = m.from!; i < to; i++) {
        if (started.has(i)) continue;
        const sim: Sim = {
          ...creds[i]!,
          index: i,
          databaseId: randomUUID(),
          booted: false,
          bootedAt: 0,
          attempt: 0,
          connects: 0,
          at: i,
          stopped: false,
        };
        sims.push(sim);
        open(sim);
        if (++n % 200 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      send({ type: 'connect' });
    } else if (m.type === 'drop') {
      for (const s of sims) {
        if (s.index < m.below! || s.stopped) continue;
        s.stopped = true;
        clearTimeout(s.retry);
        s.ws?.close(1000, 'bench: fewer kiosks');
      }
      send({ type: 'drop' });
    } else if (m.type === 'status') {
      let openCount = 0;
      let booted = 0;
      let total = 0;
      for (const s of sims) {
        if (s.stopped) continue;
        total++;
        if (s.ws?.readyState === WebSocket.OPEN) openCount++;
        if (s.booted) booted++;
      }
      send({
        type: 'status',
        total,
        open: openCount,
        booted,
        replacedCloses,
        busyCloses,
        busyUpgrades,
        heartbeatsOk,
        heartbeatsFailed,
        bootsFailed,
        inventoriesFailed,
        rss: process.memoryUsage().rss,
      });
    } else if (m.type === 'exit') {
      process.exit(0);
    }
  },
);
send({ type: 'ready' });
