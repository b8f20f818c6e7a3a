/**
 * The images kind's decisions as pure functions over plain data: which images are candidates,
 * what each one is, and whether it may be deregistered with its snapshots. The reads
 * (`reads.ts`) gather the data; `deregister.ts` carries out what these decide.
 */
import type { SweepAction, TagFilter } from '../../model/types.js'

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

/** What an image is, for the report. */
export type ImageClass = 'interrupted' | 'complete' | 'unknown' | 'hand-made' | 'backup'

/** The rule that keeps an image, in the order they are checked (the first failing one is the reason). */
export const KEEP_RULES = [
  'aws-tag',
  'excluded',
  'snapshot-excluded',
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

export function judgeImage(
  _image: ImageRecord,
  _users: readonly string[],
  _rules: ImageRules,
  _now: Date
): ImageVerdict {
  throw new Error('not yet')
}

export function classifyImage(_image: ImageRecord, _incompleteTag: TagFilter | undefined): ImageClass {
  throw new Error('not yet')
}
