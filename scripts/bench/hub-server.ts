// Benchmark child: one cloud-lite hub, driven over IPC by scripts/bench/hub.ts.
// argv: <dir> <port>. Messages in: {type:'createKiosks', count} | {type:'stats'} |
// {type:'rtt', count, concurrency, kiosks} | {type:'money', count, concurrency} |
// {type:'stop'}. Answers: {type:'<same>', ...}. BENCH_HUB_MONEY_SYNC=off: commits that
// write money tables are not synced (synchronous=NORMAL for them too), to print the cost.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { validateConfig } from '../../cloud-lite/config.js';
import { HubServer } from '../../cloud-lite/server.js';

const [dir = '.', portArg = '0'] = process.argv.slice(2);
const config = validateConfig({
  host: '127.0.0.1',
  port: Number(portArg),
  databasePath: path.join(dir, 'hub.db'),
  signingKeyPath: path.join(dir, 'hub-key.pem'),
  adminToken: 'bench-admin-token-0123456789',
  logLevel: 'warn',
  rental: { scryptLog2N: 10 },
});
const server = new HubServer({
  config,
  logger: pino({ level: 'warn' }),
  storeMoneySync: process.env.BENCH_HUB_MONEY_SYNC !== 'off',
});
const { port } = await server.start();
const send = (m: unknown) => process.send?.(m);

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

process.on(
  'message',
  async (m: { type: string; count?: number; concurrency?: number; kiosks?: string[] }) => {
    try {
      if (m.type === 'createKiosks') {
        const creds: Array<{ kioskId: string; secret: string }> = [];
        for (let i = 0; i < (m.count ?? 0); i++) {
          const kioskId = `bench-${String(i).padStart(5, '0')}`;
          const { enrolmentToken } = await server.registry.create({ id: kioskId });
          creds.push(await server.registry.enrol(kioskId, enrolmentToken));
        }
        const file = path.join(dir, 'kiosks.json');
        writeFileSync(file, JSON.stringify(creds));
        send({ type: 'createKiosks', file });
      } else if (m.type === 'stats') {
        send({ type: 'stats', rss: rss(), connected: server.hub.connectedCount });
      } else if (m.type === 'rtt') {
        const ids = m.kiosks ?? [];
        const total = m.count ?? 0;
        const lat: number[] = [];
        let next = 0;
        let failed = 0;
        const started = performance.now();
        const cpu0 = process.cpuUsage();
        const worker = async () => {
          while (next < total) {
            const i = next++;
            const kioskId = ids[i % ids.length]!;
            const t0 = performance.now();
            const c = await server.hub.sendCommand(
              kioskId,
              'EnableSlot',
              { slot: 1 },
              new Date(Date.now() + 60_000),
            );
            const done = await server.hub.waitFor(c.id, { timeoutMs: 30_000 });
            if (done.state !== 'completed') failed++;
            lat.push(performance.now() - t0);
          }
        };
        await Promise.all(Array.from({ length: m.concurrency ?? 100 }, worker));
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        lat.sort((a, b) => a - b);
        const q = (p: number) =>
          lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
        send({
          type: 'rtt',
          count: lat.length,
          failed,
          seconds,
          cpuSeconds,
          p50: q(0.5),
          p99: q(0.99),
          max: lat.at(-1),
        });
      } else if (m.type === 'money') {
        // Deposit top-ups through the rental domain: each one is the hub's money path
        // (payment row, authorisation, capture, deposit entry, audit: several commits).
        const before = server.store.commitStats();
        const renters = await Promise.all(
          Array.from({ length: m.concurrency ?? 32 }, (_, i) =>
            server.rental.accounts.createUser(
              { email: `bench-${i}@bench.test`, password: randomUUID(), role: 'renter' },
              { actor: 'system:bench' },
            ),
          ),
        );
        const card = { paymentMethod: 'pm_card_visa' };
        const total = m.count ?? 0;
        const lat: number[] = [];
        let next = 0;
        const started = performance.now();
        await Promise.all(
          renters.map(async (user) => {
            while (next < total) {
              next++;
              const t0 = performance.now();
              await server.rental.deposits.topUp(user.id, 100, card, { actor: 'bench' });
              lat.push(performance.now() - t0);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        lat.sort((a, b) => a - b);
        const after = server.store.commitStats();
        send({
          type: 'money',
          commits: after.commits - before.commits,
          synced: after.synced - before.synced,
          count: lat.length,
          seconds,
          p50: lat[Math.floor(0.5 * lat.length)],
          p99: lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))],
        });
      } else if (m.type === 'stop') {
        await server.stop();
        send({ type: 'stop' });
        process.exit(0);
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).message });
    }
  },
);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
send({ type: 'ready', port, rss: rss() });
