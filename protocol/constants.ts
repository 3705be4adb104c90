/** WebSocket subprotocol spoken by kiosks and the hub. */
export const SUBPROTOCOL = 'disk-kiosk.v1';

/** Largest frame parseFrame accepts by default (bytes of UTF-8). */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024;

/** Deepest array/object nesting parseFrame accepts by default (the frame array counts as 1). */
export const DEFAULT_MAX_DEPTH = 32;

/** Default time RpcPeer.call waits for an answer, counted from when the frame is sent. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** Longest message id accepted on the wire (OCPP-J uses 36, a UUID). */
export const MAX_MESSAGE_ID_LENGTH = 64;
