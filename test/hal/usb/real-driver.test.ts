/** The real USB driver against a fake sysfs tree, a fake usb backend and a fake hub. */
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bmRequestType } from '../../../hal/usb/hub-control.js';
import { RealUsb, type RealUsbDeps } from '../../../hal/usb/real.js';
import { FakeBackend, FakeHub, fakeDevice } from './fixtures/fake-backend.js';
import { fakeUsbSysfs } from './fixtures/fake-sysfs.js';

const HUBS = [
  { name: 'usb1', ports: 2 },
  { name: '1-1', ports: 4 },
];
const DISK = { vendorId: 0x0bc2, productId: 0x2322 };

async function setup(t: Test, deps: Partial<RealUsbDeps> = {}, hubs = HUBS) {
  const root = await fakeUsbSysfs(t, hubs, [{ portPath: '1-1.3', ...DISK }]);
  const backend = new FakeBackend();
  const usb = new RealUsb({
    backend,
    sysfsRoot: root,
    kernelRelease: '6.6.31+rpt-rpi-v8',
    pollMs: 5,
    ...deps,
  });
  await usb.start();
  t.teardown(() => usb.stop());
  return { root, backend, usb };
}

const disable = (root: string, hub: string, iface: string, port: number) =>
  readFile(join(root, hub, iface, `${hub}-port${port}`, 'disable'), 'utf8').then((s) => s.trim());

t.test('sysfs: the disable file of the right port is written and read back', async (t) => {
  const { root, usb } = await setup(t);
  await usb.setPortPower('1-1.2', false);
  t.equal(await disable(root, '1-1', '1-1:1.0', 2), '1');
  t.equal(await disable(root, '1-1', '1-1:1.0', 1), '0', 'other ports untouched');
  t.equal(await usb.getPortPower('1-1.2'), false);
  await usb.setPortPower('1-1.2', true);
  t.equal(await disable(root, '1-1', '1-1:1.0', 2), '0');
  t.equal(await usb.getPortPower('1-1.2'), true);
});

t.test('sysfs: a root hub port lives under usbN/N-0:1.0/usbN-portM', async (t) => {
  const { root, usb } = await setup(t);
  await usb.setPortPower('1-2', false);
  t.equal(await disable(root, 'usb1', '1-0:1.0', 2), '1');
});

t.test('sysfs: power-off waits for the device to leave the bus', async (t) => {
  const { root, usb } = await setup(t, { detachTimeoutMs: 5000 });
  const done = usb.setPortPower('1-1.3', false);
  let settled = false;
  done.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setTimeout(r, 30));
  t.equal(settled, false, 'still waiting while the device is present');
  await rm(join(root, '1-1.3'), { recursive: true });
  await done;
  t.equal(await disable(root, '1-1', '1-1:1.0', 3), '1');
});

t.test('sysfs: a device that stays after power-off is EVERIFY', async (t) => {
  const { usb } = await setup(t, { detachTimeoutMs: 60 });
  await t.rejects(usb.setPortPower('1-1.3', false), {
    code: 'EVERIFY',
    message: /1-1\.3.*still attached/,
  });
});

t.test('powerCycle: off, wait, on', async (t) => {
  const { root, usb } = await setup(t);
  await usb.powerCycle('1-1.1', 20);
  t.equal(await disable(root, '1-1', '1-1:1.0', 1), '0');
});

t.test('unknown hub or port, and malformed paths, are ENOPORT', async (t) => {
  const { usb } = await setup(t);
  await t.rejects(usb.setPortPower('1-1.7', false), { code: 'ENOPORT', message: /no port 7/ });
  await t.rejects(usb.setPortPower('1-4.1', false), { code: 'ENOPORT', message: /no USB hub 1-4/ });
  await t.rejects(usb.getPortPower('banana'), { code: 'ENOPORT' });
});

t.test('calls before start() are ENOTSTARTED', async (t) => {
  const usb = new RealUsb({ backend: new FakeBackend(), sysfsRoot: '/nonexistent' });
  await t.rejects(usb.setPortPower('1-1.1', false), { code: 'ENOTSTARTED' });
  await t.rejects(usb.list(), { code: 'ENOTSTARTED' });
});

t.test('control fallback (kernel 5.x): exact hub class requests', async (t) => {
  const { backend, usb } = await setup(t, { kernelRelease: '5.15.0-1-arm64' });
  const hub = new FakeHub('001', [1]);
  backend.devices = [hub.device, fakeDevice({ bus: '001', ports: [1, 2] })];

  await usb.setPortPower('1-1.2', false);
  t.equal(hub.powered[2], false);
  const out = hub.transfers.filter((x) => x.dir === 'out');
  t.same(
    out.map((x) => x.setup),
    [{ requestType: 'class', recipient: 'other', request: 1, value: 8, index: 2 }],
  );
  t.equal(bmRequestType(out[0]!.setup, 'out'), 0x23, 'bmRequestType 0x23');
  const status = hub.transfers.filter((x) => x.dir === 'in' && x.setup.request === 0);
  t.same(status.at(-1), {
    dir: 'in',
    setup: { requestType: 'class', recipient: 'other', request: 0, value: 0, index: 2 },
    length: 4,
  });
  t.equal(bmRequestType(status[0]!.setup, 'in'), 0xa3, 'GET_STATUS is 0xA3');

  hub.transfers.length = 0;
  await usb.setPortPower('1-1.2', true);
  const on = hub.transfers.find((x) => x.dir === 'out')!;
  t.same(on.setup, { requestType: 'class', recipient: 'other', request: 3, value: 8, index: 2 });
  t.equal(await usb.getPortPower('1-1.2'), true);
  t.equal(hub.opened, hub.closed, 'the hub is closed after every call');
});

t.test('bmRequestType encoding', async (t) => {
  const s = (
    requestType: 'standard' | 'class' | 'vendor',
    recipient: 'device' | 'interface' | 'endpoint' | 'other',
  ) => ({ requestType, recipient, request: 0, value: 0, index: 0 }) as const;
  t.equal(bmRequestType(s('class', 'other'), 'out'), 0x23);
  t.equal(bmRequestType(s('class', 'other'), 'in'), 0xa3);
  t.equal(bmRequestType(s('class', 'device'), 'in'), 0xa0);
  t.equal(bmRequestType(s('standard', 'device'), 'in'), 0x80);
  t.equal(bmRequestType(s('vendor', 'interface'), 'out'), 0x41);
});

t.test('control fallback: SuperSpeed hubs use descriptor 0x2A and status bit 9', async (t) => {
  const { backend, usb } = await setup(t, { powerMethod: 'control' });
  const hub = new FakeHub('002', [1]);
  hub.superSpeed = true;
  backend.devices = [hub.device];
  await usb.setPortPower('2-1.4', false);
  t.equal(hub.powered[4], false);
  t.equal(await usb.getPortPower('2-1.4'), false);
});

t.test('control fallback: errors', async (t) => {
  const { backend, usb } = await setup(t, { powerMethod: 'control' });
  const hub = new FakeHub('001', [1]);
  backend.devices = [hub.device, fakeDevice({ bus: '001', ports: [2] })];

  await t.rejects(usb.setPortPower('1-1.5', false), { code: 'ENOPORT', message: /4 ports/ });
  await t.rejects(usb.setPortPower('1-3.1', false), {
    code: 'ENOPORT',
    message: /no USB hub at 1-3/,
  });
  await t.rejects(usb.setPortPower('1-2.1', false), { code: 'ENOPORT', message: /not a hub/ });
  await t.rejects(usb.setPortPower('1-4', false), { code: 'ENOTSUPPORTED', message: /root hub/ });

  hub.lpsm = 0;
  await t.rejects(usb.setPortPower('1-1.1', false), { code: 'ENOTSUPPORTED', message: /ganged/ });
  hub.lpsm = 1;
  hub.ignore.add(1);
  await t.rejects(usb.setPortPower('1-1.1', false), { code: 'EVERIFY' });
  hub.throwMessage = 'LIBUSB_ERROR_ACCESS: Permission denied';
  await t.rejects(usb.setPortPower('1-1.1', false), { code: 'EPERM' });
  t.equal(hub.opened, hub.closed, 'closed after failures too');
});

t.test('attach/detach events keyed by port path, with ids and serial', async (t) => {
  const { backend, usb } = await setup(t);
  const disk = fakeDevice({ bus: '001', ports: [1, 3], ...DISK, serialNumber: 'NA8XK2Q3' });
  const attached = once(usb, 'attach');
  backend.dispatch('connect', disk);
  const [info] = await attached;
  t.same(info, {
    portPath: '1-1.3',
    busNumber: 1,
    ports: [1, 3],
    vendorId: DISK.vendorId,
    productId: DISK.productId,
    deviceClass: 0,
    serial: 'NA8XK2Q3',
  });
  const unreadable = fakeDevice({ bus: '001', ports: [1, 4] });
  Object.defineProperty(unreadable, 'serialNumber', {
    get() {
      throw new Error('LIBUSB_ERROR_PIPE');
    },
  });
  const detached = once(usb, 'detach');
  backend.dispatch('disconnect', unreadable);
  const [gone] = await detached;
  t.equal(gone.portPath, '1-1.4');
  t.notOk('serial' in gone, 'no serial when it cannot be read');

  backend.devices = [fakeDevice({ bus: '001', ports: [] }), disk];
  t.same(
    (await usb.list()).map((d) => d.portPath),
    ['1-1.3'],
    'root hubs are not listed',
  );

  await usb.stop();
  t.equal(backend.listeners.connect.size + backend.listeners.disconnect.size, 0, 'unsubscribed');
});
