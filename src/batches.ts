/** EC2 takes at most 200 values in one filter. */
export const MAX_FILTER_VALUES = 200

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size))
  return chunks
}

/**
 * Runs `task` over `items` with at most `limit` in flight, results in input order. A few deletes
 * at once keep a sweep of hundreds of key pairs short without leaning on EC2's rate limits (the
 * clients' adaptive retries absorb what throttling remains).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
