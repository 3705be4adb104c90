// The pages' message catalogue: i18next with the catalogues bundled (en.ts, zh-cn.ts), so the
// first paint needs no extra request. i18next because it needs no compile step or macro (esbuild
// bundles it as it is), has no framework binding to keep in step with Preact, and does plurals
// and context through Intl.PluralRules. The language comes from the renter's switch (kept in
// localStorage), else the browser's languages, else English.
import i18next, { type TOptions } from 'i18next';
import { en } from './en.js';
import { zhCN } from './zh-cn.js';

/** The languages the pages speak: BCP 47 tag -> its own name (shown on the switch). */
export const LANGUAGES = { en: 'English', 'zh-CN': '中文' } as const;
export type Language = keyof typeof LANGUAGES;
export const STORAGE_KEY = 'dk-lang';
/** The same choice as a cookie, so that the hub renders a page in it (renter-ssr.tsx). */
export const LANGUAGE_COOKIE = 'dk-lang';

/** The browser globals used here, optional so that the module also loads under node (tests). */
const g = globalThis as unknown as {
  localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  navigator?: { languages?: readonly string[] };
  document?: { documentElement: { lang: string }; cookie: string };
  dispatchEvent?: (e: Event) => boolean;
};

const instance = i18next.createInstance();
void instance.init({
  resources: { en: { translation: en }, 'zh-CN': { translation: zhCN } },
  lng: 'en',
  fallbackLng: 'en',
  supportedLngs: Object.keys(LANGUAGES),
  initAsync: false,
  interpolation: { escapeValue: false },
  returnNull: false,
});

/** The languages of an Accept-Language header, most wanted first ('zh-CN,zh;q=0.9,en;q=0.8'). */
export function acceptedLanguages(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((l) => l.tag && l.tag !== '*' && l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((l) => l.tag);
}

/** A language of ours (not any key an object has, such as `constructor`). */
const isLanguage = (s: string): s is Language => Object.hasOwn(LANGUAGES, s);

/** The language the hub renders a page in: the renter's saved choice, else the browser's. */
export function requestLanguage(cookieHeader: string | undefined, acceptLanguage?: string) {
  const saved = new RegExp(`(?:^|;\\s*)${LANGUAGE_COOKIE}=([^;]*)`).exec(cookieHeader ?? '')?.[1];
  return saved && isLanguage(saved)
    ? (saved as Language)
    : pickLanguage(acceptedLanguages(acceptLanguage));
}

/** The best of our languages for a list of browser languages (navigator.languages). */
export function pickLanguage(preferred: readonly string[]): Language {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower === 'en' || lower.startsWith('en-')) return 'en';
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh-CN';
  }
  return 'en';
}

function stored(): string | null {
  try {
    return g.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** Sets the language at start: the saved choice, else the browser's. */
export function initLanguage(): Language {
  const saved = stored();
  const lang =
    saved && isLanguage(saved) ? (saved as Language) : pickLanguage(g.navigator?.languages ?? []);
  applyLanguage(lang);
  if (saved) keepCookie(lang); // a choice saved before the cookie existed
  return lang;
}

/** Sets the language without touching the page or the saved choice (the hub rendering a page). */
export function applyLanguage(lang: Language): void {
  void instance.changeLanguage(lang);
  if (g.document) g.document.documentElement.lang = lang;
}

function keepCookie(lang: Language): void {
  try {
    if (g.document)
      g.document.cookie = `${LANGUAGE_COOKIE}=${lang}; path=/; max-age=31536000; samesite=lax`;
  } catch {
    // cookies off: the hub renders in the browser's language, the app switches at start
  }
}

/** The renter's choice: applied at once and kept for the next visit. */
export function setLanguage(lang: Language): void {
  try {
    g.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
  keepCookie(lang);
  applyLanguage(lang);
  g.dispatchEvent?.(new Event('dk:language'));
}

export function language(): Language {
  return isLanguage(instance.language) ? (instance.language as Language) : 'en';
}

/** A message by key (`section.name`), with `{{values}}` filled in. */
export function t(key: string, values?: TOptions): string {
  return instance.t(key, values) as string;
}

/** Whether the catalogue has this key (in the current language or English). */
export function hasMessage(key: string): boolean {
  return instance.exists(key);
}

/**
 * The locale for numbers and dates: the browser's own tag when it is of the page's language
 * (en-GB writes dates the British way), else the language itself.
 */
export function formatLocale(): string {
  const lang = language();
  const prefix = lang.split('-')[0]!.toLowerCase();
  if (lang !== 'en') return lang;
  const own = (g.navigator?.languages ?? []).find((l) => l.toLowerCase().split('-')[0] === prefix);
  return own ?? lang;
}
