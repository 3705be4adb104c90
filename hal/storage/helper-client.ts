/**
 * Client of the SD image's storage helper (images/rootfs/usr/libexec/disk-kiosk/
 * storage-helper, socket `/run/disk-kiosk-storage.sock`, one root process per
 * connection). Protocol: one argument per line, then an empty line; the answer is the
 * tool's output and a last line `exit N`. Exit 2 with a `storage-helper: ` message is a
 * refusal (not a slot disk, bad name, ...). `HelperOps` puts the privileged storage
 * steps (privileged.ts) through it, so kioskd runs as an unprivileged user.
 */
import net from 'node:net';
import path from 'node:path';
import type { PrivilegedMount, PrivilegedOps } from './privileged.js';
import { StorageError } from './types.js';

export interface HelperAnswer {
  exitCode: number;
  /** What the tool printed (stdout and stderr), without the `exit N` line. */
  output: string;
}

export interface StorageHelperClientOptions {
  socketPath: string;
  /** Default timeout of one request. Default 5 min (mkfs of a large disk). */
  timeoutMs?: number;
}

const EXIT_LINE = /(?:^|\n)exit (\d+)\n?$/;

export class StorageHelperClient {
  constructor(private readonly opts: StorageHelperClientOptions) {}

  get socketPath(): string {
    return this.opts.socketPath;
  }

  /**
   * Sends one request and resolves with the helper's exit code and output, whatever the
   * code. Rejects with `EINVAL` for an argument that is empty or holds a newline, and
   * `ETOOL` (tool `storage-helper`) when the socket cannot be reached, the helper closes
   * without an `exit N` line, or no answer comes within `timeoutMs` (the connection is
   * then closed; the helper may still finish the operation). Not cancellable.
   */
  request(args: string[], timeoutMs = this.opts.timeoutMs ?? 5 * 60_000): Promise<HelperAnswer> {
    const bad = args.find((a) => a === '' || /[\r\n]/.test(a));
    if (args.length === 0 || bad !== undefined) {
      return Promise.reject(
        new StorageError(
          'EINVAL',
          `storage helper request ${JSON.stringify(args)}: arguments must be non-empty and hold no line break`,
        ),
      );
    }
    const what = `storage helper request "${args.join(' ')}" on ${this.opts.socketPath}`;
    const fail = (msg: string, cause?: unknown) =>
      new StorageError('ETOOL', `${what} ${msg}`, {
        cause,
        tool: 'storage-helper',
        exitCode: -1,
        stderr: '',
      });
    return new Promise<HelperAnswer>((resolve, reject) => {
      let buffered = '';
      let done = false;
      const finish = (err: Error | undefined, answer?: HelperAnswer) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(
        () =>
          finish(
            fail(`got no answer within ${timeoutMs} ms; see journalctl -u 'disk-kiosk-storage@*'`),
          ),
        timeoutMs,
      );
      const sock = net.connect(this.opts.socketPath, () => sock.end(`${args.join('\n')}\n\n`));
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buffered += chunk;
      });
      sock.on('error', (err) =>
        finish(
          fail(
            `failed: ${err.message}; is disk-kiosk-storage.socket running, and is kioskd in the kiosk group?`,
            err,
          ),
        ),
      );
      sock.on('close', () => {
        const m = EXIT_LINE.exec(buffered);
        if (!m) {
          finish(
            fail(`ended without an exit status: ${buffered.trim().slice(-200) || 'no output'}`),
          );
          return;
        }
        finish(undefined, { exitCode: Number(m[1]), output: buffered.slice(0, m.index) });
      });
    });
  }

  /**
   * Like `request`, but resolves only on exit 0 (with the output). A refusal rejects
   * with `ENOTSLOTDISK` (the helper's reason as message), any other exit code with `ETOOL`
   * (`.tool` = the verb, `.exitCode`, `.stderr` = the output).
   */
  async run(args: string[], doing?: string, timeoutMs?: number): Promise<string> {
    const answer = await this.request(args, timeoutMs);
    if (answer.exitCode === 0) return answer.output;
    const text = answer.output.trim();
    const last = text.split('\n').at(-1) ?? '';
    if (answer.exitCode === 2 && last.startsWith('storage-helper: ')) {
      throw new StorageError('ENOTSLOTDISK', `${last}${doing ? ` (while ${doing})` : ''}`);
    }
    throw new StorageError(
      'ETOOL',
      `storage helper ${args.join(' ')} failed${doing ? ` while ${doing}` : ''} (exit ${answer.exitCode}): ${last || 'no output'}`,
      { tool: args[0]!, exitCode: answer.exitCode, stderr: text },
    );
  }
}

/**
 * The privileged steps through the helper. Mount points must sit directly below the
 * helper's mount root (`/run/disk-kiosk-mnt`), since the helper takes a name, not a path;
 * the helper mounts with the kiosk user's uid/gid (`uid`/`gid` are not sent) and only
 * with the kernel exFAT driver.
 */
export class HelperOps implements PrivilegedOps {
  readonly via = 'helper';

  constructor(private readonly deps: { client: StorageHelperClient; mountRoot: string }) {}

  async wipeSignatures(device: string, doing: string): Promise<void> {
    await this.deps.client.run(['wipefs', device], doing);
  }

  async mkfsExfat(device: string, label: string, doing: string): Promise<void> {
    await this.deps.client.run(['format', device, label], doing);
  }

  async mount(
    device: string,
    mountpoint: string,
    opts: PrivilegedMount,
    doing: string,
  ): Promise<void> {
    const args = ['mount', device, this.#name(mountpoint)];
    if (opts.readOnly) args.push('ro');
    await this.deps.client.run(args, doing, 60_000);
  }

  /** `mount-image FILE NAME [ro]`: the helper accepts only the cache's image files. */
  async mountImage(
    file: string,
    mountpoint: string,
    opts: PrivilegedMount,
    doing: string,
  ): Promise<void> {
    const args = ['mount-image', file, this.#name(mountpoint)];
    if (opts.readOnly) args.push('ro');
    await this.deps.client.run(args, doing, 60_000);
  }

  async umount(mountpoint: string, lazy: boolean, doing: string): Promise<void> {
    const args = ['umount', this.#name(mountpoint)];
    if (lazy) args.push('lazy');
    await this.deps.client.run(args, doing, 60_000);
  }

  async setReadOnlyFlag(device: string, readOnly: boolean): Promise<void> {
    await this.deps.client.run([readOnly ? 'setro' : 'setrw', device], undefined, 60_000);
  }

  async flushBuffers(device: string): Promise<void> {
    await this.deps.client.run(['flush', device], undefined, 60_000);
  }

  /** The helper's mount name: the last path element, below the mount root only. */
  #name(mountpoint: string): string {
    const resolved = path.resolve(mountpoint);
    const name = path.basename(resolved);
    if (
      path.dirname(resolved) !== path.resolve(this.deps.mountRoot) ||
      !/^[A-Za-z0-9_-]{1,64}$/.test(name)
    ) {
      throw new StorageError(
        'EINVAL',
        `${mountpoint}: with the storage helper, a mount point must be ${this.deps.mountRoot}/NAME (NAME: 1-64 of A-Z a-z 0-9 _ -); set hardware.storage.mountRoot to ${this.deps.mountRoot}`,
      );
    }
    return name;
  }
}
