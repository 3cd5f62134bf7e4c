// How bad arguments are shown in error messages.

/** A short, readable rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return value.length <= 8 ? `[${value.map(describe).join(', ')}]` : `Array(${value.length})`;
  if (value === null || typeof value !== 'object') return String(value);
  return value.constructor?.name ?? 'object';
}

/** The kind of a value that should have been a typed array or buffer: 'Array(3)', 'Float64Array(12)'. */
export function describeKind(value: unknown): string {
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return `${value.constructor.name}(${(value as { length?: number }).length ?? (value as ArrayBufferView).byteLength})`;
  }
  return describe(value);
}
