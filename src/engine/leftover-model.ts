import type { AwsErrorInfo, OrphanFinding, SweepAction } from '../model/types.js'

export type OrphanKind = OrphanFinding['kind']

/** A resource that matched a kind's name, description and tag filters: not yet judged. */
export interface Candidate {
  kind: OrphanKind
  /** As reported: the kind's ID (its name, where the kind has no other). */
  id: string
  name: string
  /** What the kind's delete call takes when it is not `id` (a key pair's key-… ID). */
  deleteId?: string
  tags: ReadonlyMap<string, string>
  /** EC2's CreateTime; security groups have none. */
  createTime?: Date
}

/** What still uses a candidate: instances (which this run may terminate) and anything else. */
export interface Usage {
  instanceIds: string[]
  /** Uses no instance termination frees, e.g. "group sg-… (its rules reference it)", "eni-… (not attached to an instance)". */
  others: string[]
}

export interface DerivedAge {
  createdAt?: Date
  ageSource: OrphanFinding['ageSource']
  /** Undefined when the age is unknown. */
  ageSeconds?: number
  /** Set when the name's timestamp and CreateTime disagree, to explain which one was used. */
  note?: string
}

/** One reported resource of the plan: an orphan to delete, or a match that is skipped. */
export interface PlannedOrphan {
  candidate: Candidate
  age: DerivedAge
  verdict: 'orphan' | 'skip'
  /** For `skip`: why (exclude-tag, age unknown, in use by something this run leaves alone). */
  skipReason?: string
  /** Instances this run terminates that still use the orphan: it is deleted after they are gone. */
  dependsOn: string[]
}

/** A kind that could not be discovered or checked in this region: none of its orphans are acted on. */
export interface OrphanDiscoveryError {
  kind: OrphanKind
  error: AwsErrorInfo
}

export interface OrphanPlan {
  region: string
  action: SweepAction
  dryRun: boolean
  /** Sorted by kind (registry order), then name. */
  orphans: PlannedOrphan[]
  /** Non-empty means the kinds they name were not swept: the core names them in the region's failures. */
  errors: OrphanDiscoveryError[]
}
