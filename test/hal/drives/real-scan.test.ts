import t from 'tap';
import { RealDiskScanner } from '../../../hal/drives/real.js';
import { selectDisks } from '../../../hal/drives/selection.js';
import { findSystemDisks } from '../../../hal/drives/system-disks.js';

// Runs the real enumeration on this machine (drivelist, lsblk, by-path): it is read-only.
t.test('the real scan finds the system disk and excludes it', async (t) => {
  const systemDisks = await findSystemDisks();
  t.ok(systemDisks.length > 0, `the disk holding / is found (${systemDisks.join(', ')})`);
  const scan = await new RealDiskScanner().scan();
  const sel = selectDisks(scan, { version: 1, slots: {} });
  for (const dev of systemDisks) {
    t.ok(
      sel.excluded.some((e) => e.device === dev),
      `${dev} is excluded`,
    );
    t.notOk(
      sel.candidates.some((c) => c.device === dev),
      `${dev} is no candidate`,
    );
  }
});
