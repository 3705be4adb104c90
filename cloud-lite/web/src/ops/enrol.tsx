import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { formatDateTime } from '../lib/format.js';
import { parseLatLng } from '../lib/geo.js';
import { Button, ErrorBox, Field, focusFirstInvalid, LiveStatus } from '../ui/components.js';
import { useApi } from '../ui/context.js';
import { useAsync } from '../ui/hooks.js';
import { usePageTitle } from '../ui/language.js';
import { Link } from '../ui/router.js';

/**
 * Creates a kiosk and shows its one-time enrolment token (the hub keeps only a hash) with a
 * copy button; then its site (name, address, position) and its printable QR sticker.
 */
export function Enrol() {
  const api = useApi();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [idError, setIdError] = useState<string>();
  usePageTitle(t('ops.enrolTitle'), t('app.opsTitle'));
  const [out, setOut] = useState<{ id: string; name: string; token: string; expiresAt: string }>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (!id.trim()) {
      setIdError(t('ops.kioskIdRequired'));
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setIdError(undefined);
    setBusy(true);
    try {
      const r = await api.opsCreateKiosk(id.trim(), name.trim() || undefined);
      setOut({
        id: r.kiosk.id,
        name: name.trim() || r.kiosk.id,
        token: r.enrolmentToken,
        expiresAt: r.expiresAt,
      });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <p>
        <Link href="/ops">{t('ops.backToFleet')}</Link>
      </p>
      <h1>{t('ops.enrolTitle')}</h1>
      {out ? (
        <>
          <section class="card" role="status">
            <h2>{t('ops.created', { id: out.id })}</h2>
            <p>{t('ops.tokenOnce', { at: formatDateTime(out.expiresAt) })}</p>
            <p>
              <code class="token" data-testid="enrolment-token">
                {out.token}
              </code>
            </p>
            <CopyButton text={out.token} />
          </section>
          <SiteForm kioskId={out.id} name={out.name} />
          <StickerCard kioskId={out.id} name={out.name} />
          <Link href={`/ops/kiosks/${encodeURIComponent(out.id)}`}>
            {t('ops.openKiosk', { id: out.id })}
          </Link>
        </>
      ) : (
        <form class="card" onSubmit={submit} noValidate>
          <Field
            label={t('ops.kioskId')}
            required
            hint={t('ops.kioskIdHint')}
            error={idError}
            value={id}
            onInput={setId}
          />
          <Field label={t('ops.name')} value={name} onInput={setName} />
          <ErrorBox error={error} />
          <Button type="submit" class="primary" busy={busy}>
            {t('ops.create')}
          </Button>
        </form>
      )}
    </main>
  );
}

/** Copies `text` to the clipboard and says so (or says to copy it by hand). */
function CopyButton({ text }: { text: string }) {
  const [said, setSaid] = useState('');
  return (
    <>
      <Button
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setSaid(t('ops.copied'));
          } catch {
            setSaid(t('ops.copyFailed'));
          }
        }}
      >
        {t('ops.copyToken')}
      </Button>
      <LiveStatus>{said}</LiveStatus>
    </>
  );
}

/** The kiosk's site: name, address and position ("52.52, 13.40"), for the map and the QR landing. */
function SiteForm({ kioskId, name: initialName }: { kioskId: string; name: string }) {
  const api = useApi();
  const [f, setF] = useState({ name: initialName, address: '', position: '' });
  const [errs, setErrs] = useState<Partial<Record<keyof typeof f, string>>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    const at = parseLatLng(f.position);
    const next = {
      name: f.name.trim() ? undefined : t('ops.siteNameRequired'),
      address: f.address.trim() ? undefined : t('ops.addressRequired'),
      position: at ? undefined : t('ops.positionInvalid'),
    };
    setErrs(next);
    if (!at || next.name || next.address) {
      focusFirstInvalid(e.currentTarget);
      return;
    }
    setBusy(true);
    try {
      await api.opsPutSite({
        kioskId,
        name: f.name.trim(),
        address: f.address.trim(),
        lat: at.lat,
        lng: at.lng,
      });
      setSaved(t('ops.siteSaved', { name: f.name.trim() }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} noValidate aria-labelledby="site-title">
      <h2 id="site-title">{t('ops.siteTitle')}</h2>
      <Field
        label={t('ops.siteName')}
        error={errs.name}
        value={f.name}
        onInput={(name) => setF({ ...f, name })}
      />
      <Field
        label={t('ops.address')}
        error={errs.address}
        value={f.address}
        onInput={(address) => setF({ ...f, address })}
      />
      <Field
        label={t('ops.position')}
        hint={t('ops.positionHint')}
        error={errs.position}
        inputMode="decimal"
        value={f.position}
        onInput={(position) => setF({ ...f, position })}
      />
      <ErrorBox error={error} />
      <Button type="submit" busy={busy}>
        {t('ops.saveSite')}
      </Button>
      <LiveStatus>{saved}</LiveStatus>
    </form>
  );
}

/** The printable QR sticker of the kiosk's landing page, with PNG and SVG downloads. */
function StickerCard({ kioskId, name }: { kioskId: string; name: string }) {
  const api = useApi();
  const sticker = useAsync(() => api.opsSticker(kioskId), [kioskId]);
  const s = sticker.data;
  const svgUrl = s ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(s.svg)}` : '';
  return (
    <section class="card sticker" aria-labelledby="sticker-title">
      <h2 id="sticker-title">{t('ops.stickerTitle')}</h2>
      <ErrorBox error={sticker.error} />
      {s ? (
        <>
          <img
            class="sticker-image"
            src={svgUrl}
            alt={t('ops.stickerAlt', { name, url: s.url })}
            width={240}
            height={320}
          />
          <p>
            <code data-testid="landing-url">{s.url}</code>
          </p>
          <div class="actions">
            <a
              class="button"
              href={`data:image/png;base64,${s.png}`}
              download={`${kioskId}-qr.png`}
            >
              {t('ops.downloadPng')}
            </a>
            <a class="button" href={svgUrl} download={`${kioskId}-sticker.svg`}>
              {t('ops.downloadSvg')}
            </a>
            <Button onClick={() => window.print()}>{t('ops.printSticker')}</Button>
          </div>
        </>
      ) : null}
    </section>
  );
}
