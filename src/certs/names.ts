/**
 * The vocabulary of cmg certs: key types, profiles, purposes, revocation
 * reasons. A module of its own, free of the PKI libraries, so that command
 * flag definitions can name them without loading @peculiar/x509 and node-forge
 * (which `cmg --help` or `cmg config check` never need).
 */
export const KEY_TYPES = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const PROFILES = ['root-ca', 'sub-ca', 'client', 'server', 'connection-point', 'management'] as const;
export type Profile = (typeof PROFILES)[number];

export const PURPOSES = ['client', 'server', 'connection-point'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];
