import { type CmgErrorOptions, OperationError, UsageError } from '../errors.js';

/** A certificate, key, CRL or PFX could not be read, made or used. Exit 1. */
export class CertError extends OperationError {}

/** A certificate file was named that cannot be used as given (wrong kind, missing passphrase). Exit 2. */
export class CertUsageError extends UsageError {
  constructor(code: string, message: string, options: CmgErrorOptions = {}) {
    super(message, { ...options, code });
  }
}
