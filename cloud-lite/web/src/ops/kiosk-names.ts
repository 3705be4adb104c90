import { useMemo } from 'preact/hooks';
import type { ApiClient } from '../lib/api-client.js';
import type { NearbyKiosk, OpsKiosk } from '../lib/types.js';
import { useAsync } from '../ui/hooks.js';

/** The name people know a kiosk by: its site's, else the one given at enrolment, else its id. */
export function kioskName(
  k: Pick<OpsKiosk, 'id'> & { name?: string | null },
  site?: { name: string },
): string {
  return site?.name || k.name || k.id;
}

/** The kiosks' sites (the public kiosk list: names, addresses, positions), by id. */
export function useSites(api: ApiClient): Map<string, NearbyKiosk> {
  const sites = useAsync(() => api.nearbyKiosks(undefined, 500).catch(() => []), []);
  // The same Map until the list changes: the fleet map's pins are rebuilt only then.
  return useMemo(() => new Map((sites.data ?? []).map((s) => [s.id, s])), [sites.data]);
}

/**
 * A lookup from kiosk id to its name for pages that show kiosks by id (orders, alerts): the
 * fleet and the sites, loaded once per page.
 */
export function useKioskNames(api: ApiClient): (id: string) => string {
  const sites = useSites(api);
  const fleet = useAsync(() => api.opsKiosks().catch(() => [] as OpsKiosk[]), []);
  const byId = new Map((fleet.data ?? []).map((k) => [k.id, k]));
  return (id) => kioskName(byId.get(id) ?? { id }, sites.get(id));
}
