/** Every port Prosody serves a certificate on, and so every port a renewed certificate is verified on. */
export const LISTENERS = { c2s: 5222, c2sDirectTls: 5223, s2s: 5269, https: 5281 } as const;
