import type { Static } from '@sinclair/typebox';
import {
  ApplyConfigRequest,
  ArmPickupCodeRequest,
  CancelReservationRequest,
  CommandResponse,
  DisableSlotRequest,
  DispenseRequest,
  EnableSlotRequest,
  InstallUpdateRequest,
  PrepareDiskRequest,
  ResetRequest,
  SetWriteProtectRequest,
  TriggerMessageRequest,
  UploadDiagnosticsRequest,
  WipeDiskRequest,
} from './schemas/hub-to-kiosk.js';
import {
  BootRequest,
  BootResponse,
  EventRequest,
  EventResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InventoryRequest,
  InventoryResponse,
} from './schemas/kiosk-to-hub.js';

/** Actions the kiosk calls on the hub, with their request and response schemas. */
export const kioskToHubActions = {
  Boot: { request: BootRequest, response: BootResponse },
  Heartbeat: { request: HeartbeatRequest, response: HeartbeatResponse },
  Inventory: { request: InventoryRequest, response: InventoryResponse },
  Event: { request: EventRequest, response: EventResponse },
} as const;

/** Commands the hub calls on the kiosk, with their request and response schemas. */
export const hubToKioskActions = {
  Dispense: { request: DispenseRequest, response: CommandResponse },
  PrepareDisk: { request: PrepareDiskRequest, response: CommandResponse },
  CancelReservation: { request: CancelReservationRequest, response: CommandResponse },
  SetWriteProtect: { request: SetWriteProtectRequest, response: CommandResponse },
  WipeDisk: { request: WipeDiskRequest, response: CommandResponse },
  DisableSlot: { request: DisableSlotRequest, response: CommandResponse },
  EnableSlot: { request: EnableSlotRequest, response: CommandResponse },
  TriggerMessage: { request: TriggerMessageRequest, response: CommandResponse },
  Reset: { request: ResetRequest, response: CommandResponse },
  InstallUpdate: { request: InstallUpdateRequest, response: CommandResponse },
  ArmPickupCode: { request: ArmPickupCodeRequest, response: CommandResponse },
  UploadDiagnostics: { request: UploadDiagnosticsRequest, response: CommandResponse },
  ApplyConfig: { request: ApplyConfigRequest, response: CommandResponse },
} as const;

export type KioskToHubAction = keyof typeof kioskToHubActions;
export type HubToKioskAction = keyof typeof hubToKioskActions;
export type Action = KioskToHubAction | HubToKioskAction;
export type Direction = 'kioskToHub' | 'hubToKiosk';

type AllActions = typeof kioskToHubActions & typeof hubToKioskActions;
export type RequestOf<A extends Action> = Static<AllActions[A]['request']>;
export type ResponseOf<A extends Action> = Static<AllActions[A]['response']>;

export const KIOSK_TO_HUB_ACTIONS = Object.freeze(
  Object.keys(kioskToHubActions),
) as readonly KioskToHubAction[];
export const HUB_TO_KIOSK_ACTIONS = Object.freeze(
  Object.keys(hubToKioskActions),
) as readonly HubToKioskAction[];

export function isKioskToHubAction(action: unknown): action is KioskToHubAction {
  return typeof action === 'string' && Object.hasOwn(kioskToHubActions, action);
}

export function isHubToKioskAction(action: unknown): action is HubToKioskAction {
  return typeof action === 'string' && Object.hasOwn(hubToKioskActions, action);
}

export function isAction(action: unknown): action is Action {
  return isKioskToHubAction(action) || isHubToKioskAction(action);
}

/** Which way an action travels, or undefined for an unknown action. */
export function actionDirection(action: unknown): Direction | undefined {
  if (isKioskToHubAction(action)) return 'kioskToHub';
  if (isHubToKioskAction(action)) return 'hubToKiosk';
  return undefined;
}

/** True when `action` belongs to `direction`. */
export function isActionOf(action: unknown, direction: Direction): action is Action {
  return direction === 'kioskToHub' ? isKioskToHubAction(action) : isHubToKioskAction(action);
}
