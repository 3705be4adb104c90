// `npm run demo` (interactive): starts a hub and three kioskd processes, prints the URLs
// and credentials and a "ready" line; the pages answer; a disk ordered through the API is
// pushed out and taken by the scripted "renter"; SIGINT stops everything (exit 0, no
// kioskd or socat left, no loop device left).
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { HubApi } from '../../scripts/lib/api-client.js';
import { processesMentioning, startDemoChild, within } from './demo-child.js';

t.test(
  'interactive demo: ready with URLs, pages served, a rental taken, clean SIGINT',
  async (t) => {
    const demo = await startDemoChild(t, ['--take-after', '1']);
    await demo.waitForOutput('ready: press Ctrl-C to stop', 90_000);
    const out = demo.output();
    for (const line of [
      'starting hub... ok',
      'kiosk-1 connected',
      'kiosk-2 connected',
      'kiosk-3 connected',
    ])
      t.match(out, line, `progress: ${line}`);
    const base = /Operator dashboard:\s+(http:\/\/127\.0\.0\.1:\d+)\/ops/.exec(out)?.[1];
    t.ok(base, 'operator URL printed');
    for (const id of ['kiosk-1', 'kiosk-2', 'kiosk-3'])
      t.match(out, `${base}/k/${id}`, `renter URL of ${id}`);
    t.match(out, `${base}/kiosks`);
    t.match(out, /renter\s+renter@demo\.test \/ \S+/);
    t.match(out, /operator\s+operator@demo\.test \/ \S+/);
    t.match(out, '4242424242424242');
    t.match(out, process.getuid?.() === 0 ? 'Disks: loop devices' : 'DIRECTORY-BACKED');

    const api = new HubApi(base!);
    for (const p of ['/k/kiosk-1', '/kiosks', '/ops']) {
      const r = await fetch(base + p);
      t.equal(r.status, 200, `${p} served`);
      t.match(await r.text(), /<html/i);
    }
    // The printed renter credentials work and a rental runs through the real kiosk.
    const login = await api.ok('POST', '/api/auth/login', {
      login: 'renter@demo.test',
      password: /renter\s+renter@demo\.test \/ (\S+)/.exec(out)![1],
    });
    const order = (
      await api.ok(
        'POST',
        '/api/orders',
        {
          kioskId: 'kiosk-2',
          diskTypeId: 'films-64m',
          writeProtect: false,
          days: 1,
          card: { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' },
        },
        { token: login.token, headers: { 'idempotency-key': crypto.randomUUID() } },
      )
    ).order;
    await demo.waitForOutput('kiosk-2: the renter takes the disk from slot', 30_000);
    const deadline = Date.now() + 15_000;
    let state = '';
    while (Date.now() < deadline) {
      state = (await api.ok('GET', `/api/orders/${order.id}`, undefined, { token: login.token }))
        .order.state;
      if (state === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(state, 'completed', 'the order completed once the renter took the disk');

    const kioskPids = ['kiosk-1', 'kiosk-2', 'kiosk-3'].map((id) =>
      processesMentioning(`${demo.dir}/${id}/kioskd.json`),
    );
    t.ok(
      kioskPids.every((p) => p.length >= 1),
      'three kioskd processes were running',
    );
    t.ok(
      processesMentioning(`${demo.dir}/kiosk-1/board`).length >= 1,
      'socat ran for the board pty',
    );

    process.kill(demo.proc.pid!, 'SIGINT');
    const how = await within(demo.exited, 30_000, 'still running after 30 s');
    t.equal(how, 0, 'exit 0 after SIGINT');
    t.match(demo.output(), 'SIGINT: stopping');
    t.match(demo.output(), 'stopped: kiosks, simulators, disks and hub');
    t.same(processesMentioning(demo.dir), [], 'no kioskd or socat left');
    if (process.getuid?.() === 0) {
      const loops = execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' });
      t.notMatch(loops, demo.dir, 'no loop device left');
    }
    const r = await fetch(`${base}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    t.equal(r, 'refused', 'the hub is down');
  },
);
