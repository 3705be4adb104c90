import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import type { ApiClient } from '../lib/api-client.js';
import { directionsLinks } from '../lib/geo.js';
import type { MapSettings } from '../lib/types.js';
import { useApi } from './context.js';

let settings: Promise<MapSettings | undefined> | undefined;

/** The hub's map settings (GET /api/map), fetched once per page load; undefined if that failed. */
export function loadMapSettings(api: ApiClient): Promise<MapSettings | undefined> {
  settings ??= api.mapSettings().catch(() => {
    settings = undefined; // try again next time
    return undefined;
  });
  return settings;
}

export function useMapSettings(): MapSettings | undefined {
  const api = useApi();
  const [value, setValue] = useState<MapSettings>();
  useEffect(() => {
    let live = true;
    loadMapSettings(api).then((s) => live && setValue(s));
    return () => {
      live = false;
    };
  }, [api]);
  return value;
}

/** "Directions" (the web map's route planner) and "Open in maps app" (geo:) to a kiosk. */
export function Directions({
  lat,
  lng,
  name,
}: {
  lat: number | null | undefined;
  lng: number | null | undefined;
  name: string;
}) {
  const map = useMapSettings();
  if (lat === null || lat === undefined || lng === null || lng === undefined) return null;
  const links = directionsLinks({ lat, lng, name }, map?.directionsUrl);
  return (
    <span class="directions">
      {links.web ? (
        <a href={links.web} target="_blank" rel="noopener noreferrer" data-testid="directions">
          {t('map.directions', { name })}
        </a>
      ) : null}{' '}
      <a href={links.app} data-testid="directions-app">
        {t('map.openInApp')}
      </a>
    </span>
  );
}
