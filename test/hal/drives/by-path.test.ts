import t from 'tap';
import { parseByPathName, portKeysOf } from '../../../hal/drives/by-path.js';

const PI_USB2 = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0-scsi-0:0:0:0';
const PI_USB3 = 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:2:1.0-scsi-0:0:0:0';

t.test('a Raspberry Pi USB2 path parses to controller, port chain and key', async (t) => {
  t.same(parseByPathName(PI_USB2), {
    name: PI_USB2,
    portKey: 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3',
    controller: 'platform-fd500000.pcie-pci-0000:01:00.0',
    usbPort: '1.3',
  });
});

t.test('USB2 and USB3 paths of one port give two distinct keys, both kept', async (t) => {
  t.same(portKeysOf([PI_USB3, PI_USB2]), [
    'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3',
    'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:2',
  ]);
});

t.test('the usbv2/usbv3 twin names collapse onto the plain key', async (t) => {
  const plain = 'pci-0000:00:14.0-usb-0:4.2:1.0-scsi-0:0:0:0';
  const v3 = 'pci-0000:00:14.0-usbv3-0:4.2:1.0-scsi-0:0:0:0';
  t.same(portKeysOf([plain, v3]), ['pci-0000:00:14.0-usb-0:4.2']);
  t.equal(parseByPathName(v3)?.usbPort, '4.2');
});

t.test('partition names are recognised and ignored for port keys', async (t) => {
  const part = `${PI_USB2}-part1`;
  t.equal(parseByPathName(part)?.partition, 1);
  t.equal(parseByPathName(part)?.portKey, 'platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3');
  t.same(portKeysOf([part]), []);
});

t.test('deep hub chains and non-USB devices', async (t) => {
  t.equal(
    parseByPathName('platform-xhci-hcd.0-usb-0:1.4.2.1:1.0-scsi-0:0:0:0')?.portKey,
    'platform-xhci-hcd.0-usb-0:1.4.2.1',
  );
  const mmc = parseByPathName('platform-fe340000.mmc');
  t.equal(mmc?.portKey, 'platform-fe340000.mmc');
  t.equal(mmc?.usbPort, undefined);
  t.equal(parseByPathName(''), undefined);
});
