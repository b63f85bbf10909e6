/**
 * The browser engine a provider reports with its client kind (issue 18),
 * e.g. "Chromium 150" or "Firefox 140": from User-Agent Client Hints where
 * the browser has them (the brand that is not a GREASE "Not A Brand"), else
 * from the User-Agent string. Short and printable by construction (the
 * tracker's schema limits it too).
 */
interface NavigatorLike {
  userAgent: string;
  userAgentData?: { brands?: Array<{ brand: string; version: string }> };
}

export function browserEngine(nav: NavigatorLike): string {
  const brands = nav.userAgentData?.brands ?? [];
  const pick = ['Chromium', 'Google Chrome', 'Microsoft Edge'];
  for (const name of pick) {
    const b = brands.find((x) => x.brand === name);
    if (b !== undefined) return clean(`${b.brand} ${b.version}`);
  }
  const ua = nav.userAgent;
  const m = /(Firefox|Edg|Chromium|Chrome)\/(\d+)/.exec(ua) ?? /Version\/(\d+)[^ ]* (Safari)/.exec(ua);
  if (m === null) return 'unknown browser';
  return m[2] === 'Safari' ? clean(`Safari ${m[1]}`) : clean(`${m[1] === 'Edg' ? 'Edge' : m[1]} ${m[2]}`);
}

function clean(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '').slice(0, 64);
}
