import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateSigningKeyPair } from '../protocol/index.js';
import { ConfigError } from './errors.js';

export interface HubSigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

/**
 * Loads the hub's Ed25519 private key (PEM) from `file`, generating it with 0600
 * permissions when missing. Throws ConfigError when the file is not an Ed25519 key.
 */
export function loadOrCreateSigningKey(file: string): HubSigningKey {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read signing key ${file}: ${(err as Error).message}`);
    }
    pem = generateSigningKeyPair().privateKeyPem;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new ConfigError(
      `signing key ${file} is not a PEM private key: ${(err as Error).message}`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(
      `signing key ${file} is ${privateKey.asymmetricKeyType}, expected ed25519`,
    );
  }
  const publicKeyPem = createPublicKey(privateKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return { privateKey, publicKeyPem };
}
