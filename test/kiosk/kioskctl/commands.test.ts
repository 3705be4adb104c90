// Each kioskctl command against a real kioskd (simulated hardware) through its real socket.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { dirDiskDataDir } from '../../../hal/drives/dir-disk.js';
import { makeContent, writeUsbStick } from '../../helpers/content-fixtures.js';
import { startCtlRig } from './ctl-rig.js';

t.test('kioskctl commands against a running kioskd', async (t) => {
  const rig = await startCtlRig(t);
  rig.stock(1);

  t.test('status and slots', async (t) => {
    const s = await rig.ctl(['status']);
    t.equal(s.code, 0, s.stderr);
    t.match(s.stdout, /kiosk:\s+kiosk-t1/);
    t.match(s.stdout, /hub:\s+ws:\/\/127\.0\.0\.1:\d+\/kiosk connected/);
    t.match(s.stdout, /queues:\s+outbox \d+, inbox 0/);
    t.match((await rig.ctl(['slots'])).stdout, /^1\s+ready\s+disk-1\s+c1@1\s+off/m);
  });

  t.test('eject asks; "n" leaves the disk, --yes ejects and records the removal', async (t) => {
    const no = await rig.ctl(['slot', 'eject', '1'], 'n\n');
    t.equal(no.code, 1);
    t.match(no.stderr, /not confirmed; nothing was done/);
    t.equal(rig.sim.ejectCount(1), 0, 'motor never moved');
    const yes = await rig.ctl(['slot', 'eject', '1'], 'y\n');
    t.equal(yes.code, 0, yes.stderr);
    t.equal(rig.sim.ejectCount(1), 1, 'one real motor eject');
    t.equal(rig.daemon.slots.get(1).state, 'empty');
    const row = rig.daemon.db
      .prepare('SELECT last_seen_slot FROM disks WHERE disk_id = ?')
      .get('disk-1');
    t.same(row, { last_seen_slot: null }, 'disk recorded as no longer in a slot');
    await rig.until('audit', () =>
      rig
        .eventsOf('TechnicianAction')
        .some(
          (e) =>
            e.action === 'slot.eject' && e.actor === 'tech-alice' && e.args.diskId === 'disk-1',
        ),
    );
    const again = await rig.ctl(['slot', 'eject', '1', '--yes']);
    t.equal(again.code, 1);
    t.match(again.stderr, /no seated disk/);
  });

  t.test('disable / enable, bad slot', async (t) => {
    t.equal((await rig.ctl(['slot', 'disable', '2'])).code, 0);
    t.equal(rig.daemon.slots.get(2).state, 'disabled');
    t.equal((await rig.ctl(['slot', 'enable', '2'])).code, 0);
    t.equal(rig.daemon.slots.get(2).state, 'empty');
    const bad = await rig.ctl(['slot', 'disable', '9']);
    t.equal(bad.code, 1);
    t.match(bad.stderr, /slot 9 does not exist on this kiosk \(slots 1\.\.4\)/);
  });

  t.test('self-tests print a pass/fail table', async (t) => {
    const m = await rig.ctl(['test', 'motors', '3']);
    t.equal(m.code, 0, m.stderr);
    t.match(m.stdout, /^3\s+motor\s+PASS/m);
    t.match(m.stdout, /motors: PASS/);
    const s = await rig.ctl(['test', 'sensors']);
    t.equal(s.code, 0, s.stdout);
    t.match(s.stdout, /door\s+PASS\s+closed/);
  });

  t.test('disks, calibrate (piped Enter), clone of uncached content refused', async (t) => {
    t.match((await rig.ctl(['disks'])).stdout, /4 slot\(s\) calibrated/);
    // The technician inserts the disk once told to, then presses Enter.
    const r = await rig.ctl(['calibrate', '--slots', '2', '--timeout', '10'], {
      when: /Insert a disk into slot 2/,
      act: async () => {
        await rig.drives.insert(2, { dir: path.join(rig.dir, 'cal-disk'), serial: 'CAL2' });
      },
      type: '\n',
    });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, /Insert a disk into slot 2, press Enter/);
    t.match(r.stderr, /slot 2: mapped to platform-sim/);
    const clone = await rig.ctl(['clone', '2', '--content', 'c1@1']);
    t.equal(clone.code, 1);
    t.match(clone.stderr, /c1@1 is not in the cache; import it first/);
  });

  t.test('cache import, ls, prune on the real content cache', async (t) => {
    const stick = path.join(rig.dir, 'stick');
    const c = makeContent('ctlpkg', '3', { 'a.bin': 5000, 'b/c.txt': 12 }, rig.keys.privateKeyPem);
    await writeUsbStick(stick, c);
    const imp = await rig.ctl(['cache', 'import', stick]);
    t.equal(imp.code, 0, imp.stderr);
    t.match(await rig.json(['cache', 'ls']), {
      content: [{ contentId: 'ctlpkg', version: '3', totalBytes: 5012, complete: true, pins: [] }],
    });
    t.match((await rig.ctl(['cache', 'ls'])).stdout, /^ctlpkg\s+3\s+\S+.*\s+yes\s+-/m);
    const pr = await rig.ctl(['cache', 'prune']);
    t.equal(pr.code, 0, pr.stderr);
    t.match(pr.stdout, /removed 1 package\(s\), freed/);
    t.same((await rig.json(['cache', 'ls'])).content, [], 'nothing cached any more');
    const bad = await rig.ctl(['cache', 'import', path.join(rig.dir, 'no-such-stick')]);
    t.equal(bad.code, 1, 'a missing package directory fails');
  });

  t.test(
    'wipe N wipes the disk (slot -> loaded, WipeCompleted); verify of a blank disk fails',
    async (t) => {
      // Slot 2 holds the calibration disk (directory-backed): stock it as a prepared disk.
      rig.stock(2);
      const renterFile = path.join(dirDiskDataDir(path.join(rig.dir, 'cal-disk')), 'renter.txt');
      mkdirSync(path.dirname(renterFile), { recursive: true });
      writeFileSync(renterFile, 'private');
      const before = await rig.ctl(['wipe', '2']);
      t.equal(before.code, 0, before.stderr);
      t.equal(rig.daemon.slots.get(2).state, 'loaded');
      t.notOk(existsSync(renterFile), 'the data on the disk is gone');
      await rig.until('WipeCompleted', () =>
        rig.eventsOf('WipeCompleted').some((e) => e.slot === 2 && e.mode === 'quick'),
      );
      const v = await rig.ctl(['verify', '2']);
      t.equal(v.code, 1, 'a wiped disk has no identity to verify');
      t.match(v.stderr, /identity|mount|filesystem/i);
      // Clone cached content onto the wiped disk, then verify it.
      const stick = path.join(rig.dir, 'stick');
      t.equal((await rig.ctl(['cache', 'import', stick])).code, 0);
      const cl = await rig.ctl(['--json', 'clone', '2', '--content', 'ctlpkg']);
      t.equal(cl.code, 0, cl.stderr);
      t.equal(rig.daemon.slots.get(2).state, 'ready', 'cloned disk is ready');
      t.match(
        rig.daemon.db
          .prepare('SELECT content_id, content_version FROM disks WHERE disk_id = ?')
          .get('disk-2'),
        { content_id: 'ctlpkg', content_version: '3' },
      );
      const ok = await rig.ctl(['verify', '2']);
      t.equal(ok.code, 0, ok.stderr);
      const busy = await rig.ctl(['wipe', '9']);
      t.not(busy.code, 0, 'no slot 9');
    },
  );

  t.test('sync drains the outbox', async (t) => {
    const r = await rig.ctl(['sync', '--timeout', '10']);
    t.equal(r.code, 0, r.stderr);
    t.equal(rig.daemon.outbox.depth(), 0);
  });

  t.test('config show redacts; config set validates and writes atomically', async (t) => {
    const show = await rig.ctl(['config', 'show']);
    t.match(show.stdout, /"secret": "<redacted>"/);
    t.notMatch(show.stdout, /test-secret/);
    const bad = await rig.ctl(['config', 'set', 'dispense.pickupWindowSeconds', '1']);
    t.equal(bad.code, 1);
    t.match(bad.stderr, /pickupWindowSeconds.*was not changed/);
    const ok = await rig.ctl(['config', 'set', 'dispense.pickupWindowSeconds', '90']);
    t.equal(ok.code, 0, ok.stderr);
    t.equal(JSON.parse(readFileSync(rig.configFile, 'utf8')).dispense.pickupWindowSeconds, 90);
    await rig.until('config audit', () =>
      rig.eventsOf('TechnicianAction').some((e) => e.action === 'config.set'),
    );
  });

  t.test('qr prints the renter URL and writes a PNG', async (t) => {
    const png = path.join(rig.dir, 'qr.png');
    const r = await rig.ctl(['qr', '--png', png]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /http:\/\/127\.0\.0\.1:\d+\/k\/kiosk-t1/);
    t.same([...readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'PNG signature');
  });

  t.test('diag writes one archive without secrets', async (t) => {
    const out = path.join(rig.dir, 'diag.tar.gz');
    const r = await rig.ctl(['diag', '-o', out]);
    t.equal(r.code, 0, r.stderr);
    t.ok(existsSync(out) && statSync(out).size > 0);
    const list = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' });
    for (const f of ['config.json', 'database.json', 'versions.json', 'kioskd.log', 'status.json'])
      t.match(list, f);
    const all = execFileSync('tar', ['-xzOf', out], { encoding: 'utf8' });
    t.notMatch(all, /test-secret/, 'no secret inside');
    t.match(all, /"integrityCheck": \[\s*"ok"\s*\]/);
  });

  t.test('every command answers --help', async (t) => {
    for (const c of [
      ['status'],
      ['slot', 'eject'],
      ['test', 'relays'],
      ['calibrate'],
      ['cache', 'import'],
      ['enrol'],
      ['logs'],
      ['qr'],
      ['diag'],
    ]) {
      const r = await rig.ctl([...c, '--help']);
      t.equal(r.code, 0, c.join(' '));
      t.match(r.stdout, new RegExp(`Usage: kioskctl ${c.join(' ')}`));
    }
  });
});
