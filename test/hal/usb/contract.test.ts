/**
 * The USB contract, run against the simulator, against the real driver over a fake sysfs
 * tree (an empty port), and against real hardware when HAL_USB_HUB names a hub port path:
 *   HAL_USB_HUB=1-1.3 npx tap test/hal/usb/contract.test.ts
 * That port's hub must switch power per port; a device plugged there is powered off and on.
 */
import t from 'tap';
import { createUsb } from '../../../hal/usb/index.js';
import { RealUsb } from '../../../hal/usb/real.js';
import { usbContract } from './fixtures/contract.js';
import { FakeBackend } from './fixtures/fake-backend.js';
import { fakeUsbSysfs } from './fixtures/fake-sysfs.js';

t.test('simulator, port with a device', async (t) => {
  usbContract(t, async () => {
    const usb = await createUsb({ driver: 'sim', ports: ['1-1.1', '1-1.2'], enumerateMs: 5 });
    usb.plug('1-1.2', { vendorId: 0x0bc2, productId: 0x2322, serial: 'NA8XK2Q3' });
    await new Promise((r) => setTimeout(r, 20)); // let it enumerate before the test starts
    if (!usb.portState('1-1.2').attached) throw new Error('sim device did not enumerate');
    return { usb, port: '1-1.2', hasDevice: true };
  });
});

t.test('simulator, empty port', async (t) => {
  usbContract(t, async () => ({
    usb: await createUsb({ driver: 'sim', ports: ['1-1.1'] }),
    port: '1-1.1',
    hasDevice: false,
  }));
});

t.test('real driver over a fake sysfs, empty port', async (t) => {
  usbContract(t, async (t) => {
    const sysfsRoot = await fakeUsbSysfs(t, [
      { name: 'usb1', ports: 1 },
      { name: '1-1', ports: 4 },
    ]);
    const usb = new RealUsb({ backend: new FakeBackend(), sysfsRoot, kernelRelease: '6.6.0' });
    return { usb, port: '1-1.2', hasDevice: false };
  });
});

const hub = process.env['HAL_USB_HUB'];
t.test('real hardware (HAL_USB_HUB)', { skip: hub ? false : 'HAL_USB_HUB not set' }, async (t) => {
  usbContract(t, async () => {
    const usb = await createUsb({ driver: 'real' });
    await usb.start();
    const hasDevice = (await usb.list()).some((d) => d.portPath === hub);
    await usb.stop();
    return { usb, port: hub!, hasDevice };
  });
});
