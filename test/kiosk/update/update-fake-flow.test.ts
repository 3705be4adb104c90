// kioskd's whole update flow without root, on the fake RAUC (test/helpers/fake-rauc.ts; the
// same flow on the real RAUC is update-flow.test.ts, root): InstallUpdate while a dispense
// runs -> waiting -> installing -> rebooting -> the firmware's tryboot -> trial -> committed;
// and a trial boot that cannot reach its hub within the deadline: kioskd asks for the
// rollback reboot itself, and the old slot reports rolled_back with the trial's reason.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { FakeRauc } from '../../helpers/fake-rauc.js';
import { tempDir } from '../daemon/harness.js';
import { startUpdateRig } from './update-rig.js';

t.test('a running dispense holds the update; then install, tryboot, trial, commit', async (t) => {
  const fake = new FakeRauc(tempDir(t, 'fake-rauc-'));
  const rig = await startUpdateRig(t, { fake });
  const { hub } = rig;
  t.equal(hub.boots.at(-1)?.imageVersion, '1.0.0');

  const board = rig.stockDisk(1, 'disk-1');
  t.same(await hub.call('Dispense', rig.dispense(1, 'disk-1')), { status: 'Accepted' });
  await rig.until('disk at the pickup position', () => !board.sim.sensors(1).seated);

  const bundle = rig.serve(fake.bundle({ version: '2.0.0' }));
  t.same(await rig.install(bundle, '2.0.0'), { status: 'Accepted' });
  await rig.until('waiting', () => rig.statuses().some((s) => s.state === 'waiting'));
  t.same(
    rig.statuses().find((s) => s.state === 'waiting')?.waitingFor,
    ['dispense slot 1'],
    'the running dispense holds the update lock',
  );
  t.notOk(
    fake.calls.some((c) => c.startsWith('install')),
    'RAUC not called while the dispense runs',
  );
  t.same(rig.daemon.updateLock.held, ['dispense slot 1']);

  board.sim.takeDisk(1);
  await rig.until('the reboot request', () => existsSync(rig.rebootFile));
  t.same(
    [...new Set(rig.statuses().map((s) => s.state))],
    ['downloading', 'waiting', 'installing', 'rebooting'],
  );
  const done = hub.events.find((e) => e.type === 'DispenseCompleted');
  t.equal((done?.data as { outcome?: string })?.outcome, 'taken', 'the dispense finished first');
  t.match(
    rig.daemon.updateLock.updating ?? '',
    /installing version 2\.0\.0/,
    'the updater owns the lock until the reboot',
  );
  t.equal(fake.versions.B, '2.0.0');
  t.equal(readFileSync(rig.rebootFile, 'utf8'), 'tryboot\n');

  t.same(fake.handleRebootRequest(rig.rebootFile), { tryboot: true });
  const bootsBefore = hub.boots.length;
  t.equal(await rig.reboot({ tryboot: true }), 'B');
  await rig.until('committed', () => rig.statuses().some((s) => s.state === 'committed'));
  const states = rig.statuses().map((s) => s.state);
  t.ok(states.indexOf('trial') < states.indexOf('committed'));
  t.equal(hub.boots[bootsBefore]?.imageVersion, '2.0.0', 'Boot: the new version');
  t.equal(hub.boots[bootsBefore]?.bootReason, 'SoftwareUpdate');
  t.equal(fake.committed, 'B', 'mark-good committed slot B');
  t.ok(fake.calls.includes('status mark-good booted'));
  t.equal(rig.daemon.updateLock.updating, null, 'the kiosk sells again');
});

t.test('a trial without its hub: kioskd reboots back itself (ENOHUB), rolled_back', async (t) => {
  const fake = new FakeRauc(tempDir(t, 'fake-rauc-'));
  const rig = await startUpdateRig(t, { fake, update: { trialHubTimeoutSeconds: 1 } });
  const { hub } = rig;
  const bundle = rig.serve(fake.bundle({ version: '2.0.0' }));
  await rig.install(bundle, '2.0.0');
  await rig.until('the reboot request', () => existsSync(rig.rebootFile));
  fake.handleRebootRequest(rig.rebootFile);
  await hub.close(); // the new version will not find its hub
  t.equal(await rig.reboot({ tryboot: true }), 'B');
  await rig.until('the rollback request', () => existsSync(rig.rebootFile), 30_000);
  t.equal(readFileSync(rig.rebootFile, 'utf8'), 'rollback\n', 'kioskd asks for the plain reboot');
  t.equal(fake.committed, 'A', 'nothing committed');
  t.same(fake.handleRebootRequest(rig.rebootFile), { tryboot: false });
  await hub.start();
  const bootsBefore = hub.boots.length;
  t.equal(await rig.reboot({ tryboot: false }), 'A', 'the firmware starts the committed slot');
  await rig.until('rolled_back', () => rig.statuses().some((s) => s.state === 'rolled_back'));
  const trial = rig.statuses().find((s) => s.state === 'trial' && s.code);
  t.equal(trial?.code, 'ENOHUB', "the trial's own verdict reached the hub afterwards");
  const rb = rig.statuses().find((s) => s.state === 'rolled_back');
  t.equal(rb?.code, 'ETRIALFAILED');
  t.equal(rb?.version, '2.0.0');
  t.equal(rb?.fromVersion, '1.0.0');
  t.match(rb?.reason ?? '', /ENOHUB: version 2\.0\.0 did not reach the hub within 1 s/);
  t.equal(hub.boots[bootsBefore]?.imageVersion, '1.0.0');
  t.equal(hub.boots[bootsBefore]?.bootReason, 'SoftwareUpdate');
  await rig.until('mark-bad other', () => fake.calls.includes('status mark-bad other'));
  t.equal(fake.slotGood('B'), false, 'the failed slot reads bad');
  t.notOk(existsSync(path.join(rig.dir, 'data', 'updates', 'pre-update.sqlite')), 'cleaned up');
  const st = await rig.ctl(['update', 'status']);
  t.match(st.stdout, /2\.0\.0\s+1\.0\.0\s+rolled_back\s+\S+\s+ETRIALFAILED/);
});
