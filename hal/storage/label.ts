/** exFAT volume labels: at most 11 UTF-16 code units, no control characters nor `" * / : < > ? \ |`. */
import { EXFAT_LABEL_MAX, StorageError } from './types.js';

const FORBIDDEN = /[\u0000-\u001f"*/:<>?\\|]/;

export function validateExfatLabel(label: string): void {
  if (label.length === 0 || label.length > EXFAT_LABEL_MAX) {
    throw new StorageError(
      'EINVAL',
      `exFAT label "${label}" has ${label.length} characters; use 1 to ${EXFAT_LABEL_MAX}`,
    );
  }
  if (FORBIDDEN.test(label)) {
    throw new StorageError(
      'EINVAL',
      `exFAT label "${label}" contains a forbidden character (control characters or " * / : < > ? \\ |)`,
    );
  }
}
