import t from 'tap';
import { parsePortPath, portPathOf } from '../../../hal/usb/port-path.js';

t.test('a port behind an external hub', async (t) => {
  t.same(parsePortPath('1-1.3'), {
    portPath: '1-1.3',
    busNumber: 1,
    ports: [1, 3],
    hub: '1-1',
    hubInterfacePrefix: '1-1',
    port: 3,
  });
  t.match(parsePortPath('2-3.4.12'), { busNumber: 2, ports: [3, 4, 12], hub: '2-3.4', port: 12 });
});

t.test('a port of the root hub', async (t) => {
  t.match(parsePortPath('3-2'), {
    busNumber: 3,
    ports: [2],
    hub: 'usb3',
    hubInterfacePrefix: '3-0',
    port: 2,
  });
});

t.test('malformed port paths are ENOPORT', async (t) => {
  for (const bad of [
    '',
    'foo',
    '1',
    '1-',
    '1-0',
    '0-1',
    '1-1.',
    '1-1..2',
    'usb1',
    '1-1:1.0',
    ' 1-1',
  ]) {
    t.throws(() => parsePortPath(bad), { code: 'ENOPORT' }, JSON.stringify(bad));
  }
});

t.test('port path of a device from the usb package bus id and port chain', async (t) => {
  t.equal(portPathOf('001', [1, 3]), '1-1.3');
  t.equal(portPathOf('2', [4]), '2-4');
  t.equal(portPathOf(1, [1, 2, 3]), '1-1.2.3');
  t.equal(portPathOf('001', []), undefined, 'root hubs have no port path');
});
