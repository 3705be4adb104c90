import type { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RentalNotifier } from '../rental/notifier.js';

/** How often an open stream sends a `: keep-alive` comment (and checks its caller again). */
const KEEP_ALIVE_MS = 15_000;

/**
 * Streams `event: <name>` with the record's view whenever it changes, until it is terminal, the
 * client goes away or the caller's session ends. `load` re-reads the record (undefined: gone).
 */
export async function streamChanges<T extends { state: string }>(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    notifier: RentalNotifier;
    name: 'order' | 'reservation';
    id: string;
    load: () => Promise<T | undefined>;
    terminal: readonly string[];
  },
): Promise<void> {
  const first = await opts.load();
  if (!first) return;
  let chain = Promise.resolve();
  const onChange = (changed: string) => {
    if (changed !== opts.id || stream.closed) return;
    chain = chain.then(async () => {
      const v = await opts.load().catch(() => undefined);
      if (v) await send(v);
    });
  };
  const stream = liveStream(req, reply, () => opts.notifier.off(opts.name, onChange));
  // The client went away during the first read: the stream has ended, nothing to listen to.
  if (stream.closed) return;
  const send = async (view: T, o?: { checked: boolean }) => {
    if ((await stream.send(opts.name, view, o)) && opts.terminal.includes(view.state)) stream.end();
  };
  opts.notifier.on(opts.name, onChange);
  await send(first, { checked: true });
}

/**
 * Streams `event: <name>` with `data: {"<name>": <load()>}` at once and again after every
 * `change` the emitter emits (coalesced: one re-read at a time), until the client goes away or
 * the caller's session ends.
 */
export async function streamSnapshots<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    emitter: Pick<EventEmitter, 'on' | 'off'>;
    change: string;
    name: string;
    load: () => Promise<T>;
  },
): Promise<void> {
  const first = await opts.load();
  let pending = false;
  let chain = Promise.resolve();
  const onChange = () => {
    if (stream.closed || pending) return;
    pending = true;
    chain = chain.then(async () => {
      pending = false;
      const v = await opts.load().catch(() => undefined);
      if (v !== undefined) await stream.send(opts.name, v);
    });
  };
  const stream = liveStream(req, reply, () => opts.emitter.off(opts.change, onChange));
  if (stream.closed) return;
  opts.emitter.on(opts.change, onChange);
  await stream.send(opts.name, first, { checked: true });
}

/**
 * Streams a list of items by id: `event: <name>` with `data: {"<name>": <loadAll()>}` at once
 * (and after `resync`, when changes may have been missed), then, after changes, only the items
 * that changed: `event: <name>Changed` with `data: {"<name>": <loadSome(ids)>}` (the client
 * replaces those by id). The ids `change` names are gathered while a read is under way and read
 * together next; more than `maxChanged` at once send the whole list instead.
 */
export async function streamChangedItems<T>(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: {
    emitter: Pick<EventEmitter, 'on' | 'off'>;
    change: string;
    resync: string;
    name: string;
    loadAll: () => Promise<T[]>;
    loadSome: (ids: string[]) => Promise<T[]>;
    /** Only changes of ids it accepts are sent (default: every id). */
    accept?: (id: string) => boolean;
    maxChanged?: number;
  },
): Promise<void> {
  const max = opts.maxChanged ?? 500;
  let changed = new Set<string>();
  let all = false;
  let scheduled = false;
  let started = false;
  let chain = Promise.resolve();
  const flush = async () => {
    scheduled = false;
    const ids = [...changed];
    const whole = all || ids.length > max;
    changed = new Set();
    all = false;
    if (whole) {
      const list = await opts.loadAll().catch(() => undefined);
      if (list) await stream.send(opts.name, list);
      return;
    }
    const some = await opts.loadSome(ids).catch(() => undefined);
    if (some && some.length > 0) await stream.send(`${opts.name}Changed`, some, { key: opts.name });
  };
  const schedule = () => {
    // Before the first list is sent, changes are only gathered (flushed after it).
    if (!started || stream.closed || scheduled) return;
    scheduled = true;
    chain = chain.then(flush);
  };
  const onChange = (id: string) => {
    if (opts.accept && !opts.accept(id)) return;
    changed.add(id);
    schedule();
  };
  const onResync = () => {
    all = true;
    schedule();
  };
  const unsubscribe = () => {
    opts.emitter.off(opts.change, onChange);
    opts.emitter.off(opts.resync, onResync);
  };
  // Subscribed before the first read: a change that commits while it runs is gathered and
  // sent after the first list (the read may or may not have seen it).
  opts.emitter.on(opts.change, onChange);
  opts.emitter.on(opts.resync, onResync);
  let first: T[];
  try {
    first = await opts.loadAll();
  } catch (err) {
    unsubscribe();
    throw err;
  }
  const stream = liveStream(req, reply, unsubscribe);
  await stream.send(opts.name, first, { checked: true });
  started = true;
  if (all || changed.size > 0) schedule();
}

interface LiveStream {
  readonly closed: boolean;
  /**
   * Writes `event: <name>` with `data: {"<key>": data}` (`key` defaults to `name`) once the
   * caller is checked again (`checked`: the guard just did); false when the stream has ended
   * (then or before).
   */
  send(name: string, data: unknown, o?: { checked?: boolean; key?: string }): Promise<boolean>;
  end(): void;
}

/**
 * Takes the reply over as an event stream with keep-alive comments. The caller's session
 * (req.stillAllowed, from the guard) is checked again before every message and keep-alive, and
 * at once when a session of the caller ends in this process: a logged-out, expired or demoted
 * session ends the stream (the browser's reconnect then gets 401). `onEnd` runs once, when the
 * stream ends for any reason (the client went away included, before this was called too: the
 * handlers read before they call it, and a client gone meanwhile ends the stream at once).
 */
function liveStream(req: FastifyRequest, reply: FastifyReply, onEnd: () => void): LiveStream {
  const raw = openEventStream(reply);
  const caller = req.stillAllowed;
  let closed = false;
  const allowed = async (): Promise<boolean> => {
    if (!closed && caller && !(await caller.check())) end();
    return !closed;
  };
  const keepAlive = setInterval(
    () => void allowed().then((ok) => ok && raw.write(': keep-alive\n\n')),
    KEEP_ALIVE_MS,
  );
  const unwatch = caller?.onEnded(() => void allowed()) ?? (() => {});
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    unwatch();
    onEnd();
    raw.end();
  };
  // The response's 'close' (the connection ended) has already fired when the client went away
  // while the handler read: then end at once, or the keep-alive and listeners stay forever.
  // (Not req.raw's 'close': a request emits it once its body is read, connection open or not.)
  if (raw.destroyed) end();
  else raw.on('close', end);
  return {
    get closed() {
      return closed;
    },
    async send(name, data, o = {}) {
      if (!(o.checked ? !closed : await allowed())) return false;
      raw.write(`event: ${name}\ndata: ${JSON.stringify({ [o.key ?? name]: data })}\n\n`);
      return true;
    },
    end,
  };
}

/** Takes the reply over and writes the event-stream head (no buffering by proxies). */
function openEventStream(reply: FastifyReply) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  return raw;
}
