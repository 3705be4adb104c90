#!/usr/bin/env node
// Client of the disk-kiosk storage helper (disk-kiosk-storage.socket), for kioskd and
// technicians in the kiosk group: `storage-client.mjs mount /dev/sdb1 slot-3 ro`.
// Sends one argument per line and an empty line, prints the helper's output, and exits
// with the helper's exit code (2 = refused, 1 = could not reach the helper).
// Timeout: none of its own (a wipe may take hours); the helper's unit caps it at 6 h.
import net from 'node:net';

const socketPath = process.env.DISK_KIOSK_STORAGE_SOCKET ?? '/run/disk-kiosk-storage.sock';
const args = process.argv.slice(2);
if (args.length === 0 || args.some((a) => a.includes('\n') || a === '')) {
  process.stderr.write('usage: storage-client.mjs VERB ARGS... (see storage-helper)\n');
  process.exit(2);
}
let buffered = '';
const sock = net.connect(socketPath, () => sock.end(`${args.join('\n')}\n\n`));
sock.setEncoding('utf8');
sock.on('data', (chunk) => {
  buffered += chunk;
});
sock.on('error', (err) => {
  process.stderr.write(
    `storage-client: cannot reach the storage helper at ${socketPath}: ${err.message}\n`,
  );
  process.exit(1);
});
sock.on('close', () => {
  const m = /(?:^|\n)exit (\d+)\n?$/.exec(buffered);
  if (!m) {
    process.stderr.write(`storage-client: the helper closed without an exit status\n${buffered}`);
    process.exit(1);
  }
  process.stdout.write(buffered.slice(0, m.index + (m[0].startsWith('\n') ? 1 : 0)));
  process.exit(Number(m[1]));
});
