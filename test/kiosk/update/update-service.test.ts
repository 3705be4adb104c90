// The update service's refusals and failures (no root): RAUC's client on the fake RAUC
// (test/helpers/fake-rauc.ts), a real database and outbox, a local content origin. Every failure ends in UpdateStatus `failed`
// with its code, leaves the slots alone and lets go of the update lock.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { openDb } from '../../../kiosk/db/open-db.js';
import { silentLogger } from '../../../kiosk/log.js';
import { Outbox } from '../../../kiosk/state/outbox.js';
import { RaucClient } from '../../../kiosk/update/rauc-client.js';
import { UpdateLock } from '../../../kiosk/update/update-lock.js';
import { UpdateService } from '../../../kiosk/update/update-service.js';
import type { InstallUpdateRequest, UpdateStatusData } from '../../../protocol/index.js';
import { type GeneratedContent, sha256, startOrigin } from '../../helpers/content-fixtures.js';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { type Tap, tempDir } from '../daemon/harness.js';

interface Opts {
  /** Bytes the download must leave free (a huge one: no disk has that much). */
  reserveBytes?: number;
  installFails?: string;
  rebootTimeoutMs?: number;
  imageVersion?: string | null;
}

async function setup(t: Tap, o: Opts = {}) {
  const dir = tempDir(t, 'update-service-');
  const db = openDb({ file: path.join(dir, 'k.sqlite') });
  t.teardown(() => db.close());
  const clock = { now: () => new Date() };
  const outbox = new Outbox({ db, clock });
  const lock = new UpdateLock();
  const blobs = new Map<string, Buffer>();
  const origin = await startOrigin([{ blobs } as unknown as GeneratedContent]);
  t.teardown(() => origin.close());
  const fake = new FakeRauc(dir);
  if (o.installFails) fake.failInstall = { atPercent: 80, message: o.installFails };
  const calls = fake.calls;
  const svc = new UpdateService({
    db,
    outbox,
    clock,
    log: silentLogger(),
    lock,
    rauc: new RaucClient({ runner: fake.run }),
    options: {
      dir: path.join(dir, 'updates'),
      rebootRequestFile: path.join(dir, 'run', 'update-reboot'),
      reserveBytes: o.reserveBytes ?? 1024,
      rebootTimeoutMs: o.rebootTimeoutMs ?? 60_000,
      trialHubTimeoutMs: 60_000,
      progressIntervalMs: 0,
    },
    imageVersion: () => (o.imageVersion === undefined ? '1.0.0' : o.imageVersion),
    headersFor: () => ({}),
    boardAnswers: async () => true,
    selfTest: async () => {},
    hubConnected: async () => {},
    drained: async () => {},
  });
  t.teardown(() => svc.stop());
  await svc.start();
  const statuses = () =>
    outbox
      .peek(1000)
      .filter((e) => e.type === 'UpdateStatus')
      .map((e) => e.data as UpdateStatusData);
  const serve = (buf: Buffer) => {
    const h = sha256(buf);
    blobs.set(h, buf);
    return { bundleUrl: `${origin.url}/blobs/sha256/${h}`, sha256: h, size: buf.length };
  };
  const cmd = (
    b: { bundleUrl: string; sha256: string; size: number },
    version = '2.0.0',
    deadlineMs = 60_000,
  ): InstallUpdateRequest =>
    ({
      commandId: randomUUID(),
      version,
      ...b,
      deadline: new Date(Date.now() + deadlineMs).toISOString(),
      signature: {
        kioskId: 'k',
        expiresAt: new Date().toISOString(),
        nonce: 'n'.repeat(22),
        sig: 's'.repeat(86),
      },
    }) as InstallUpdateRequest;
  return { dir, svc, lock, origin, statuses, serve, cmd, calls, db, fake };
}

const until = async (what: string, cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

t.test('refusals: not an SD image, another version in progress', async (t) => {
  const none = await setup(t, { imageVersion: null });
  const r = await none.svc.handle(none.cmd(none.serve(randomBytes(100))));
  t.equal(r.status, 'Rejected');
  t.match(r.reason, /does not run from a disk-kiosk SD image/);

  const s = await setup(t);
  const hold = s.lock.hold('dispense slot 1');
  t.same(await s.svc.handle(s.cmd(s.serve(randomBytes(5000)), '2.0.0')), { status: 'Accepted' });
  const other = await s.svc.handle(s.cmd(s.serve(randomBytes(5000)), '3.0.0'));
  t.equal(other.status, 'Rejected');
  t.match(other.reason, /another update \(version 2\.0\.0\) is/);
  t.same(
    await s.svc.handle(s.cmd(s.serve(randomBytes(10)), '2.0.0')),
    { status: 'Accepted' },
    'the same version again: nothing new starts',
  );
  hold();
});

t.test('a bundle whose bytes do not match fails EHASH; nothing installed', async (t) => {
  const s = await setup(t);
  const b = s.serve(randomBytes(20_000));
  s.origin.faults.corrupt = new Set([b.sha256]);
  t.same(await s.svc.handle(s.cmd(b)), { status: 'Accepted' });
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  const f = s.statuses().find((x) => x.state === 'failed');
  t.equal(f?.code, 'EHASH');
  t.match(f?.reason, /does not match its SHA-256/);
  t.same(s.calls, [], 'RAUC never called');
  t.equal(s.lock.updating, null);
});

t.test('not enough free space: ENOSPC before any download', async (t) => {
  const s = await setup(t, { reserveBytes: 2 ** 50 });
  const b = s.serve(randomBytes(20_000));
  await s.svc.handle(s.cmd(b));
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  const f = s.statuses().find((x) => x.state === 'failed');
  t.equal(f?.code, 'ENOSPC');
  t.match(f?.reason, /not enough free space for the update bundle/);
  t.same(s.origin.requests, [], 'nothing downloaded');
});

t.test('busy until the deadline: ETIMEDOUT, the jobs keep running', async (t) => {
  const s = await setup(t);
  const hold = s.lock.hold('wipe slot 2');
  await s.svc.handle(s.cmd(s.serve(randomBytes(5000)), '2.0.0', 800));
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  const states = s.statuses().map((x) => x.state);
  t.ok(states.includes('waiting'), 'it waited');
  t.same(s.statuses().find((x) => x.state === 'waiting')?.waitingFor, ['wipe slot 2']);
  const f = s.statuses().find((x) => x.state === 'failed');
  t.equal(f?.code, 'ETIMEDOUT');
  t.match(f?.reason, /stayed busy \(wipe slot 2\) until the deadline/);
  t.same(s.calls, []);
  t.same(s.lock.held, ['wipe slot 2'], 'the wipe still holds its lock');
  hold();
});

t.test('RAUC refuses a bundle signed by another key: failed ERAUC, the lock is free', async (t) => {
  const s = await setup(t);
  const b = s.serve(readFileSync(s.fake.bundle({ version: '2.0.0', signer: 'someone-else' })));
  await s.svc.handle(s.cmd(b));
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  const f = s.statuses().find((x) => x.state === 'failed');
  t.equal(f?.code, 'ERAUC');
  t.match(f?.reason, /rauc install .* failed: signature verification failed/);
  t.equal(s.lock.updating, null, 'dispenses may run again');
  t.notOk(existsSync(path.join(s.dir, 'run', 'update-reboot')), 'no reboot requested');
  t.equal(s.fake.primary, 'A', 'the next boot is still slot A');
  t.equal(s.fake.versions.B, undefined, 'slot B untouched');
});

t.test('RAUC fails writing the slot part-way: failed ERAUC with its error', async (t) => {
  const s = await setup(t, {
    installFails: 'Failed updating slot rootfs.1: failed to write image: No space left on device',
  });
  await s.svc.handle(s.cmd(s.serve(readFileSync(s.fake.bundle({ version: '2.0.0' })))));
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  const installing = s.statuses().filter((x) => x.state === 'installing');
  t.ok(
    installing.some((x) => (x.percent ?? 0) > 0),
    "RAUC's progress reported before it failed",
  );
  const f = s.statuses().at(-1);
  t.equal(f?.state, 'failed');
  t.equal(f?.code, 'ERAUC');
  t.match(f?.reason, /failed to write image: No space left on device/);
  t.equal(s.fake.slotGood('B'), false, 'the half-written slot is bad');
  t.equal(s.fake.primary, 'A', 'and the firmware keeps starting slot A');
  t.equal(s.lock.updating, null);
  t.notOk(existsSync(path.join(s.dir, 'run', 'update-reboot')), 'no reboot requested');
});

t.test('a download cut short is resumed with a Range request', async (t) => {
  const s = await setup(t, { rebootTimeoutMs: 60_000 });
  const b = s.serve(readFileSync(s.fake.bundle({ version: '2.0.0', size: 300_000 })));
  s.origin.faults.cutAfterBytes = 120_000;
  s.origin.faults.cutTimes = 1;
  await s.svc.handle(s.cmd(b));
  await until('rebooting', () => s.statuses().some((x) => x.state === 'rebooting'));
  const ranges = s.origin.requests.map((r) => r.range);
  t.equal(ranges.length, 2, 'two requests');
  t.notOk(ranges[0], 'the first from the start');
  t.match(ranges[1] ?? '', /^bytes=[1-9]\d*-$/, 'the second resumes');
  t.ok(
    Number(/^bytes=(\d+)-/.exec(ranges[1] ?? '')?.[1]) <= 120_000,
    'from no further than what had arrived',
  );
  t.equal(s.fake.versions.B, '2.0.0', 'the resumed bundle installed');
  t.equal(s.fake.primary, 'B', 'slot B is the next tryboot');
  t.same(s.calls.filter((c) => c.startsWith('install')).length, 1, 'installed once');
});

t.test('no reboot after the request: failed EREBOOT, the lock is free again', async (t) => {
  const s = await setup(t, { rebootTimeoutMs: 200 });
  await s.svc.handle(s.cmd(s.serve(readFileSync(s.fake.bundle({ version: '2.0.0' })))));
  await until('failed', () => s.statuses().some((x) => x.state === 'failed'));
  t.same(
    s
      .statuses()
      .map((x) => x.state)
      .filter((x, i, a) => a.indexOf(x) === i),
    ['downloading', 'installing', 'rebooting', 'failed'],
  );
  t.equal(s.statuses().at(-1)?.code, 'EREBOOT');
  t.ok(existsSync(path.join(s.dir, 'run', 'update-reboot')), 'it had asked');
  t.equal(s.lock.updating, null);
});

t.test('the version already running: committed at once', async (t) => {
  const s = await setup(t);
  t.same(await s.svc.handle(s.cmd(s.serve(randomBytes(100)), '1.0.0')), { status: 'Accepted' });
  const [only] = s.statuses();
  t.equal(only?.state, 'committed');
  t.match(only?.reason, /already running version 1\.0\.0/);
  t.same(s.calls, []);
});

t.test("the hub's blob URL is fetched from the kiosk's own content origin", async (t) => {
  const { originBlobUrl } = await import('../../../kiosk/content/download.js');
  const h = 'ab'.repeat(32);
  t.equal(
    originBlobUrl('https://hub.example/', `http://0.0.0.0:8080/blobs/sha256/${h}`, h),
    `https://hub.example/blobs/sha256/${h}`,
  );
  t.equal(
    originBlobUrl('https://hub.example', `https://cdn.example/x/${h}.raucb`, h),
    `https://cdn.example/x/${h}.raucb`,
    'another URL as given',
  );
  t.equal(
    originBlobUrl('https://hub.example', `https://h/blobs/sha256/${'cd'.repeat(32)}`, h),
    `https://h/blobs/sha256/${'cd'.repeat(32)}`,
    'another blob than the bundle: as given',
  );
});
