import { useEffect, useState } from 'preact/hooks';
import { formatDistance } from '../lib/format.js';
import { type LatLng, parseLatLng } from '../lib/geo.js';
import type { NearbyKiosk } from '../lib/types.js';
import { Badge, Button, ErrorBox, Field, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { KioskMap } from '../ui/kiosk-map.js';
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

  const load = async (at: LatLng | undefined) => {
    setError(undefined);
    try {
      const list = await api.nearbyKiosks(at);
      setKiosks(list);
      setStatus(
        `${list.length} kiosk${list.length === 1 ? '' : 's'} found${at ? ' near you' : ''}.`,
      );
    } catch (err) {
      setError(err);
    }
  };

  useEffect(() => {
    load(undefined);
  }, []);

  const locate = () => {
    if (!('geolocation' in navigator)) {
      setStatus('This browser cannot tell your position. Type it below.');
      return;
    }
    setStatus('Finding your position…');
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const at = { lat: pos.coords.latitude, lng: pos.coords.longitude };
        setYou(at);
        setLat(at.lat.toFixed(5));
        setLng(at.lng.toFixed(5));
        load(at);
      },
      (err) =>
        setStatus(
          err.code === err.PERMISSION_DENIED
            ? 'Location access was refused. Type your position below.'
            : 'Your position is not available. Type it below.',
        ),
      { timeout: 10_000, maximumAge: 60_000 },
    );
  };

  const manual = (e: Event) => {
    e.preventDefault();
    const at = parseLatLng(lat, lng);
    if (!at) {
      setError(new Error('Enter a latitude from -90 to 90 and a longitude from -180 to 180.'));
      return;
    }
    setYou(at);
    load(at);
  };

  return (
    <main>
      <h1>Kiosks near you</h1>
      <Button class="primary" onClick={locate}>
        Use my location
      </Button>
      <form class="card" onSubmit={manual} noValidate aria-label="Your position">
        <div class="row">
          <Field label="Latitude" inputMode="decimal" value={lat} onInput={setLat} />
          <Field label="Longitude" inputMode="decimal" value={lng} onInput={setLng} />
        </div>
        <Button type="submit">Search here</Button>
      </form>
      <LiveStatus>{status}</LiveStatus>
      <ErrorBox error={error} />
      {kiosks && kiosks.length > 0 ? (
        <KioskMap
          you={you}
          title={`Map of ${kiosks.length} kiosks${you ? ' around you' : ''}`}
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
                  {k.online ? <Badge tone="ok">online</Badge> : <Badge tone="bad">offline</Badge>}{' '}
                  {ready} disk{ready === 1 ? '' : 's'} ready now · {reservable} can be reserved
                </p>
                <Link class="button" href={`/reserve/${encodeURIComponent(k.id)}`}>
                  Reserve at {k.name}
                </Link>
              </li>
            );
          })}
        </ul>
      ) : null}
    </main>
  );
}
