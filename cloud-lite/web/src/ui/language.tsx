import { useEffect, useState } from 'preact/hooks';
import { LANGUAGES, type Language, language, setLanguage, t } from '../i18n/i18n.js';
import { onServer } from '../lib/preload.js';

/** The current language; re-renders the caller when the renter switches. */
export function useLanguage(): Language {
  const [lang, setLang] = useState(language());
  useEffect(() => {
    const update = () => setLang(language());
    addEventListener('dk:language', update);
    return () => removeEventListener('dk:language', update);
  }, []);
  return lang;
}

/** Sets the page title (`<what> · <site>`) while the calling page is shown. */
export function usePageTitle(what: string | undefined, site = t('app.renterTitle')): void {
  useEffect(() => {
    document.title = what ? `${what} · ${site}` : site;
  }, [what, site]);
}

/**
 * The language switch in the header: each language named in itself, the current one pressed.
 * Rendered by the hub into a page, its buttons are disabled until the app runs them.
 */
export function LanguageSwitch() {
  const current = useLanguage();
  const inert = onServer();
  return (
    <fieldset class="lang-switch">
      <legend class="sr-only">{t('app.language')}</legend>
      {(Object.keys(LANGUAGES) as Language[]).map((l) => (
        <button
          key={l}
          type="button"
          class="link"
          lang={l}
          aria-pressed={l === current ? 'true' : 'false'}
          disabled={inert}
          onClick={() => setLanguage(l)}
        >
          {LANGUAGES[l]}
        </button>
      ))}
    </fieldset>
  );
}
