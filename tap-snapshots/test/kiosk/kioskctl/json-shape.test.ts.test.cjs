/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/kiosk/kioskctl/json-shape.test.ts > TAP > --json shapes > slot disable 1`] = `
Object {
  "_code": "<number>",
  "changed": "<boolean>",
  "slot": "<number>",
  "state": "disabled",
}
`

exports[`test/kiosk/kioskctl/json-shape.test.ts > TAP > --json shapes > slots 1`] = `
Object {
  "_code": "<number>",
  "slots": Array [
    Object {
      "capacityBytes": "<number>",
      "content": "<string>",
      "disabledFrom": null,
      "diskId": "<string>",
      "fault": null,
      "lastEvent": Object {
        "at": "<string>",
        "type": "<string>",
      },
      "reservationId": null,
      "slot": "<number>",
      "state": "ready",
      "updatedAt": "<string>",
      "usbSerial": "<string>",
      "writeProtect": "<boolean>",
    },
    Object {
      "capacityBytes": null,
      "content": null,
      "disabledFrom": null,
      "diskId": null,
      "fault": null,
      "lastEvent": Object {
        "at": "<string>",
        "type": "<string>",
      },
      "reservationId": null,
      "slot": "<number>",
      "state": "empty",
      "updatedAt": "<string>",
      "usbSerial": null,
      "writeProtect": "<boolean>",
    },
    Object {
      "capacityBytes": null,
      "content": null,
      "disabledFrom": null,
      "diskId": null,
      "fault": null,
      "lastEvent": Object {
        "at": "<string>",
        "type": "<string>",
      },
      "reservationId": null,
      "slot": "<number>",
      "state": "empty",
      "updatedAt": "<string>",
      "usbSerial": null,
      "writeProtect": "<boolean>",
    },
    Object {
      "capacityBytes": null,
      "content": null,
      "disabledFrom": null,
      "diskId": null,
      "fault": null,
      "lastEvent": Object {
        "at": "<string>",
        "type": "<string>",
      },
      "reservationId": null,
      "slot": "<number>",
      "state": "empty",
      "updatedAt": "<string>",
      "usbSerial": null,
      "writeProtect": "<boolean>",
    },
  ],
}
`

exports[`test/kiosk/kioskctl/json-shape.test.ts > TAP > --json shapes > status 1`] = `
Object {
  "_code": "<number>",
  "board": Object {
    "boardId": "<string>",
    "connected": true,
    "firmware": "<string>",
  },
  "clockOffsetMs": "<number>",
  "daemon": "running",
  "dataDir": Object {
    "freeBytes": "<number>",
    "path": "<string>",
    "totalBytes": "<number>",
    "usedPercent": "<number>",
  },
  "faults": Array [],
  "hub": Object {
    "connected": true,
    "lastError": null,
    "lastSync": "<string>",
    "state": "connected",
    "url": "<string>",
  },
  "kioskId": "kiosk-t1",
  "queues": Object {
    "inbox": "<number>",
    "outbox": "<number>",
  },
  "slots": Object {
    "empty": "<number>",
    "ready": "<number>",
  },
  "softwareVersion": "<string>",
}
`

exports[`test/kiosk/kioskctl/json-shape.test.ts > TAP > --json shapes > test relays 1`] = `
Object {
  "_code": "<number>",
  "passed": "<boolean>",
  "rows": Array [
    Object {
      "detail": "<string>",
      "result": "pass",
      "slot": "<number>",
      "test": "relay",
    },
  ],
  "test": "relays",
}
`
