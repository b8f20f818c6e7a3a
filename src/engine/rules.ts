/**
 * The decisions of the orphan sweep as pure functions over plain data: how old a resource is,
 * whether it is an orphan, and what is reported for it. The modules that talk to EC2 only gather
 * the data these functions judge and carry out what they decide.
 */
import type { Inputs, OrphanFinding, TagFilter } from '../model/types.js'
import type { Candidate, DerivedAge, InstanceRef, Judgement, Users } from './leftover-model.js'
import { buildStartFromName, isPackerTemporaryName } from './packer-names.js'
import { ageSeconds } from '../model/aws-data.js'
import { isStale } from './plan.js'
import { isConcreteTag, tagMatcher, wildcardMatcher } from '../model/wildcard.js'

/**
 * When a key pair's name timestamp and its CreateTime are further apart than this, the report
 * says so. Packer names the key when the build starts and creates it moments later, so a real
 * Packer key is well within it.
 */
export const AGE_DISAGREEMENT_TOLERANCE_SECONDS = 15 * 60

export const SKIP_AGE_UNKNOWN = 'age unknown'

/**
 * The age of a resource from the two clocks it may carry: the build start in a `packer_<uuid>`
 * name and EC2's CreateTime. With both, the younger one (the later instant) counts: age is what
 * protects a live build between creating its key and launching its instance, and a key EC2 says
 * was created minutes ago must not be deleted because its name claims an old build (a re-imported
 * key, a reused name). Packer creates the key after naming it, so for its own keys that is
 * CreateTime; a disagreement beyond the tolerance is noted in the reason.
 */
export function deriveAge(candidate: Pick<Candidate, 'name' | 'createTime'>, now: Date): DerivedAge {
  const fromName = buildStartFromName(candidate.name, now)
  const fromCreateTime = candidate.createTime
  if (!fromName && !fromCreateTime) return { ageSource: 'unknown' }
  if (!fromName || !fromCreateTime) {
    const createdAt = (fromName ?? fromCreateTime) as Date
    return { createdAt, ageSource: fromName ? 'name' : 'create-time', ageSeconds: ageSeconds(createdAt, now) }
  }
  const nameIsYounger = fromName > fromCreateTime
  const createdAt = nameIsYounger ? fromName : fromCreateTime
  const age: DerivedAge = {
    createdAt,
    ageSource: nameIsYounger ? 'name' : 'create-time',
    ageSeconds: ageSeconds(createdAt, now)
  }
  const apartSeconds = Math.abs(fromName.getTime() - fromCreateTime.getTime()) / 1000
  if (apartSeconds > AGE_DISAGREEMENT_TOLERANCE_SECONDS) {
    age.note =
      `name timestamp ${fromName.toISOString()} and CreateTime ${fromCreateTime.toISOString()} disagree; ` +
      `aged by the younger (${nameIsYounger ? 'name' : 'CreateTime'})`
  }
  return age
}

/** Empty patterns mean no name filter (the `key-name` input allows that only with `tags`). */
export function matchesAnyPattern(name: string, patterns: readonly string[]): boolean {
  return patterns.length === 0 || wildcardMatcher(patterns)(name)
}

/**
 * How a service compares tag keys: EC2 exactly; IAM ignoring case (there a key is unique ignoring
 * case, so `Packer-Sweeper:Keep` is the exclude-tag). Values are case-sensitive in both.
 */
export type TagKeyCase = 'case-sensitive' | 'case-insensitive'

/** The one place tag keys are compared: `tags` and `key` brought to the service's case rule. */
function byKeyCase(
  tags: ReadonlyMap<string, string>,
  key: string,
  keyCase: TagKeyCase
): { tags: ReadonlyMap<string, string>; key: string } {
  if (keyCase === 'case-sensitive') return { tags, key }
  return { tags: new Map([...tags].map(([name, value]) => [name.toLowerCase(), value])), key: key.toLowerCase() }
}

/** Every `tags` line must match: the key by the service's case rule, the value by EC2 wildcards. */
export function matchesTags(
  tags: ReadonlyMap<string, string>,
  filters: readonly TagFilter[],
  keyCase: TagKeyCase
): boolean {
  return filters.every((filter) => {
    const compared = byKeyCase(tags, filter.key, keyCase)
    return tagMatcher([{ ...filter, key: compared.key }])(compared.tags)
  })
}

/** The first of the exclude-tag keys that `tags` carries, by the service's case rule; undefined when none. */
export function excludedBy(
  tags: ReadonlyMap<string, string>,
  excludeTag: readonly string[],
  keyCase: TagKeyCase
): string | undefined {
  return excludeTag.find((key) => {
    if (key === '') return false
    const compared = byKeyCase(tags, key, keyCase)
    return compared.tags.has(compared.key)
  })
}

export function isExcluded(
  tags: ReadonlyMap<string, string>,
  excludeTag: readonly string[],
  keyCase: TagKeyCase
): boolean {
  return excludedBy(tags, excludeTag, keyCase) !== undefined
}

export interface AgeRules {
  maxAgeSeconds: number
  /** The exclude-tag keys: carrying any of them excludes. */
  excludeTag: readonly string[]
  /** The kind's own rule: why a stale match is only reported, never deleted (undefined: it may be). */
  onlyReported?: (candidate: Candidate) => string | undefined
}

/**
 * What a matching resource is before anyone asks what uses it: not reported (fresh), reported as
 * skipped (the exclude-tag wins over everything; an unknown age never allows a delete; then the
 * kind's own rule), or worth the usage check.
 */
export type FirstVerdict = { verdict: 'fresh' } | { verdict: 'skip'; reason: string } | { verdict: 'check-usage' }

export function judgeCandidate(candidate: Candidate, age: DerivedAge, rules: AgeRules): FirstVerdict {
  if (age.ageSeconds !== undefined && !isStale(age.ageSeconds, rules.maxAgeSeconds)) return { verdict: 'fresh' }
  const excludingKey = excludedBy(candidate.tags, rules.excludeTag, 'case-sensitive')
  if (excludingKey !== undefined) return { verdict: 'skip', reason: `carries the ${excludingKey} tag` }
  if (age.ageSeconds === undefined) return { verdict: 'skip', reason: SKIP_AGE_UNKNOWN }
  const onlyReported = rules.onlyReported?.(candidate)
  if (onlyReported !== undefined) return { verdict: 'skip', reason: onlyReported }
  return { verdict: 'check-usage' }
}

export const SKIP_CUSTOM_KEY_NAME =
  "not Packer's temporary key-pair name packer_<uuid>; set delete-custom-key-pairs: true, with a tags line of the run_tags " +
  'Packer put on its key (a value that is not only wildcards), to delete key pairs a template named with temporary_key_pair_name'
export const SKIP_CUSTOM_KEY_UNTAGGED =
  "not Packer's temporary key-pair name packer_<uuid>, and delete-custom-key-pairs deletes only key pairs that carry " +
  'every tags line, one of them with a value that is not only wildcards'

/**
 * Why a stale key pair that matched `key-name` and `tags` is only reported, or undefined when it
 * may be deleted. Packer's own temporary key is `packer_<uuid>`; any other name (a pattern in
 * `key-name`, or none at all, matches keys Packer never made) is deleted only when the user opts in
 * with `delete-custom-key-pairs` and the key carries a `tags` line that is more than wildcards:
 * Packer put its `run_tags` on the key, a wildcard says nothing about who made it.
 */
export function keyPairOnlyReported(
  keyPair: Pick<Candidate, 'name' | 'tags'>,
  inputs: Pick<Inputs, 'tags' | 'delete-custom-key-pairs'>
): string | undefined {
  if (isPackerTemporaryName(keyPair.name)) return undefined
  if (!inputs['delete-custom-key-pairs']) return SKIP_CUSTOM_KEY_NAME
  if (!inputs.tags.some(isConcreteTag) || !matchesTags(keyPair.tags, inputs.tags, 'case-sensitive'))
    return SKIP_CUSTOM_KEY_UNTAGGED
  return undefined
}

/**
 * The resources worth reporting, by their first verdict: the skipped ones with their reason, the
 * stale ones to check for usage. Fresh ones, and ones the rules ignore, are left out.
 */
export function sortByJudgement<T>(
  items: readonly T[],
  judge: (item: T) => Judgement
): {
  skipped: { item: T; age: DerivedAge; reason: string; namesUsers?: boolean }[]
  stale: { item: T; age: DerivedAge }[]
} {
  const skipped: { item: T; age: DerivedAge; reason: string; namesUsers?: boolean }[] = []
  const stale: { item: T; age: DerivedAge }[] = []
  for (const item of items) {
    const judged = judge(item)
    if (judged.verdict === 'skip')
      skipped.push({ item, age: judged.age, reason: judged.reason, ...(judged.namesUsers ? { namesUsers: true } : {}) })
    else if (judged.verdict === 'check-usage') stale.push({ item, age: judged.age })
  }
  return { skipped, stale }
}

/**
 * A stale resource is an orphan when nothing uses it, or only instances this run terminates
 * (it is then removed after they are gone). Anything else using it means it is not debris.
 */
export type UsageVerdict = { verdict: 'in-use' } | { verdict: 'orphan'; dependsOn: InstanceRef[] }

export function judgeUsage(users: Users | undefined, terminating: ReadonlySet<string>): UsageVerdict {
  if (!users) return { verdict: 'orphan', dependsOn: [] }
  if (users.others.length > 0) return { verdict: 'in-use' }
  if (users.instances.some((user) => !terminating.has(user.instanceId))) return { verdict: 'in-use' }
  const byId = new Map(users.instances.map((user) => [user.instanceId, user]))
  return { verdict: 'orphan', dependsOn: [...byId.values()].sort((a, b) => a.instanceId.localeCompare(b.instanceId)) }
}

/** Uses that remain once `gone` instances have terminated, as words for a reason (`words` says an instance). */
export function remainingUses(
  users: Users | undefined,
  gone: ReadonlySet<string>,
  words: (user: InstanceRef) => string
): string[] {
  if (!users) return []
  return [...users.instances.filter((user) => !gone.has(user.instanceId)).map(words), ...users.others]
}

/** The report entry of a resource of any leftover kind, with its age, an outcome and the reasons joined. */
export function leftoverFinding(
  resource: Pick<OrphanFinding, 'kind' | 'id' | 'name' | 'region'>,
  age: DerivedAge,
  outcome: OrphanFinding['outcome'],
  reason?: string,
  error?: OrphanFinding['error']
): OrphanFinding {
  const finding: OrphanFinding = { ...resource, ageSource: age.ageSource, outcome }
  if (age.createdAt) finding.createdAt = age.createdAt.toISOString()
  if (age.ageSeconds !== undefined) finding.ageSeconds = age.ageSeconds
  const reasons = [reason, age.note].filter((text): text is string => Boolean(text))
  if (reasons.length > 0) finding.reason = reasons.join('; ')
  if (error) finding.error = error
  return finding
}
