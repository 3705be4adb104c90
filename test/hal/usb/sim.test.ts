/** Simulator-only behaviour: plugging, power that detaches and re-attaches, faults. */
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { createUsb } from '../../../hal/usb/index.js';

const DISK = { vendorId: 0x0bc2, productId: 0x2322, serial: 'NA8XK2Q3' };

async function started(t: Test) {
  const usb = await createUsb({
    driver: 'sim',
    ports: ['1-1.1', '1-1.2', { path: '1-1.3', switchable: false }],
    enumerateMs: 2,
  });
  await usb.start();
  t.teardown(() => usb.stop());
  return usb;
}

t.test('plug and unplug give attach and detach with the device identity', async (t) => {
  const usb = await started(t);
  const attached = once(usb, 'attach', { signal: AbortSignal.timeout(2000) });
  usb.plug('1-1.1', DISK);
  const [dev] = await attached;
  t.same(dev, {
    portPath: '1-1.1',
    busNumber: 1,
    ports: [1, 1],
    vendorId: DISK.vendorId,
    productId: DISK.productId,
    deviceClass: 0,
    serial: DISK.serial,
  });
  t.same(
    (await usb.list()).map((d) => d.serial),
    [DISK.serial],
  );
  const detached = once(usb, 'detach', { signal: AbortSignal.timeout(2000) });
  usb.unplug('1-1.1');
  t.equal((await detached)[0].portPath, '1-1.1');
  t.same(await usb.list(), []);
  t.throws(() => usb.plug('1-4', DISK), { code: 'ENOPORT' });
});

t.test('a device plugged into an unpowered port attaches only when powered', async (t) => {
  const usb = await started(t);
  await usb.setPortPower('1-1.2', false);
  usb.plug('1-1.2', DISK);
  await new Promise((r) => setTimeout(r, 20));
  t.same(usb.portState('1-1.2'), { powered: false, attached: false, plugged: true });
  const attached = once(usb, 'attach', { signal: AbortSignal.timeout(2000) });
  await usb.setPortPower('1-1.2', true);
  t.equal((await attached)[0].portPath, '1-1.2');
});

t.test('slow re-enumeration fault: attach comes after the configured delay', async (t) => {
  const usb = await started(t);
  usb.setFault('1-1.1', { enumerateMs: 150 });
  usb.plug('1-1.1', DISK);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(usb.portState('1-1.1').attached, false, 'not yet enumerated');
  await once(usb, 'attach', { signal: AbortSignal.timeout(3000) });
  t.equal(usb.portState('1-1.1').attached, true);
});

t.test('a port that ignores power-off: EVERIFY, and powerCycle turns it back on', async (t) => {
  const usb = await started(t);
  usb.plug('1-1.1', DISK);
  await once(usb, 'attach', { signal: AbortSignal.timeout(2000) });
  usb.setFault('1-1.1', { ignorePowerOff: true });
  let detaches = 0;
  usb.on('detach', () => detaches++);
  await t.rejects(usb.setPortPower('1-1.1', false), { code: 'EVERIFY', message: /still attached/ });
  t.equal(usb.portState('1-1.1').attached, true);
  await t.rejects(usb.powerCycle('1-1.1', 10), { code: 'EVERIFY' });
  t.equal(await usb.getPortPower('1-1.1'), true, 'switched back on after the failed cycle');
  t.equal(detaches, 0);
  usb.setFault('1-1.1', null);
  await usb.setPortPower('1-1.1', false);
  t.equal(detaches, 1, 'repaired');
});

t.test('a hub without per-port switching is ENOTSUPPORTED', async (t) => {
  const usb = await started(t);
  await t.rejects(usb.setPortPower('1-1.3', false), { code: 'ENOTSUPPORTED' });
  t.equal(await usb.getPortPower('1-1.3'), true);
});

t.test('no events after stop(); a pending enumeration does not fire', async (t) => {
  const usb = await createUsb({ driver: 'sim', ports: ['1-1.1'], enumerateMs: 10 });
  await usb.start();
  let events = 0;
  usb.on('attach', () => events++);
  usb.plug('1-1.1', DISK);
  await usb.stop();
  await new Promise((r) => setTimeout(r, 40));
  t.equal(events, 0);
  await usb.start();
  t.equal((await usb.list()).length, 1, 'the device is there after a restart');
  await usb.stop();
});
