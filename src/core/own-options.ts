import { describe } from './describe-value.js';
import { argumentError } from './errors.js';

// Options objects are read once, at the boundary: their own enumerable properties are copied
// into an object without a prototype, so that nothing inherited (Object.prototype.epsilon = …)
// changes a call and a getter runs once; a key the entry point does not know is an error, with
// the nearest valid name, instead of an option silently ignored.

/** The keys an entry point takes. */
export type OptionKeys = ReadonlySet<string>;

/**
 * The keys of an options type, from a record of every one of them: the compiler then fails
 * where a key is added to the type and not to the record.
 */
export const optionKeys = <T>(record: Record<keyof T, true>): OptionKeys => new Set(Object.keys(record));

/** An options object as read: own properties only, no prototype. */
export type OwnOptions = Readonly<Record<string, unknown>>;

// Names from other libraries, mapped to the option meant.
const SYNONYMS: Readonly<Record<string, string>> = { gamma: 'scale', beta: 'bias', epsilon: 'eps', dtype: 'dataType' };

/**
 * `value`'s own properties, checked against `keys`. `undefined` reads as no options; anything
 * but a plain object (a Map, an array, an object inheriting from another) throws, naming `what`.
 */
export function ownOptions(value: unknown, keys: OptionKeys, what = 'options'): OwnOptions {
  const options: Record<string, unknown> = Object.create(null);
  if (value === undefined) return options;
  if (value === null || typeof value !== 'object') {
    throw argumentError(what, `${what} must be an object or undefined, got ${describe(value)}`);
  }
  if (!isPlainObject(value)) {
    throw argumentError(
      what,
      `${what} must be a plain object ({ ... }) whose options are its own properties, got ${describe(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!keys.has(key)) throw argumentError(key, unknownKeyMessage(what, key, keys));
    options[key] = (value as Record<string, unknown>)[key];
  }
  return options;
}

/** An object literal or Object.create(null), from any realm: its prototype is null or a realm's Object.prototype. */
function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return (
    prototype === null ||
    (Object.getPrototypeOf(prototype) === null && Object.prototype.toString.call(value) === '[object Object]')
  );
}

function unknownKeyMessage(what: string, key: string, keys: OptionKeys): string {
  const meant = nearestKey(key, keys);
  return `${what} has an unknown key '${key}'${meant ? `; did you mean '${meant}'?` : ''}`;
}

/** The valid key `key` was probably meant as: a synonym, the same letters in another case, or one a couple of edits away. */
function nearestKey(key: string, keys: OptionKeys): string | undefined {
  const synonym = SYNONYMS[key.toLowerCase()];
  if (synonym && keys.has(synonym)) return synonym;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of keys) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

// Levenshtein distance: insertions, deletions and substitutions.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
