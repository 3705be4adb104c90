/** Keys whose values never leave the kiosk in `config show` or `diag`. */
const SECRET_KEYS = new Set([
  'secret',
  'publicKeyPem',
  'token',
  'password',
  'privateKey',
  'privateKeyPem',
]);

/** A deep copy of a configuration object with secret values replaced by `<redacted>`. */
export function redactConfig<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactConfig(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.has(k) && v !== undefined ? '<redacted>' : redactConfig(v);
    }
    return out as T;
  }
  return value;
}
