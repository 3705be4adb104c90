import { randomUUID } from 'node:crypto';
import {
  type Action,
  type Direction,
  type HubToKioskAction,
  isActionOf,
  type KioskToHubAction,
  type RequestOf,
  type ResponseOf,
} from './actions.js';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_MAX_FRAME_BYTES } from './constants.js';
import { CallError, type ErrorCode, type FrameError, RpcError } from './errors.js';
import { encodeFrame, type Frame } from './frames.js';
import { type FrameInput, parseFrame } from './parse-frame.js';
import { validateRequest, validateResponse } from './validation.js';

export type PeerRole = 'kiosk' | 'hub';
/** Actions a peer of role R answers. */
export type IncomingAction<R extends PeerRole> = R extends 'kiosk'
  ? HubToKioskAction
  : KioskToHubAction;
/** Actions a peer of role R calls. */
export type OutgoingAction<R extends PeerRole> = R extends 'kiosk'
  ? KioskToHubAction
  : HubToKioskAction;

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;
/** The subset of a pino logger RpcPeer uses. */
export interface PeerLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface CallContext {
  messageId: string;
  action: string;
}

export type Handler<A extends Action> = (
  payload: RequestOf<A>,
  ctx: CallContext,
) => ResponseOf<A> | Promise<ResponseOf<A>>;

export interface RpcPeerOptions<R extends PeerRole> {
  role: R;
  /** Sends one text frame; may throw if the transport is down (the call then fails with ESEND). */
  send: (text: string) => void;
  /** Default time a call waits for its answer, counted from the send (default 30 s). */
  callTimeoutMs?: number;
  /** Largest incoming frame accepted (default 256 KiB). */
  maxMessageBytes?: number;
  logger?: PeerLogger;
  /**
   * The handler of an incoming action this peer has none of its own for (handle()). A hub
   * holding one peer per connected kiosk answers them all with the same handlers: looked up
   * here at each call, they cost each peer nothing.
   */
  handler?(action: IncomingAction<R>): Handler<IncomingAction<R>> | undefined;
  /**
   * Told of every refused incoming frame (after it is logged); read at each, so it may be set
   * after the peer is made. What it throws is logged, never thrown out of receive().
   */
  protocolError?(error: FrameError): void;
}

export interface CallOptions {
  /** Overrides callTimeoutMs for this call. */
  timeoutMs?: number;
}

interface Pending {
  action: string;
  resolve: (value: unknown) => void;
  reject: (err: RpcError) => void;
  timer: NodeJS.Timeout | undefined;
}

const noop = () => {};
const silentLogger: PeerLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Keeps remote-supplied text short in our messages and logs. */
function clip(text: string, max = 256): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

/**
 * One end of the kiosk <-> hub OCPP-J link, independent of the transport: feed it incoming
 * messages with receive() and give it a send function. Correlates calls by message id, validates
 * every payload both ways, and never throws out of receive().
 *
 * Refused incoming frames are told to the options' protocolError(). Not an EventEmitter: a hub
 * holds one peer per connected kiosk, and an emitter's listener table costs each ~200 bytes.
 */
export class RpcPeer<R extends PeerRole = PeerRole> {
  private readonly options: RpcPeerOptions<R>;
  /** Made at the first handle(): a peer may answer with its options' handler() alone. */
  private handlers: Map<string, Handler<Action>> | undefined;
  /**
   * Calls awaiting their answer, made at the first call: a hub holds a peer per connected
   * kiosk, most of them idle (an empty Map costs ~180 bytes).
   */
  private pendingCalls: Map<string, Pending> | undefined;
  private closedReason: string | undefined;

  constructor(options: RpcPeerOptions<R>) {
    this.options = options;
  }

  get role(): R {
    return this.options.role;
  }

  /** Number of calls awaiting an answer. */
  get pendingCount(): number {
    return this.pendingCalls?.size ?? 0;
  }

  private get pending(): Map<string, Pending> {
    this.pendingCalls ??= new Map();
    return this.pendingCalls;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  private get log(): PeerLogger {
    return this.options.logger ?? silentLogger;
  }

  private get incoming(): Direction {
    return this.options.role === 'kiosk' ? 'hubToKiosk' : 'kioskToHub';
  }

  private get outgoing(): Direction {
    return this.options.role === 'kiosk' ? 'kioskToHub' : 'hubToKiosk';
  }

  /**
   * Registers the handler for an incoming action (replacing any earlier one). The handler gets
   * a payload already validated against the request schema; its answer is validated before it is
   * sent. Throw CallError to answer that CALLERROR; anything else thrown answers InternalError.
   */
  handle<A extends IncomingAction<R>>(action: A, handler: Handler<A>): this {
    if (!isActionOf(action, this.incoming)) {
      throw new TypeError(`${String(action)} is not an action a ${this.options.role} receives`);
    }
    this.handlers ??= new Map();
    this.handlers.set(action, handler as unknown as Handler<Action>);
    return this;
  }

  /**
   * Calls an outgoing action and resolves with the validated response. The timeout (default
   * callTimeoutMs) starts once the frame is sent. Rejects with RpcError: ETIMEOUT, ECLOSED (the
   * peer is or gets closed), ECALLERROR (remote CALLERROR), EINVALID (our payload or the remote's
   * result fails its schema), ESEND (send threw). There is no cancel; close() rejects all calls.
   */
  call<A extends OutgoingAction<R>>(
    action: A,
    payload: RequestOf<A>,
    opts: CallOptions = {},
  ): Promise<ResponseOf<A>> {
    if (this.closedReason !== undefined) {
      return Promise.reject(
        new RpcError(
          'ECLOSED',
          `${action} not sent: the link is closed (${this.closedReason}); retry after reconnecting`,
          { action },
        ),
      );
    }
    if (!isActionOf(action, this.outgoing)) {
      return Promise.reject(
        new RpcError(
          'EINVALID',
          `${String(action)} is not an action a ${this.options.role} sends`,
          { action },
        ),
      );
    }
    const check = validateRequest(action, payload);
    if (!check.ok) {
      return Promise.reject(
        new RpcError(
          'EINVALID',
          `${action} not sent: our own payload is invalid: ${check.message}`,
          {
            action,
            errorCode: check.code,
          },
        ),
      );
    }
    const id = randomUUID();
    const timeoutMs = opts.timeoutMs ?? this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    return new Promise<ResponseOf<A>>((resolve, reject) => {
      const entry: Pending = {
        action,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
      };
      this.pending.set(id, entry);
      try {
        this.options.send(encodeFrame({ type: 2, id, action, payload }));
      } catch (err) {
        this.pending.delete(id);
        reject(
          new RpcError(
            'ESEND',
            `${action} call ${id} could not be sent: ${(err as Error)?.message}; check the link`,
            { action, messageId: id, cause: err },
          ),
        );
        return;
      }
      if (!this.pending.has(id)) return; // answered or closed synchronously during send
      entry.timer = setTimeout(() => {
        if (this.pending.get(id) !== entry) return;
        this.pending.delete(id);
        reject(
          new RpcError(
            'ETIMEOUT',
            `${action} call ${id} got no answer within ${timeoutMs} ms; check the link and retry`,
            { action, messageId: id },
          ),
        );
      }, timeoutMs);
    });
  }

  /** Feeds one incoming message. Never throws; bad frames are logged and told (protocolError). */
  receive(data: FrameInput): void {
    try {
      if (this.closedReason !== undefined) {
        this.log.debug({ closed: this.closedReason }, 'rpc: message after close ignored');
        return;
      }
      const parsed = parseFrame(data, {
        maxBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_FRAME_BYTES,
        direction: this.incoming,
      });
      if (!parsed.ok) {
        this.onBadFrame(parsed.error);
        return;
      }
      const frame = parsed.frame;
      if (frame.type === 2) this.onCall(frame.id, frame.action, frame.payload);
      else if (frame.type === 3) this.onResult(frame.id, frame.payload);
      else this.onCallError(frame.id, frame.code, frame.description, frame.details);
    } catch (err) {
      this.log.error({ err }, 'rpc: unexpected failure while receiving a message');
    }
  }

  /**
   * Closes the peer: every pending call rejects with ECLOSED, later calls reject at once,
   * incoming messages are ignored and handler answers are dropped. Idempotent.
   */
  close(reason = 'closed'): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const pending = [...(this.pendingCalls ?? [])];
    this.pendingCalls?.clear();
    for (const [id, entry] of pending) {
      clearTimeout(entry.timer);
      entry.reject(
        new RpcError(
          'ECLOSED',
          `${entry.action} call ${id} abandoned: the link closed (${reason}); retry after reconnecting`,
          {
            action: entry.action,
            messageId: id,
          },
        ),
      );
    }
  }

  private onBadFrame(error: FrameError): void {
    const logged = { ...error };
    if (logged.messageId !== undefined) logged.messageId = clip(logged.messageId, 80);
    this.log.warn(logged, 'rpc: refused an incoming frame');
    try {
      this.options.protocolError?.(error);
    } catch (err) {
      this.log.error({ err }, 'rpc: protocolError threw');
    }
    const { messageId, messageType } = error;
    if (messageId === undefined) return;
    if (messageType === 3 || messageType === 4) {
      // Never answer a response with a CALLERROR; fail the call it was meant for instead.
      const entry = this.takePending(messageId);
      entry?.reject(
        new RpcError(
          'EINVALID',
          `${entry.action} call ${messageId} got a malformed answer: ${error.message}`,
          {
            action: entry.action,
            messageId,
            errorCode: error.code,
          },
        ),
      );
      return;
    }
    this.sendFrame({
      type: 4,
      id: messageId,
      code: error.code,
      description: error.message,
      details: {},
    });
  }

  private onCall(id: string, action: string, payload: unknown): void {
    // parseFrame let through only actions of the incoming direction.
    const handler =
      this.handlers?.get(action) ??
      (this.options.handler?.(action as IncomingAction<R>) as Handler<Action> | undefined);
    if (handler === undefined) {
      this.sendFrame({
        type: 4,
        id,
        code: 'NotImplemented',
        description: `${action} is not handled by this ${this.options.role}`,
        details: {},
      });
      return;
    }
    const ctx: CallContext = { messageId: id, action };
    new Promise((resolve) => resolve(handler(payload as never, ctx))).then(
      (response) => {
        const check = validateResponse(action as Action, response);
        if (!check.ok) {
          this.log.error(
            { action, messageId: id, problem: check.message },
            'rpc: handler returned an invalid response',
          );
          this.sendError(id, 'InternalError', `${action} failed inside the ${this.options.role}`);
          return;
        }
        this.sendFrame({ type: 3, id, payload: response });
      },
      (err: unknown) => {
        if (err instanceof CallError) {
          this.sendError(id, err.code, err.message, err.details);
          return;
        }
        this.log.error({ err, action, messageId: id }, 'rpc: handler threw');
        this.sendError(id, 'InternalError', `${action} failed inside the ${this.options.role}`);
      },
    );
  }

  private onResult(id: string, payload: unknown): void {
    const entry = this.takePending(id);
    if (entry === undefined) {
      this.log.warn({ messageId: id }, 'rpc: CALLRESULT for an unknown or expired call ignored');
      return;
    }
    const check = validateResponse(entry.action as Action, payload);
    if (!check.ok) {
      entry.reject(
        new RpcError(
          'EINVALID',
          `${entry.action} call ${id} got an invalid result: ${check.message}`,
          {
            action: entry.action,
            messageId: id,
            errorCode: check.code,
          },
        ),
      );
      return;
    }
    entry.resolve(payload);
  }

  private onCallError(
    id: string,
    code: ErrorCode,
    description: string,
    details: Record<string, unknown>,
  ): void {
    const entry = this.takePending(id);
    if (entry === undefined) {
      this.log.warn(
        { messageId: id, code },
        'rpc: CALLERROR for an unknown or expired call ignored',
      );
      return;
    }
    entry.reject(
      new RpcError(
        'ECALLERROR',
        `${entry.action} call ${id} failed on the remote: ${code}: ${clip(description)}`,
        {
          action: entry.action,
          messageId: id,
          errorCode: code,
          details,
        },
      ),
    );
  }

  private takePending(id: string): Pending | undefined {
    const entry = this.pendingCalls?.get(id);
    if (entry === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    return entry;
  }

  private sendError(
    id: string,
    code: ErrorCode,
    description: string,
    details: Record<string, unknown> = {},
  ): void {
    this.sendFrame({ type: 4, id, code, description, details });
  }

  private sendFrame(frame: Frame): void {
    if (this.closedReason !== undefined) {
      this.log.debug({ messageId: frame.id }, 'rpc: answer dropped, the link is closed');
      return;
    }
    let text: string;
    try {
      text = encodeFrame(frame);
    } catch (err) {
      this.log.error({ err, messageId: frame.id }, 'rpc: could not encode an answer');
      if (frame.type === 4) text = encodeFrame({ ...frame, details: {} });
      else return;
    }
    try {
      this.options.send(text);
    } catch (err) {
      this.log.warn({ err, messageId: frame.id }, 'rpc: could not send an answer');
    }
  }
}
