import type { Settings } from "./settings.js";

/** The component names that serve one hosted domain; absent when the service is off. */
export interface DomainServices {
  domain: string;
  muc?: string;
  upload?: string;
  proxy65?: string;
}

/** File sharing hands out https:// URLs: without the HTTPS listener it cannot work. */
export function uploadActive(settings: Settings): boolean {
  return settings.upload && settings.https;
}

export function domainServices(settings: Settings): DomainServices[] {
  return settings.domains.map((domain) => ({
    domain,
    ...(settings.muc ? { muc: `${settings.mucSubdomain}.${domain}` } : {}),
    ...(uploadActive(settings) ? { upload: `${settings.uploadSubdomain}.${domain}` } : {}),
    ...(settings.proxy65 ? { proxy65: `${settings.proxy65Subdomain}.${domain}` } : {}),
  }));
}

/**
 * The host name of XMPP_PUBLIC_URL when clients reach this container's 5281 under it directly
 * (no reverse proxy terminating TLS in front): then it needs a certificate too.
 */
export function publicHttpsName(settings: Settings): string | undefined {
  if (!settings.https || settings.publicUrl === "" || settings.trustedProxies.length > 0) return undefined;
  const host = new URL(settings.publicUrl).hostname;
  return /^[0-9.]+$|:|^\[/.test(host) ? undefined : host;
}

/**
 * Every name Prosody serves a certificate for, the primary domain first: each domain followed
 * by its components (conference., upload., proxy.), then the public HTTPS name. Each is found,
 * checked, linked for SNI, watched and verified on every listener.
 */
export function certificateNames(settings: Settings): readonly string[] {
  const names = domainServices(settings).flatMap((s) => [s.domain, s.muc, s.upload, s.proxy65]);
  names.push(publicHttpsName(settings));
  return [...new Set(names.filter((n): n is string => n !== undefined))];
}
