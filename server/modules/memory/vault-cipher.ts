import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, AppErrorCode } from '../../errors.js';

export interface VaultKeys {
  activeKeyId: string;
  keys: Map<string, Buffer>;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for knowledge-vault secrets. The item id is the additional authenticated data, so a
 * ciphertext copied onto another row does not decrypt. The key id is stored beside the value so
 * keys can be rotated: new values use the first key, old ones still decrypt with theirs.
 */
export class VaultCipher {
  constructor(private readonly config: VaultKeys | undefined) {}

  /** Whether VAULT_KEYS is set (without it, vault writes and reveals answer 503). */
  get configured(): boolean {
    return this.config !== undefined;
  }

  private require(): VaultKeys {
    if (!this.config) {
      throw new AppError(
        AppErrorCode.ServiceUnavailable,
        'The knowledge vault is not configured on this server (VAULT_KEYS is unset)',
      );
    }
    return this.config;
  }

  encrypt(plaintext: string, itemId: string): { ciphertext: string; keyId: string } {
    const { activeKeyId, keys } = this.require();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', keys.get(activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(itemId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
      keyId: activeKeyId,
    };
  }

  decrypt(ciphertext: string, keyId: string, itemId: string): string {
    const key = this.require().keys.get(keyId);
    if (!key) {
      throw new AppError(
        AppErrorCode.ServiceUnavailable,
        `Vault key "${keyId}" is not configured (VAULT_KEYS)`,
      );
    }
    const raw = Buffer.from(ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(itemId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}
