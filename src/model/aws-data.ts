/** Small readings of what AWS returns that every kind of resource needs. */

/** Whole seconds from `since` to `now`; never negative (clock skew makes fresh things look unborn). */
export function ageSeconds(since: string | Date, now: Date): number {
  const start = typeof since === 'string' ? Date.parse(since) : since.getTime()
  return Math.max(0, Math.floor((now.getTime() - start) / 1000))
}

/** AWS's tag lists (EC2's and IAM's alike) as a map; a tag without a value reads as ''. */
export function tagMap(tags: readonly { Key?: string; Value?: string }[] | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const tag of tags ?? []) if (tag.Key !== undefined) map.set(tag.Key, tag.Value ?? '')
  return map
}
