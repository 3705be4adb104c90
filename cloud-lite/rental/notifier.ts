import { EventEmitter } from 'node:events';

/**
 * In-process change notifications for live streams (SSE): `order` and `reservation` with the
 * record id. Emitted after the change committed; listeners re-read the record.
 */
export class RentalNotifier extends EventEmitter<{ order: [string]; reservation: [string] }> {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
}
