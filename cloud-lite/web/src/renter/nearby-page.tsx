import { useEffect, useMemo, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDistance } from '../lib/format.js';
import { type LatLng, parseLatLng } from '../lib/geo.js';
import type { NearbyKiosk } from '../lib/types.js';
import { Badge, Button, ErrorBox, Field, focusFirstInvalid, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { Directions, useMapSettings } from '../ui/directions.js';
import { usePageTitle } from '../ui/language.js';
import { Link, navigate, useLocation } from '../ui/router.js';

type MapModule = typeof import('./nearby-map.js');

/**
 * Find kiosks near you (4th instruction's first half): geolocation or a typed position
 * ("52.52, 13.40"), kept in the address (`/kiosks?near=52.52,13.40`) so that Back and reload
 * find the same kiosks. The map (Leaflet) is loaded only here and only with kiosks to show.
 */
export function NearbyPage() {
  const api = useApi();
  const { query } = useLocation();
  const near = query.get('near') ?? '';
  const you = useMemo(() => (near ? parseLatLng(near) : undefined), [near]);
  const [typed, setTyped] = useState(near);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const [kiosks, setKiosks] = useState<NearbyKiosk[]>();
  const [posError, setPosError] = useState<string>();
  const [mapModule, setMapModule] = useState<MapModule>();
  const [mapFailed, setMapFailed] = useState(false);
  const settings = useMapSettings();
  usePageTitle(t('near.title'));

  // The address is the state: a search, Back or a reload all land here.
  useEffect(() => {
    setTyped(near);
    let live = true;
    setError(undefined);
    api.nearbyKiosks(you).then(
      (list) => {
        if (!live) return;
        setKiosks(list);
        setStatus(t(you ? 'near.foundNear' : 'near.found', { count: list.length }));
      },
      (err: unknown) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [api, near]);

  useEffect(() => {
    if (mapModule || !kiosks || kiosks.length === 0) return;
    import('./nearby-map.js').then(setMapModule, () => setMapFailed(true));
  }, [kiosks, mapModule]);

  const searchAt = (at: LatLng) => {
    const value = `${round(at.lat)},${round(at.lng)}`;
    navigate(`/kiosks?near=${encodeURIComponent(value)}`, { keepFocus: true });
  };

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setStatus(t('near.noGeo'));
      return;
    }
    setStatus(t('near.finding'));
    navigator.geolocation.getCurrentPosition(
      (pos) => searchAt({ lat: pos.coords.latitude, lng: pos.coords.longitude }),
      (err) =>
        setStatus(err.code === err.PERMISSION_DENIED ? t('near.refused') : t('near.unavailable')),
      { timeout: 10_000, maximumAge: 60_000 },
    );
  };

  const manual = (e: Event) => {
    e.preventDefault();
    const at = parseLatLng(typed);
    setPosError(undefined);
    if (!at) {
      setPosError(t('near.badPositionOne'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    searchAt(at);
  };

  const title = kiosks ? t(you ? 'near.mapAround' : 'near.map', { count: kiosks.length }) : '';
  const KioskMapView = mapModule?.NearbyMap;
  return (
    <main>
      <h1>{t('near.title')}</h1>
      <Button class="primary" onClick={locate}>
        {t('near.useLocation')}
      </Button>
      <form class="card" onSubmit={manual} noValidate aria-label={t('near.yourPosition')}>
        <Field
          label={t('near.position')}
          hint={t('near.positionHint')}
          inputMode="text"
          autoComplete="off"
          placeholder="52.52, 13.40"
          error={posError}
          value={typed}
          onInput={setTyped}
        />
        <Button type="submit">{t('near.search')}</Button>
      </form>
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
      {kiosks && kiosks.length > 0 ? (
        KioskMapView && settings ? (
          <KioskMapView settings={settings} kiosks={kiosks} you={you} title={title} />
        ) : mapFailed ? (
          <p class="notice">{t('map.failed')}</p>
        ) : (
          <p class="muted kiosk-map-placeholder">{t('map.loading')}</p>
        )
      ) : null}
      {kiosks ? (
        <ul class="kiosk-list">
          {kiosks.map((k) => {
            // Distinct disks (a disk serving two types is one disk, not two).
            const { ready, reservable } = k.disks;
            return (
              <li key={k.id} class="card" data-kiosk={k.id}>
                <h2>{k.name}</h2>
                <p class="muted">
                  {k.address}{' '}
                  {k.distanceMeters !== null ? `· ${formatDistance(k.distanceMeters)}` : ''}
                </p>
                <p>
                  {k.online ? (
                    <Badge tone="ok">{t('common.online')}</Badge>
                  ) : (
                    <Badge tone="bad">{t('common.offline')}</Badge>
                  )}{' '}
                  {t('near.stock', { ready, reservable })}
                </p>
                <p class="actions">
                  <Link class="button" href={`/k/${encodeURIComponent(k.id)}`}>
                    {t('near.rentAt', { name: k.name })}
                  </Link>
                  <Link class="button" href={`/reserve/${encodeURIComponent(k.id)}`}>
                    {t('near.reserveAt', { name: k.name })}
                  </Link>
                </p>
                <p>
                  <Directions lat={k.lat} lng={k.lng} name={k.name} />
                </p>
              </li>
            );
          })}
        </ul>
      ) : null}
    </main>
  );
}

/** Five decimals: about a metre, enough for a search and short in the address bar. */
function round(v: number): string {
  return String(Math.round(v * 1e5) / 1e5);
}
