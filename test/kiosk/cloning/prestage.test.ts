import t from 'tap';
import { createPrestageService } from '../../../kiosk/cloning/prestage.js';
import { silentLogger } from '../../../kiosk/log.js';
import { requireRoot } from '../../helpers/loop-device.js';
import { kit } from '../fixtures/kit.js';
import { keys, makeContent, makeRig } from './fixtures/rig.js';

t.test('pre-staging fills the configured number of ready disks, pinning the content', async (t) => {
  if (!requireRoot(t, ['rsync'])) return;
  const k = kit(t);
  const rig = await makeRig(t, k.db, k.clock);
  const c = makeContent(
    'popular',
    '3',
    { 'movie.bin': 2 * 2 ** 20, 'extra/notes.txt': 500 },
    keys.privateKeyPem,
  );
  await rig.addContent(c);
  for (const slot of [1, 2, 3]) {
    await rig.addDisk(slot, 32);
    k.slots.transition({
      slot,
      from: 'empty',
      to: 'loaded',
      reason: 'test',
      set: { diskId: `disk-${slot}` },
      also: (d) =>
        d.prepare("INSERT INTO disks (disk_id, updated_at) VALUES (?, 'x')").run(`disk-${slot}`),
    });
  }
  const svc = createPrestageService({
    db: k.db,
    slots: k.slots,
    clock: k.clock,
    log: silentLogger(),
    cache: rig.cache,
    pipeline: rig.pipeline,
    locateDisk: async (slot) => {
      const d = rig.disks.get(slot);
      return d ? { device: d.device, capacityBytes: 32 * 2 ** 20 } : undefined;
    },
    prestage: [{ contentId: 'popular', version: '3', count: 2, writeProtect: true }],
    intervalMs: 3_600_000,
  });
  await svc.start();
  t.teardown(() => svc.stop());
  await svc.poke();
  const states = k.slots.list().map((s) => s.state);
  t.same(states.filter((s) => s === 'ready').length, 2, 'two disks ready');
  t.same(states.filter((s) => s === 'loaded').length, 1, 'the third stays in stock');
  t.same(rig.cache.index.pins('popular', '3'), ['prestage'], 'content pinned');
  await svc.poke();
  t.same(
    k.slots.list().filter((s) => s.state === 'ready').length,
    2,
    'a second pass prepares nothing more',
  );
  const row = k.db
    .prepare("SELECT content_id, write_protected FROM disks WHERE disk_id = 'disk-1'")
    .get();
  t.same(row, { content_id: 'popular', write_protected: 1 });
});
