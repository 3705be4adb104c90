/**
 * Parsing of `/dev/disk/by-path` names into stable port keys.
 *
 * udev's path_id names a USB disk by its controller and its port chain, e.g.
 *   platform-fd500000.pcie-pci-0000:01:00.0-usb-0:1.3:1.0-scsi-0:0:0:0
 *   pci-0000:00:14.0-usbv3-0:2:1.0-scsi-0:0:0:0      (newer udev adds a usbv2/usbv3 twin)
 * The same physical port enumerates under a different port chain on its USB2 and USB3
 * root hubs, so a slot keeps both keys. The key is the name up to the port chain:
 * the interface (`:1.0`), the SCSI address and the usbvN spelling are dropped.
 */

export interface ByPathInfo {
  /** The by-path name as found. */
  name: string;
  /** Stable key for the port (or the whole name, minus `-partN`, for non-USB devices). */
  portKey: string;
  /** The controller part before `-usb-`, when USB. */
  controller?: string;
  /** The port chain, e.g. `1.3`, when USB. */
  usbPort?: string;
  /** Partition number when the name denotes a partition. */
  partition?: number;
}

const PART = /-part(\d+)$/;
const USB = /^(.*?)-usb(?:v\d+)?-(\d+):([\d.]+)(?::\d+\.\d+)?(?:-.*)?$/;

/** Parses one by-path name; returns undefined for an empty name. */
export function parseByPathName(name: string): ByPathInfo | undefined {
  const trimmed = name.trim();
  if (trimmed === '') return undefined;
  const partMatch = PART.exec(trimmed);
  const base = partMatch ? trimmed.slice(0, partMatch.index) : trimmed;
  const partition = partMatch ? Number(partMatch[1]) : undefined;
  const usb = USB.exec(base);
  if (usb) {
    const controller = usb[1] ?? '';
    const usbPort = usb[3] ?? '';
    return {
      name: trimmed,
      portKey: `${controller}-usb-${usb[2]}:${usbPort}`,
      controller,
      usbPort,
      ...(partition !== undefined ? { partition } : {}),
    };
  }
  return { name: trimmed, portKey: base, ...(partition !== undefined ? { partition } : {}) };
}

/** The distinct port keys of a whole disk's by-path names (partition names are ignored), sorted. */
export function portKeysOf(names: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    const info = parseByPathName(name);
    if (info && info.partition === undefined) keys.add(info.portKey);
  }
  return [...keys].sort();
}
