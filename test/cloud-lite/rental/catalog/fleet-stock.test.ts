// The alerts sweep's zero-stock check (Catalog.sellsAnywhere) reads the ready slots of a disk
// type's content a page at a time, only the snapshot fields the stock rule uses; its answer must
// be the per-kiosk rule's (readySlots, which reads whole slot records) for every kiosk set:
// slots reserved, claimed by an order, without a disk, too small, of another version, content
// or state, and more ready slots than a page.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { validateConfig } from '../../../../cloud-lite/config.js';
import type { KioskCommands } from '../../../../cloud-lite/hub/kiosk-commands.js';
import { Catalog } from '../../../../cloud-lite/rental/catalog/catalog.js';
import { STOCK_PAGE } from '../../../../cloud-lite/rental/catalog/preparable.js';
import { SqliteStore } from '../../../../cloud-lite/store/sqlite/sqlite-store.js';
import { orderRecord, userRecord } from '../../fixtures/records.js';

const T0 = '2026-01-01T00:00:00.000Z';
const KIOSKS = 48;
const config = validateConfig({
  host: '127.0.0.1',
  port: 0,
  databasePath: 'unused.db',
  signingKeyPath: 'unused.pem',
  adminToken: 'fleet-stock-admin-token-0123456789',
});

/** Slot `slot` of kiosk `i`: one of eight kinds, most of them not sellable. */
function slotOf(i: number, slot: number) {
  const base = { slot, state: 'ready', writeProtect: false, diskId: `d${i}-${slot}` };
  const movies = { ...base, contentId: 'movies', contentVersion: '1', capacityBytes: 1000 };
  switch ((i * 4 + slot) % 8) {
    case 0:
      return movies;
    case 1:
      return { ...movies, state: 'reserved', reservationId: `r${i}` };
    case 2: {
      const { diskId: _, ...noDisk } = movies;
      return noDisk;
    }
    case 3:
      return { ...movies, capacityBytes: 500 };
    case 4:
      return { ...movies, contentVersion: '0' };
    case 5:
      return { ...movies, contentId: 'music' };
    case 6:
      return { ...movies, state: 'loaded' };
    default: {
      const { contentVersion: _, capacityBytes: __, ...unsaid } = movies;
      return unsaid;
    }
  }
}

t.test('sellsAnywhere answers as readySlots, kiosk by kiosk and for the fleet', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-stock-'));
  const store = SqliteStore.open(path.join(dir, 'hub.db'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ids = Array.from({ length: KIOSKS }, (_, i) => `k${String(i).padStart(2, '0')}`);
  await store.transaction(async (tx) => {
    for (const id of ['movies', 'music'])
      await tx.content.insert({ id, title: id, version: '1', sizeBytes: 100, description: '' });
    for (const [id, contentId, capacityBytes] of [
      ['movies-1k', 'movies', 1000],
      ['movies-400', 'movies', 400],
      ['music-1k', 'music', 1000],
    ] as const)
      await tx.diskTypes.insert({
        id,
        capacityBytes,
        contentId,
        writeProtect: 'forced',
        pricePerDayMinor: 500,
        currency: 'EUR',
        defaultDays: 1,
        maxDays: 7,
        kioskIds: null,
      });
    await tx.users.insert(userRecord('u1', T0));
    for (const [i, id] of ids.entries()) {
      await tx.kiosks.insert({ id, name: id, createdAt: T0 });
      await tx.slots.replaceAll(
        id,
        [1, 2, 3, 4].map((slot) => {
          const snapshot = slotOf(i, slot);
          return { kioskId: id, slot, state: snapshot.state, snapshot, updatedAt: T0 };
        }),
      );
    }
    // Every third kiosk's sellable slot is promised to an order in flight.
    for (const [i, id] of ids.entries()) {
      const slot = [1, 2, 3, 4].find((s) => (i * 4 + s) % 8 === 0);
      if (slot !== undefined && i % 3 === 0)
        await tx.orders.insert(
          orderRecord(`o${i}`, T0, { kioskId: id, slot, diskTypeId: 'movies-1k' }),
        );
    }
  });
  const ready = await store.read((r) => r.slots.listInStates(['ready']));
  t.ok(
    ready.filter((s) => s.snapshot.contentId === 'movies').length > STOCK_PAGE,
    'more ready slots of the content than a page',
  );
  const kiosks = { silentForMs: () => 0, canServe: () => true } as unknown as KioskCommands;
  const catalog = new Catalog({ store, kiosks, config: config.rental, now: () => new Date() });
  await store.transaction(async (tx) => {
    const stock = await catalog.fleetStock(tx);
    const got: Array<[string, string, boolean]> = [];
    const want: Array<[string, string, boolean]> = [];
    for (const type of await tx.diskTypes.list()) {
      const sells: string[] = [];
      for (const id of ids) {
        const one = (await catalog.readySlots(tx, id, type)).length > 0;
        if (one) sells.push(id);
        want.push([type.id, id, one]);
        got.push([type.id, id, await catalog.sellsAnywhere(tx, type, new Set([id]), stock)]);
      }
      want.push([type.id, 'fleet', sells.length > 0]);
      got.push([type.id, 'fleet', await catalog.sellsAnywhere(tx, type, new Set(ids), stock)]);
      // Only the kiosks that sell none of it: none anywhere.
      const none = new Set(ids.filter((id) => !sells.includes(id)));
      want.push([type.id, 'the others', false]);
      got.push([type.id, 'the others', await catalog.sellsAnywhere(tx, type, none, stock)]);
    }
    t.same(got, want, 'the same answer for every type and kiosk set');
    t.ok(
      want.some(([, , s]) => s) && want.some(([, , s]) => !s),
      'some kiosks sell a type, some do not',
    );
  });
});
