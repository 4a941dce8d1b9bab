/**
 * Every port a certificate is served on (Prosody's, and the built-in TURN server's TURNS), and so
 * every port a renewed certificate is verified on.
 */
export const LISTENERS = { c2s: 5222, c2sDirectTls: 5223, s2s: 5269, https: 5281, turns: 5349 } as const;
