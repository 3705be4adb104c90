import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDistance } from '../lib/format.js';
import { type LatLng, parseLatLng } from '../lib/geo.js';
import type { NearbyKiosk } from '../lib/types.js';
import { Badge, Button, ErrorBox, Field, focusFirstInvalid, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { KioskMap } from '../ui/kiosk-map.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';

/** Find kiosks near you (4th instruction's first half): geolocation or typed coordinates. */
export function NearbyPage() {
  const api = useApi();
  const [you, setYou] = useState<LatLng>();
  const [lat, setLat] = useState('');
  const [lng, setLng] = useState('');
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const [kiosks, setKiosks] = useState<NearbyKiosk[]>();
  const [posError, setPosError] = useState<string>();
  usePageTitle(t('near.title'));

  const load = async (at: LatLng | undefined) => {
    setError(undefined);
    try {
      const list = await api.nearbyKiosks(at);
      setKiosks(list);
      setStatus(t(at ? 'near.foundNear' : 'near.found', { count: list.length }));
    } catch (err) {
      setError(err);
    }
  };

  useEffect(() => {
    load(undefined);
  }, []);

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setStatus(t('near.noGeo'));
      return;
    }
    setStatus(t('near.finding'));
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const at = { lat: pos.coords.latitude, lng: pos.coords.longitude };
        setYou(at);
        setLat(at.lat.toFixed(5));
        setLng(at.lng.toFixed(5));
        load(at);
      },
      (err) =>
        setStatus(err.code === err.PERMISSION_DENIED ? t('near.refused') : t('near.unavailable')),
      { timeout: 10_000, maximumAge: 60_000 },
    );
  };

  const manual = (e: Event) => {
    e.preventDefault();
    const at = parseLatLng(lat, lng);
    setPosError(undefined);
    if (!at) {
      setPosError(t('near.badPosition'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setYou(at);
    load(at);
  };

  return (
    <main>
      <h1>{t('near.title')}</h1>
      <Button class="primary" onClick={locate}>
        {t('near.useLocation')}
      </Button>
      <form class="card" onSubmit={manual} noValidate aria-label={t('near.yourPosition')}>
        <div class="row">
          <Field
            label={t('near.lat')}
            inputMode="decimal"
            error={posError}
            value={lat}
            onInput={setLat}
          />
          <Field
            label={t('near.lng')}
            inputMode="decimal"
            error={posError}
            value={lng}
            onInput={setLng}
          />
        </div>
        <Button type="submit">{t('near.search')}</Button>
      </form>
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
      {kiosks && kiosks.length > 0 ? (
        <KioskMap
          you={you}
          title={t(you ? 'near.mapAround' : 'near.map', { count: kiosks.length })}
          points={kiosks.map((k) => ({
            id: k.id,
            lat: k.lat,
            lng: k.lng,
            label: k.name,
            tone: k.online ? 'ok' : 'bad',
          }))}
        />
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
              </li>
            );
          })}
        </ul>
      ) : null}
    </main>
  );
}
