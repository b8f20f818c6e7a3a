/** Records built key by key, typed without a cast: a type guard checks that every key was set. */

/** A record with one entry per item: `key(item)` → `value(item)`, in the items' order. */
export function recordOf<T, K extends string, V>(
  items: readonly T[],
  key: (item: T) => K,
  value: (item: T) => V
): Record<K, V> {
  const record: Partial<Record<K, V>> = {}
  // Defined, not assigned: a key such as `__proto__` is an entry like any other.
  for (const item of items)
    Object.defineProperty(record, key(item), {
      value: value(item),
      enumerable: true,
      writable: true,
      configurable: true
    })
  const keys = items.map(key)
  if (!hasEvery(record, keys)) throw new Error('a record lost one of its keys')
  return record
}

function hasEvery<K extends string, V>(record: Partial<Record<K, V>>, keys: readonly K[]): record is Record<K, V> {
  return keys.every((key) => Object.hasOwn(record, key))
}
