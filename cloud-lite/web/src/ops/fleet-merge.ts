import type { OpsKiosk } from '../lib/types.js';

/**
 * `list` with the kiosks of `changed` in place of those with their ids; a new id is added in
 * id order (the list's order).
 */
export function mergeKiosks(list: readonly OpsKiosk[], changed: readonly OpsKiosk[]): OpsKiosk[] {
  const byId = new Map(changed.map((k) => [k.id, k]));
  const out = list.map((k) => byId.get(k.id) ?? k);
  for (const k of list) byId.delete(k.id);
  if (byId.size === 0) return out;
  return [...out, ...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
