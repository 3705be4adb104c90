import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The address of the page the hub renders (renter-ssr.tsx): there is no `location` there. */
let serverUrl: URL | undefined;
export function setServerLocation(url: URL | undefined): void {
  serverUrl = url;
}

/** Current location path + query; re-renders on pushState navigation and back/forward. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [loc, setLoc] = useState(() => {
    const here = typeof location === 'undefined' ? serverUrl : location;
    return { path: here?.pathname ?? '/', query: new URLSearchParams(here?.search) };
  });
  useEffect(() => {
    const update = () =>
      setLoc({ path: location.pathname, query: new URLSearchParams(location.search) });
    addEventListener('popstate', update);
    addEventListener('dk:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('dk:navigate', update);
    };
  }, []);
  return loc;
}

/**
 * Client-side navigation; moves focus to the new page's main heading for screen readers
 * (`keepFocus`: the same page with new state in the address, e.g. a search: focus stays).
 */
export function navigate(to: string, opts: { replace?: boolean; keepFocus?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  dispatchEvent(new Event('dk:navigate'));
  if (opts.keepFocus) return;
  scrollTo(0, 0);
  setTimeout(() => {
    const h = document.querySelector<HTMLElement>('main h1');
    if (h) {
      h.tabIndex = -1;
      h.focus({ preventScroll: true });
    }
  }, 0);
}

/** Matches `/k/:id` style patterns; returns the params or undefined. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return undefined;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (seg.startsWith(':')) {
      try {
        out[seg.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return undefined;
      }
    } else if (seg !== s[i]) return undefined;
  }
  return out;
}

/** An in-app link: a real <a href> (works with the keyboard, opens in a new tab) that routes locally. */
export function Link(
  props: { href: string; children: ComponentChildren } & JSX.HTMLAttributes<HTMLAnchorElement>,
) {
  const { href, children, ...rest } = props;
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
