// `--json` output shapes are stable: snapshots of status, slots, disks and a self-test with
// volatile values (times, ports, paths, sizes) normalised. Update: TAP_SNAPSHOT=1.
import t from 'tap';
import { startCtlRig } from './ctl-rig.js';

/** Replaces every leaf by its type (keeps stable strings like states and codes). */
function shape(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => shape(x, key));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x, k)]));
  const stable = ['state', 'code', 'daemon', 'kioskId', 'test', 'result', 'connected'];
  if (stable.includes(key) && typeof v !== 'number') return v;
  return v === null ? null : `<${typeof v}>`;
}

t.test('--json shapes', async (t) => {
  const rig = await startCtlRig(t);
  rig.stock(1);
  const status = await rig.json(['status']);
  delete status.imageVersion; // present on an SD image only
  t.matchSnapshot(shape(status), 'status');
  t.matchSnapshot(shape(await rig.json(['slots'])), 'slots');
  t.matchSnapshot(shape(await rig.json(['test', 'relays', '1'])), 'test relays');
  t.matchSnapshot(shape(await rig.json(['slot', 'disable', '4'])), 'slot disable');
});
