import {
  CallError,
  type CommandResponse,
  type ErrorCode,
  type HubToKioskAction,
  type RequestOf,
  validateResponse,
} from '../../protocol/index.js';
import type { KioskLogger } from '../log.js';
import type { Inbox, StoredAnswer } from '../state/inbox.js';

/** Context a command handler gets. */
export interface CommandContext {
  commandId: string;
  /** Logger bound to commandId and action. */
  log: KioskLogger;
}

/**
 * Executes one hub command (called at most once per commandId). Resolves with the
 * answer (long work answers `{ status: 'Accepted' }` at once, after inbox.begin()).
 * Throw protocol's CallError to answer a CALLERROR; it is stored like a result.
 */
export type CommandDispatcher = <A extends HubToKioskAction>(
  action: A,
  payload: RequestOf<A>,
  ctx: CommandContext,
) => Promise<CommandResponse>;

export interface CommandGateDeps {
  inbox: Inbox;
  dispatch: CommandDispatcher;
  log: KioskLogger;
}

/**
 * Puts the inbox in front of the dispatcher: records each command before it runs,
 * answers a repeated commandId with the stored answer (or, while the first is still
 * running, with the same pending answer) and never runs a command twice.
 */
export class CommandGate {
  private readonly running = new Map<string, Promise<CommandResponse>>();

  constructor(private readonly deps: CommandGateDeps) {}

  /** Handles one incoming command; rejects with CallError for a CALLERROR answer. */
  handle<A extends HubToKioskAction>(action: A, payload: RequestOf<A>): Promise<CommandResponse> {
    const { commandId } = payload;
    const pending = this.running.get(commandId);
    if (pending) return pending;
    const rec = this.deps.inbox.record(commandId, action, payload);
    if (!rec.fresh) {
      this.deps.log.info({ commandId, action, state: rec.state }, 'repeated command answered');
      if (rec.storedResponse) return replay(rec.storedResponse);
      return Promise.reject(
        new CallError(
          'GenericError',
          `command ${commandId} was interrupted before it was answered; its outcome is ` +
            'reported as events',
          { commandId },
        ),
      );
    }
    const p = this.execute(action, payload).finally(() => this.running.delete(commandId));
    this.running.set(commandId, p);
    return p;
  }

  private async execute<A extends HubToKioskAction>(
    action: A,
    payload: RequestOf<A>,
  ): Promise<CommandResponse> {
    const { commandId } = payload;
    const log = this.deps.log.child({ commandId, action });
    let answer: StoredAnswer;
    try {
      const response = await this.deps.dispatch(action, payload, { commandId, log });
      const check = validateResponse(action, response);
      if (!check.ok) {
        log.error({ problem: check.message }, 'command handler returned an invalid response');
        answer = internalError(action);
      } else {
        answer = { kind: 'result', payload: response };
      }
    } catch (err) {
      if (err instanceof CallError) {
        answer = { kind: 'error', code: err.code, description: err.message, details: err.details };
      } else {
        log.error({ err }, 'command handler threw');
        answer = internalError(action);
      }
    }
    this.deps.inbox.answer(commandId, answer);
    return replay(answer);
  }
}

function internalError(action: string): StoredAnswer {
  return {
    kind: 'error',
    code: 'InternalError',
    description: `${action} failed inside the kiosk`,
    details: {},
  };
}

function replay(answer: StoredAnswer): Promise<CommandResponse> {
  if (answer.kind === 'result') return Promise.resolve(answer.payload as CommandResponse);
  return Promise.reject(
    new CallError(answer.code as ErrorCode, answer.description, answer.details),
  );
}
