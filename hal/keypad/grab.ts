/**
 * EVIOCGRAB from Node, which has no ioctl(): a short-lived `perl` (Debian's perl-base is
 * Essential, so it is on every Debian system and the SD image) inherits the device's open
 * file as its stdin and calls ioctl(EVIOCGRAB, 1) on it. The grab belongs to the open file
 * (the kernel's evdev client), not to the process that asked: it lasts until kioskd closes
 * the device, and the kernel drops it by itself when kioskd dies. No native module to build.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { EVIOCGRAB } from './input-event.js';

/**
 * `errno` ETIMEDOUT or ENONBLOCK: the device may have been left blocking (the helper was
 * killed between libuv's change and its own), so the caller must close it and open it again.
 */
export type GrabResult = { grabbed: true } | { grabbed: false; errno: string; note: string };

/** Grabs the evdev device open as `fd` exclusively. Never rejects. */
export type Grabber = (fd: number) => Promise<GrabResult>;

const errnoName = (n: number): string =>
  Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

/**
 * libuv makes a child's stdin blocking before exec, and O_NONBLOCK belongs to the open file,
 * which kioskd shares: the helper sets it again first, or kioskd's next read would block
 * its event loop.
 */
const SCRIPT = [
  'use Fcntl;',
  'fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) | O_NONBLOCK) or do { print STDERR $!+0; exit 4 };',
  `ioctl(STDIN, ${EVIOCGRAB}, 1) or do { print STDERR $!+0; exit 3 }`,
].join(' ');

/** The default grabber (see the file comment). Settles within `timeoutMs` (default 5 s). */
export function perlGrab(timeoutMs = 5000): Grabber {
  return (fd) =>
    new Promise<GrabResult>((resolve) => {
      let stderr = '';
      const done = (r: GrabResult) => {
        clearTimeout(timer);
        resolve(r);
      };
      const child = spawn('perl', ['-e', SCRIPT], { stdio: [fd, 'ignore', 'pipe'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ grabbed: false, errno: 'ETIMEDOUT', note: 'the grab helper did not answer' });
      }, timeoutMs);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', (err: NodeJS.ErrnoException) =>
        done({
          grabbed: false,
          errno: err.code ?? 'ESPAWN',
          note: `cannot run perl for EVIOCGRAB (${err.message}); install perl-base`,
        }),
      );
      child.on('close', (code) => {
        if (code === 0) return done({ grabbed: true });
        if (code === 4)
          return done({
            grabbed: false,
            errno: 'ENONBLOCK',
            note: 'the grab helper could not make the device non-blocking again',
          });
        const n = Number.parseInt(stderr.trim(), 10);
        const errno = Number.isFinite(n) ? errnoName(n) : `exit ${code}`;
        const note =
          errno === 'ENOTTY' || errno === 'EINVAL'
            ? `not an input device that can be grabbed (${errno}): other readers see the keys too`
            : errno === 'EBUSY'
              ? 'another process holds this keypad exclusively (EBUSY): kioskd sees no keys; find it with fuser'
              : `EVIOCGRAB failed: ${errno}`;
        done({ grabbed: false, errno, note });
      });
    });
}
