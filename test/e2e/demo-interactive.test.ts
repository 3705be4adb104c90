// `npm run demo` (interactive): starts a hub and three kioskd processes, which pre-stage their
// films disks (a line per kiosk and slot) before the "ready" line with the URLs and
// credentials; the pages answer; a ready disk really holds the films (every file of the hub's
// manifest, read from the disk) and stays ready when its slot is disabled and enabled again
// (kioskd's quick check); a disk ordered through the API is pushed out and taken by the
// scripted "renter"; SIGINT stops everything (exit 0, no kioskd or socat left, no loop device
// or mount left).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { exfatDriver } from '../../hal/storage/image-file.js';
import { waitReleased } from '../../hal/storage/mounts.js';
import { DirectOps } from '../../hal/storage/privileged.js';
import { HubApi, type Json } from '../../scripts/lib/api-client.js';
import { waitFor } from '../../scripts/lib/wait.js';
import { sha256 } from '../helpers/content-fixtures.js';
import { processesMentioning, startDemoChild, within } from './demo-child.js';

/**
 * Every file on the disk kioskd has in `slot` (its config names the loop device or the
 * directory), as path -> [size, SHA-256], the kiosk's own `.disk-kiosk/` left out. A loop
 * device is mounted read-only for the reading (unmounted in teardown whatever happens).
 */
async function filesOnDisk(
  t: Test,
  kioskDir: string,
  slot: number,
): Promise<Map<string, [number, string]>> {
  const cfg = JSON.parse(readFileSync(path.join(kioskDir, 'kioskd.json'), 'utf8'));
  const disk = cfg.hardware.drives.disks[String(slot)] as { device?: string; dir?: string };
  let root: string;
  let release = async () => {};
  if (disk.device) {
    root = await mkdtemp(path.join(os.tmpdir(), 'demo-disk-'));
    const ops = new DirectOps();
    let mounted = false;
    release = async () => {
      if (mounted) {
        await ops.umount(root, false, 'unmounting the demo disk');
        // exfat-fuse may still hold the device after umount returns; kioskd's quick check
        // mounts it next (EnableSlot), so wait until it is let go.
        await waitReleased(disk.device!, 10_000);
      }
      mounted = false;
      await rm(root, { recursive: true, force: true });
    };
    t.teardown(release);
    const driver = await exfatDriver();
    await ops.mount(disk.device, root, { readOnly: true, uid: 0, gid: 0, driver }, 'reading');
    mounted = true;
  } else root = path.join(disk.dir!, 'data'); // a directory disk's files (hal/storage/sim.ts)
  const out = new Map<string, [number, string]>();
  try {
    for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const rel = path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
      if (rel.startsWith('.disk-kiosk/')) continue;
      const bytes = await readFile(path.join(root, rel));
      out.set(rel, [bytes.length, sha256(bytes)]);
    }
  } finally {
    await release();
  }
  return out;
}

t.test(
  'interactive demo: ready with URLs, pages served, a rental taken, clean SIGINT',
  async (t) => {
    const demo = await startDemoChild(t, ['--take-after', '1']);
    await demo.waitForOutput('ready: press Ctrl-C to stop', 180_000);
    const out = demo.output();
    for (const line of [
      'starting hub... ok',
      'kiosk-1 connected',
      'kiosk-2 connected',
      'kiosk-3 connected',
      'kiosks preparing their stock: 2 nature-films disks each',
      ...['kiosk-1', 'kiosk-2', 'kiosk-3'].flatMap((k) =>
        [1, 2].map((s) => `${k} slot ${s}: ready, nature-films@1 copied and verified`),
      ),
      'stock ready: 2 nature-films disks at each of 3 kiosks',
    ])
      t.match(out, line, `progress: ${line}`);
    t.ok(
      out.indexOf('stock ready:') < out.indexOf('ready: press Ctrl-C'),
      '"ready" only once the stock is',
    );
    t.match(out, 'Stock per kiosk: slots 1-2 hold films disks ready to rent, which the kiosk');
    t.notMatch(out, 'registered as ready', 'no stock the demo only pretends');
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

    // The stock is real: kiosk-1's slot 1 holds every file of the films' manifest (as the
    // hub's content origin serves it), and a disable + enable keeps it ready (kioskd's quick
    // check of the disk's identity and files; a blank disk would go back to `loaded`).
    const admin = { token: /admin API token \(Authorization: Bearer\): (\S+)/.exec(out)![1] };
    const slot1 = async (): Promise<Json> =>
      (await api.ok('GET', '/api/operator/kiosks/kiosk-1', undefined, admin)).kiosk.slots.find(
        (s: Json) => s.slot === 1,
      );
    t.match(await slot1(), { state: 'ready', contentId: 'nature-films', contentVersion: '1' });
    const command = (action: string) =>
      api.ok(
        'POST',
        '/api/operator/kiosks/kiosk-1/commands',
        { action, payload: { slot: 1, reason: 'demo test' } },
        { ...admin, expect: [202] },
      );
    const slot1Leaves = (state: string) =>
      waitFor(
        `kiosk-1 slot 1 to leave ${state}`,
        async () => {
          const s = await slot1();
          return s.state !== state && s;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    await command('DisableSlot');
    t.equal((await slot1Leaves('ready')).state, 'disabled', 'slot 1 disabled');
    const { manifest } = await api.ok(
      'GET',
      '/content/nature-films/1/manifest.json',
      undefined,
      admin,
    );
    const onDisk = await filesOnDisk(t, `${demo.dir}/kiosk-1`, 1);
    t.same(
      [...onDisk].sort(),
      manifest.files.map((f: Json) => [f.path, [f.size, f.sha256]]).sort(),
      `the disk in kiosk-1 slot 1 holds the ${manifest.files.length} films files, byte for byte`,
    );
    await command('EnableSlot');
    t.match(
      await slot1Leaves('disabled'),
      { state: 'ready', contentId: 'nature-films', contentVersion: '1' },
      'enabled again: still ready with the films',
    );
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
          card: { paymentMethod: 'pm_card_visa' },
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
    t.notMatch(readFileSync('/proc/self/mounts', 'utf8'), demo.dir, 'no mount left');
    const r = await fetch(`${base}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    t.equal(r, 'refused', 'the hub is down');
  },
);
