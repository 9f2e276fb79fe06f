/**
 * Security headers (helmet) for every answer. The API answers JSON only, so its policy lets a
 * browser load nothing and frame nothing; the operator pages (Bull Board) get a policy that runs
 * their own same-origin scripts and inline styles and nothing from elsewhere. Every answer is
 * `Cache-Control: no-store`: job answers hold personal data, and no answer here is static.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** CSP of every API answer: a JSON document needs no sub-resources, forms or frames. */
export const API_CSP: Record<string, string[]> = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/**
 * CSP of the /admin pages. Bull Board serves its scripts, styles and images from the package under
 * the same origin; its components add `<style>` elements and style attributes (inline styles), its
 * CSS uses `data:` SVG images. The Google Fonts stylesheet its page links is refused on purpose:
 * operator visits are not announced to a third party, and the system fonts serve.
 */
export const ADMIN_CSP: Record<string, string[]> = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/**
 * helmet's headers for `csp`, worked out once: with these options every one of them is the same
 * for every request, so each answer gets a fixed list instead of helmet's chain of a dozen
 * middlewares (a tenth of the API's CPU per submission went there).
 */
function headers(csp: Record<string, string[]>, extra: Array<[string, string]> = []): RequestHandler {
  const policy = helmet({
    // useDefaults off: helmet's defaults add upgrade-insecure-requests, which breaks the pages
    // on a plain-http operator port, and sources this gateway never serves.
    contentSecurityPolicy: { useDefaults: false, directives: csp },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const probe = {
    setHeader: (name: string, value: string) => void set.push([name, value]),
    removeHeader: (name: string) => void removed.push(name),
  };
  let called = false;
  policy({} as Request, probe as unknown as Response, () => (called = true));
  if (!called) throw new Error('helmet did not finish synchronously; its headers cannot be fixed in advance');
  const fixed = [...set, ...extra];
  return (_req: Request, res: Response, next: NextFunction) => {
    for (const [name, value] of fixed) res.setHeader(name, value);
    for (const name of removed) res.removeHeader(name);
    next();
  };
}

/** Headers for every answer: helmet with API_CSP, and `Cache-Control: no-store`. Mount first. */
export function apiSecurityHeaders(): RequestHandler {
  return headers(API_CSP, [['cache-control', 'no-store']]);
}

/** Replaces the CSP for the operator pages with ADMIN_CSP; mount on /admin after apiSecurityHeaders. */
export function adminSecurityHeaders(): RequestHandler {
  return headers(ADMIN_CSP);
}
