// ClusterBatch: the changes the hub tells the other processes about (operators' live fleet and
// alerts) go out batched, at most BATCH_MAX ids a NOTIFY, and not at all on one SQLite process.
import t from 'tap';
import {
  BATCH_MAX,
  ClusterBatch,
  type ClusterMessage,
} from '../../../cloud-lite/cluster/cluster.js';

function recorder(shared: boolean) {
  const sent: ClusterMessage[] = [];
  return { shared, sent, publish: (m: ClusterMessage) => void sent.push(m) };
}

t.test('ids added together go out once, in messages of at most BATCH_MAX ids', async (t) => {
  const cluster = recorder(true);
  const batch = new ClusterBatch(cluster, (kioskIds) => ({ t: 'fleet', kioskIds }), 10);
  const ids = Array.from({ length: BATCH_MAX + 20 }, (_, i) => `kiosk-${i}`);
  for (const id of ids) batch.add(id);
  batch.add('kiosk-0'); // told twice within the batch: once
  t.same(cluster.sent, [], 'nothing before the delay');
  await new Promise((r) => setTimeout(r, 30));
  t.same(
    cluster.sent.map((m) => (m.t === 'fleet' ? m.kioskIds.length : -1)),
    [BATCH_MAX, 20],
  );
  t.same(
    cluster.sent.flatMap((m) => (m.t === 'fleet' ? m.kioskIds : [])),
    ids,
    'every id once, in order',
  );
  batch.add('kiosk-x');
  batch.flush();
  t.same(cluster.sent.at(-1), { t: 'fleet', kioskIds: ['kiosk-x'] }, 'flush sends at once');
});

t.test('ids of 64 characters: a full message still fits a NOTIFY', async (t) => {
  const cluster = recorder(true);
  const batch = new ClusterBatch(cluster, (kioskIds) => ({ t: 'fleet', kioskIds }));
  for (let i = 0; i < BATCH_MAX; i++) batch.add(String(i).padStart(64, 'k'));
  batch.flush();
  const payload = JSON.stringify({ ...cluster.sent[0], from: crypto.randomUUID() });
  t.ok(payload.length < 8000, `${payload.length} bytes`);
});

t.test('one process (not shared): nothing is kept or sent', async (t) => {
  const cluster = recorder(false);
  const batch = new ClusterBatch(cluster, () => ({ t: 'alerts' }), 1);
  batch.add('alerts');
  batch.flush();
  t.same(cluster.sent, []);
});
