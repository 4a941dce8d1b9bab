/** Every port Prosody listens on for XMPP, and so every port a renewed certificate is verified on. */
export const LISTENERS = { c2s: 5222, c2sDirectTls: 5223, s2s: 5269 } as const;
