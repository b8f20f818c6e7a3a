/**
 * The images kind's decisions as pure functions over plain data: which images are candidates,
 * what each one is, and whether it may be deregistered with its snapshots. The reads
 * (`reads.ts`) gather the data; `deregister.ts` carries out what these decide.
 */
import { ageSeconds } from '../../model/aws-data.js'
import { formatAge, formatMaxAge } from '../../model/format.js'
import type { ImageClass, Inputs, SweepAction, TagFilter } from '../../model/types.js'
import { excludedBy, matchesTags } from '../../engine/rules.js'

/** One of an image's EBS snapshots, as DescribeSnapshots answered (or did not answer) it. */
export interface ImageSnapshot {
  id: string
  /** Undefined when DescribeSnapshots did not list it (deleted meanwhile, or not the account's). */
  tags?: ReadonlyMap<string, string>
  /** GiB, for the cost estimate: the snapshot's VolumeSize, else the image's mapping's. */
  sizeGiB?: number
  /** Other images of the account that map this snapshot: DeregisterImage keeps it for them. */
  alsoUsedBy: readonly string[]
}

/** Why an image is a candidate at all. */
export type ImageOrigin = 'builder' | 'tags' | 'copy'

/** An image of the account, with everything the removal rule judges. */
export interface ImageRecord {
  id: string
  region: string
  name: string
  /** EC2's ImageState: pending, available, failed, invalid, transient, error, deregistered, disabled. */
  state: string
  /** DescribeImages' CreationDate; undefined when absent or unreadable. */
  createdAt?: Date
  tags: ReadonlyMap<string, string>
  origin: ImageOrigin
  sourceInstanceId?: string
  sourceImageId?: string
  sourceImageRegion?: string
  /** DescribeImages' `Public`. */
  public: boolean
  /**
   * The launch permissions other than public (account IDs, organization and OU ARNs), from
   * DescribeImageAttribute; undefined when they could not be read.
   */
  sharedWith?: readonly string[]
  /** DescribeImages' DeregistrationProtection: `disabled`, `enabled…`, `disabled-after <time>`; undefined when absent. */
  deregistrationProtection?: string
  snapshots: readonly ImageSnapshot[]
}

/** The inputs the removal rule reads. */
export interface ImageRules {
  action: SweepAction
  maxAgeSeconds: number
  excludeTag: readonly string[]
  /** `image-incomplete-tag`: the Key=Value a template sets in run_tags and overwrites in tags; undefined when unset. */
  incompleteTag?: TagFilter
}

/** The rule's inputs from the action's: `image-incomplete-tag` is parsed elsewhere and handed in. */
export function imageRules(
  inputs: Pick<Inputs, 'action' | 'max-age' | 'exclude-tag'>,
  incompleteTag: TagFilter | undefined
): ImageRules {
  const rules: ImageRules = {
    action: inputs.action,
    maxAgeSeconds: inputs['max-age'],
    excludeTag: inputs['exclude-tag']
  }
  if (incompleteTag) rules.incompleteTag = incompleteTag
  return rules
}

export type { ImageClass } from '../../model/types.js'

/** The rule that keeps an image, in the order they are checked (the first failing one is the reason). */
export const KEEP_RULES = [
  'aws-tag',
  'excluded',
  'snapshot-excluded',
  'snapshot-unread',
  'protected',
  'public',
  'shared',
  'in-use',
  'no-incomplete-tag-input',
  'not-incomplete',
  'pending',
  'state',
  'age-unknown',
  'fresh',
  'action'
] as const
export type KeepRule = (typeof KEEP_RULES)[number]

export type ImageVerdict =
  | { verdict: 'remove'; class: ImageClass; ageSeconds: number; notes: string[] }
  | { verdict: 'keep'; rule: KeepRule; reason: string; class: ImageClass; ageSeconds?: number; notes: string[] }

/** The states DeregisterImage is sent for: a finished image, or one EC2 gave up on. */
const REMOVABLE_STATES = new Set(['available', 'failed'])

/** AWS Backup and Data Lifecycle Manager tag what they make with keys in `aws:`, which no user can write. */
const AWS_TAG_PREFIX = 'aws:'

/** How a template marks its builds, as the reason that asks for it says. */
export const MARK_BUILDS_HINT =
  'reported only: set image-incomplete-tag, e.g. packer-build=incomplete, and mark builds with that tag in run_tags ' +
  'and packer-build=complete in tags'

/** The first `aws:` tag key an image carries. */
function awsTagKey(tags: ReadonlyMap<string, string>): string | undefined {
  return [...tags.keys()].find((key) => key.startsWith(AWS_TAG_PREFIX))
}

/** Whether the image carries exactly Key=Value: EC2 tag keys and values are case-sensitive. */
function carriesExactly(tags: ReadonlyMap<string, string>, tag: TagFilter): boolean {
  return tags.get(tag.key) === tag.value
}

/**
 * Whether DescribeImages' DeregistrationProtection allows DeregisterImage now. Only positive
 * evidence counts: `disabled`, or `disabled-after <time>` (the 24-hour cooldown) once that time
 * has passed; anything else, an absent field included, is protected.
 */
export function deregistrationAllowed(value: string | undefined, now: Date): boolean {
  if (value === 'disabled') return true
  const after = value === undefined ? null : /^disabled-after (.+)$/.exec(value)
  if (!after) return false
  const until = Date.parse(after[1] ?? '')
  return Number.isFinite(until) && until <= now.getTime()
}

/**
 * What an image is: `backup` (an `aws:` tag key: AWS Backup, DLM), `interrupted` (the incomplete
 * tag: its build never reached StepCreateTags), `complete` (the incomplete tag's key with another
 * value: StepCreateTags overwrote it), `hand-made` (made from a builder without the run_tags
 * Packer's CreateImage puts on it: a person's image from a builder kept by -on-error=ask or
 * -debug, or a template with skip_ami_run_tags), else `unknown` (no image-incomplete-tag to read
 * it by, or a copy without the key).
 */
export function classifyImage(image: ImageRecord, incompleteTag: TagFilter | undefined): ImageClass {
  if (awsTagKey(image.tags) !== undefined) return 'backup'
  if (!incompleteTag) return 'unknown'
  if (carriesExactly(image.tags, incompleteTag)) return 'interrupted'
  if (image.tags.has(incompleteTag.key)) return 'complete'
  return image.origin === 'builder' ? 'hand-made' : 'unknown'
}

/** Why DeregistrationProtection keeps an image, in words: enabled, in its cooldown, or not said. */
function protectionReason(value: string | undefined): string {
  if (value === undefined) return 'deregistration protection unknown: DescribeImages did not say'
  const cooldown = /^disabled-after (.+)$/.exec(value)
  if (cooldown) return `deregistration protection holds until ${cooldown[1] ?? ''}: the cooldown after it was disabled`
  return `deregistration protection is ${value}`
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return count === 1 ? singular : pluralForm
}

/** Snapshots DeregisterImage will keep because another image maps them: said, never a reason to keep the image. */
export function snapshotNotes(image: ImageRecord): string[] {
  return image.snapshots
    .filter((snapshot) => snapshot.alsoUsedBy.length > 0)
    .map((snapshot) => `snapshot ${snapshot.id} is also used by ${snapshot.alsoUsedBy.join(', ')}: AWS keeps it`)
}

/**
 * The first rule that keeps the image, or undefined when it may be deregistered. The order, most
 * decisive first, is KEEP_RULES': what someone else owns or needs (an `aws:` tag key, the
 * exclusion tag on the image, then on any of its snapshots, a snapshot whose tags could not be
 * read, deregistration protection, public, shared or unread launch permissions, a live instance
 * running it), then the evidence of an
 * interrupted build (the image-incomplete-tag input, the tag itself), then the image's own state
 * (pending: a later sweep; any other state but available and failed), its age, and last the mode.
 */
function firstKeepRule(
  image: ImageRecord,
  users: readonly string[],
  rules: ImageRules,
  age: number | undefined,
  now: Date
): { rule: KeepRule; reason: string } | undefined {
  const awsKey = awsTagKey(image.tags)
  if (awsKey !== undefined)
    return { rule: 'aws-tag', reason: `carries the tag key ${awsKey}: made by AWS Backup or Data Lifecycle Manager` }
  const excluding = excludedBy(image.tags, rules.excludeTag, 'case-sensitive')
  if (excluding !== undefined) return { rule: 'excluded', reason: `carries the ${excluding} tag` }
  for (const snapshot of image.snapshots) {
    const onSnapshot = snapshot.tags && excludedBy(snapshot.tags, rules.excludeTag, 'case-sensitive')
    if (onSnapshot !== undefined)
      return { rule: 'snapshot-excluded', reason: `its snapshot ${snapshot.id} carries the ${onSnapshot} tag` }
  }
  // A snapshot DescribeSnapshots did not list may carry the exclusion tag for all the sweep knows.
  const unread = image.snapshots.find((snapshot) => snapshot.tags === undefined)
  if (unread !== undefined)
    return { rule: 'snapshot-unread', reason: `its snapshot ${unread.id} was not listed: its tags are unknown` }
  if (!deregistrationAllowed(image.deregistrationProtection, now))
    return { rule: 'protected', reason: protectionReason(image.deregistrationProtection) }
  if (image.public) return { rule: 'public', reason: 'public: every AWS account may launch it' }
  if (image.sharedWith === undefined)
    return { rule: 'shared', reason: 'launch permissions unknown: DescribeImageAttribute did not answer' }
  if (image.sharedWith.length > 0) {
    const count = image.sharedWith.length
    return {
      rule: 'shared',
      reason: `shared through ${count} launch ${plural(count, 'permission')} with other accounts or organizations`
    }
  }
  if (users.length > 0)
    return { rule: 'in-use', reason: `used by ${plural(users.length, 'instance')} ${users.join(', ')}` }
  if (!rules.incompleteTag) return { rule: 'no-incomplete-tag-input', reason: MARK_BUILDS_HINT }
  const { key, value } = rules.incompleteTag
  if (!carriesExactly(image.tags, rules.incompleteTag))
    return { rule: 'not-incomplete', reason: `does not carry ${key}=${value}: not an interrupted build` }
  if (image.state === 'pending')
    return { rule: 'pending', reason: 'pending: left for a later sweep, once EC2 finishes or fails it' }
  if (!REMOVABLE_STATES.has(image.state))
    return { rule: 'state', reason: `state ${image.state}: only available and failed images are removed` }
  if (age === undefined) return { rule: 'age-unknown', reason: 'age unknown: no creation date' }
  if (rules.maxAgeSeconds > 0 && age <= rules.maxAgeSeconds)
    return {
      rule: 'fresh',
      reason: `created ${formatAge(age)} ago, not older than max-age ${formatMaxAge(rules.maxAgeSeconds)}`
    }
  if (rules.action !== 'terminate')
    return {
      rule: 'action',
      reason: `${rules.action} leaves images alone: terminate would deregister it with its snapshots`
    }
  return undefined
}

/**
 * Whether one image (a copy is judged on its own) is deregistered with its snapshots: only with
 * `image-incomplete-tag`, only in terminate mode, only when it carries exactly that Key=Value, is
 * available or failed, older than max-age, unprotected, shared with nobody and not public, run by
 * no live instance (`users`), and carries no `aws:` key and no exclusion tag, nor do its
 * snapshots. Every other image gets one reason, the first failing rule's (see firstKeepRule).
 */
export function judgeImage(image: ImageRecord, users: readonly string[], rules: ImageRules, now: Date): ImageVerdict {
  const created = image.createdAt?.getTime()
  const age = created === undefined || !Number.isFinite(created) ? undefined : ageSeconds(new Date(created), now)
  const imageClass = classifyImage(image, rules.incompleteTag)
  const notes = snapshotNotes(image)
  const kept = firstKeepRule(image, users, rules, age, now)
  if (kept || age === undefined) {
    const { rule, reason } = kept ?? { rule: 'age-unknown' as const, reason: 'age unknown: no creation date' }
    return {
      verdict: 'keep',
      rule,
      reason,
      class: imageClass,
      ...(age === undefined ? {} : { ageSeconds: age }),
      notes
    }
  }
  return { verdict: 'remove', class: imageClass, ageSeconds: age, notes }
}

/** What makes an image of the region a candidate, as the caller knows it from the builders' pass. */
export interface CandidateQuery {
  /** The builders this sweep matched in the region, in any state (shutting-down and terminated included). */
  builderIds: ReadonlySet<string>
  /** The `tags` input; empty: tags alone make no candidate. */
  tags: readonly TagFilter[]
  /** Whether DescribeInstances still lists the instance, in any state. */
  isListed: (instanceId: string) => boolean
}

/**
 * Why an image of the account is a candidate, or undefined: made from a builder this sweep matched,
 * or, with `tags`, carrying every `tags` line (the run_tags CreateImage copied onto it) while the
 * instance it was made from is no longer listed. A copy carrying them (CopyImage copies tags; its
 * source is in a region not swept) counts too: it has no source instance to still be listed.
 */
export function candidateOrigin(
  image: { sourceInstanceId?: string; sourceImageId?: string; tags: ReadonlyMap<string, string> },
  query: CandidateQuery
): 'builder' | 'tags' | undefined {
  if (image.sourceInstanceId !== undefined && query.builderIds.has(image.sourceInstanceId)) return 'builder'
  if (query.tags.length === 0 || !matchesTags(image.tags, query.tags, 'case-sensitive')) return undefined
  if (image.sourceInstanceId !== undefined) return query.isListed(image.sourceInstanceId) ? undefined : 'tags'
  return image.sourceImageId !== undefined ? 'tags' : undefined
}

/**
 * Whether an image is a copy of a candidate: CopyImage records the source's ID and region. The
 * source must be a candidate of the region the copy names, so an ID alone (read through a
 * `source-image-id` filter) never makes one.
 */
export function isCopyOf(
  image: { sourceImageId?: string; sourceImageRegion?: string },
  candidatesByRegion: ReadonlyMap<string, ReadonlySet<string>>
): boolean {
  if (image.sourceImageId === undefined || image.sourceImageRegion === undefined) return false
  return candidatesByRegion.get(image.sourceImageRegion)?.has(image.sourceImageId) ?? false
}

/**
 * What the report says of copies beyond the swept regions: a copy is found only by a read in its
 * own region, so one Packer made in a region outside `regions` is neither listed nor removed.
 */
export const COPIES_NOT_SWEPT = 'copies in regions outside regions are not looked for, so not removed'

/**
 * What every image's finding says of copies the sweep cannot see: none under `regions: all`
 * (every enabled region is read), COPIES_NOT_SWEPT otherwise, since Packer's `ami_regions` may
 * have put copies anywhere and only a read in their own region finds them.
 */
export function copyNotes(regions: Inputs['regions']): string[] {
  return regions === 'all' ? [] : [COPIES_NOT_SWEPT]
}

/**
 * Each image's copies found in the swept regions, by the source's ID (regions outside `regions`
 * are never read: see COPIES_NOT_SWEPT). A copy's source is matched by its ID and region both.
 */
export function copiesBySource(records: readonly ImageRecord[]): Map<string, ImageRecord[]> {
  const regionOf = new Map(records.map((record) => [record.id, record.region]))
  const copies = new Map<string, ImageRecord[]>()
  for (const record of records) {
    const source = record.sourceImageId
    if (source === undefined || regionOf.get(source) !== record.sourceImageRegion) continue
    copies.set(source, [...(copies.get(source) ?? []), record])
  }
  return copies
}
