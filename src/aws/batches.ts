/** DescribeInstances' largest page: one call per 1,000 instances. */
export const DESCRIBE_PAGE_SIZE = 1000

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
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>
): Promise<R[]> {
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

/**
 * Independent reads run side by side; when some fail, the first of them in the order given is the
 * error, as when they ran one after another (the others are let finish, not aborted, so an abort
 * never stands in for the real cause).
 */
export async function inOrder<T extends readonly unknown[]>(reads: {
  readonly [K in keyof T]: Promise<T[K]>
}): Promise<T> {
  const settled = await Promise.allSettled(reads)
  const failed = settled.find((result) => result.status === 'rejected')
  if (failed) throw failed.reason
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** Every item of every page. */
export async function collect<Page, Item>(
  pages: AsyncIterable<Page>,
  items: (page: Page) => readonly Item[] | undefined
): Promise<Item[]> {
  const all: Item[] = []
  for await (const page of pages) all.push(...(items(page) ?? []))
  return all
}
