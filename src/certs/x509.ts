/**
 * @peculiar/x509, set up once: it needs the reflect-metadata polyfill (its
 * dependency injection) and a WebCrypto implementation, which is Node's own.
 * Every module of src/certs imports x509 from here, never directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { webcrypto, x509 };
export const subtle = webcrypto.subtle;

// WebCrypto types from Node's own declarations (the project does not load the DOM lib).
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
export type EcKeyGenParams = webcrypto.EcKeyGenParams;
export type SigningAlgorithm = webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
