/**
 * Cheap checks run on untrusted JSON text before and after JSON.parse. All loops are iterative,
 * so hostile input cannot exhaust the stack.
 */

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAYBE_FORBIDDEN = /__proto__|constructor|prototype|\\u/;

/**
 * Whether the array/object nesting of a JSON text exceeds `limit` (brackets inside strings are
 * ignored). Stops at the first bracket over the limit.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * The first forbidden key (`__proto__`, `constructor`, `prototype`) found anywhere in a parsed
 * JSON value, or undefined. Skips the walk when the text cannot contain one.
 */
export function findForbiddenKey(value: unknown, text: string): string | undefined {
  if (!MAYBE_FORBIDDEN.test(text)) return undefined;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return key;
      stack.push((v as Record<string, unknown>)[key]);
    }
  }
  return undefined;
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
