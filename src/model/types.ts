/**
 * The shared vocabulary of a sweep: what the inputs say, what was found, what happened to it.
 * Everything here is plain data so that the decisions (what is stale, what to do, what to
 * write) stay pure functions over it.
 */

import type { Kind } from '../kinds/names.js'

export const SWEEP_ACTIONS = ['notify', 'stop', 'terminate'] as const
export type SweepAction = (typeof SWEEP_ACTIONS)[number]

/** A kind of Packer resource, as the `resources` input names it (kinds/names.ts). */
export type ResourceKind = Kind

/** Every state DescribeInstances knows; `instance-states` takes the live ones (see inputs.ts). */
export const INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'] as const
export type InstanceState = (typeof INSTANCE_STATES)[number]

/** One `tags` line: `Key=Value`, where the value may use EC2's `*` and `?` wildcards. */
export interface TagFilter {
  key: string
  value: string
}

/** The action's inputs, parsed and validated, keyed exactly like action.yml. */
export interface Inputs {
  /** Seconds; 0 = every matching resource. */
  'max-age': number
  action: SweepAction
  /** Explicit region names, or 'all' = every region enabled for the account. */
  regions: string[] | 'all'
  resources: ResourceKind[]
  /** EC2 wildcard patterns; empty only when `tags` is set. */
  'key-name': string[]
  tags: TagFilter[]
  /**
   * Also delete key pairs not named `packer_<uuid>` (a template's temporary_key_pair_name) that match
   * `key-name` and a `tags` line whose value is not only wildcards; true only with such a line.
   */
  'delete-custom-key-pairs': boolean
  'instance-states': InstanceState[]
  /** Exact tag keys: a resource carrying any of them is never acted on. */
  'exclude-tag': string[]
  /** 0 = no cap. */
  'max-instances': number
  /** 0 = no cap. */
  'max-resources': number
  /** Seconds one region may take to be read, and again to be acted on. */
  'region-timeout': number
  'dry-run': boolean
  /** Empty = no notification. */
  'sns-topic-arn': string
  /** Empty = default credential chain. */
  'role-to-assume': string
  'role-session-name': string
  audience: string
  'fail-on-stale': boolean
  /** Price the stale builders (needs pricing:GetProducts and ec2:DescribeSpotPriceHistory). */
  'estimate-cost': boolean
  /**
   * The literal `Key=Value` a template sets in `run_tags` and overwrites in `tags`: an image still
   * carrying it comes from a build that never reached its last step. Undefined = unset.
   */
  'image-incomplete-tag'?: ImageIncompleteTag
  /** Delete a terminated builder's volumes that match its source image's mappings in every attribute. */
  'delete-inherited-volumes': boolean
}

/** `image-incomplete-tag`: a tag matched exactly (no wildcards), case-sensitive like every EC2 tag. */
export interface ImageIncompleteTag {
  key: string
  value: string
}

/**
 * What happened to one resource.
 * - stopped / terminated / deleted: the change was made (or was already so: see `reason`)
 * - notified: reported only (action notify, or stop for kinds that cannot be stopped)
 * - dry-run: the change would have been made; EC2 confirmed the permission with DryRun
 * - skipped: never acted on (exclude-tag, age unknown); see `reason`
 * - in-use: an orphan candidate that something still used when it was to be deleted
 * - failed: the change was refused or errored; see `error`
 * - unknown: the call got no answer (a silent endpoint, a cancelled job) and could not be read
 *   back: it may or may not have taken effect; see `reason`
 */
export const OUTCOMES = [
  'stopped',
  'terminated',
  'deleted',
  'notified',
  'dry-run',
  'skipped',
  'in-use',
  'failed',
  'unknown'
] as const
export type Outcome = (typeof OUTCOMES)[number]

export interface AwsErrorInfo {
  /** AWS error code, e.g. OperationNotPermitted, or the SDK error name when there is none. */
  code: string
  message: string
  /** For permission errors: the IAM action that is missing, e.g. ec2:TerminateInstances. */
  missingPermission?: string
}

/** An instance as discovery keeps it: only what the decisions and the report need. */
export interface InstanceRecord {
  id: string
  region: string
  keyName?: string
  /** The Name tag, if any. */
  name?: string
  /** ISO 8601. */
  launchTime: string
  state: string
  /** The exclude-tag key the instance carries (the first listed, of several); absent when it carries none. */
  excludedBy?: string
  /** t3.micro …; 'unknown' when EC2 did not say. */
  instanceType: string
  /** 'spot', 'scheduled' or 'capacity-block'; absent for On-Demand. */
  lifecycle?: string
  availabilityZone?: string
  /** The image it was launched from (a builder's source image). */
  imageId?: string
  /** Its EBS devices: a builder's volumes that outlive it are the ones with deleteOnTermination false. */
  devices?: InstanceDevice[]
}

/** One EBS device of an instance, as DescribeInstances' BlockDeviceMappings give it. */
export interface InstanceDevice {
  deviceName: string
  volumeId: string
  /** False (or not said): the volume outlives the instance. */
  deleteOnTermination: boolean
}

/** One instance in the report, with its age and outcome. */
export interface InstanceFinding {
  id: string
  region: string
  keyName?: string
  name?: string
  launchTime: string
  ageSeconds: number
  state: string
  outcome: Outcome
  /** Why it was skipped, or a note on the outcome ("already stopped"). */
  reason?: string
  error?: AwsErrorInfo
  instanceType: string
  lifecycle?: string
  availabilityZone?: string
}

/** Something a Packer build left behind besides its instance, of any leftover kind. */
export interface OrphanFinding {
  kind: ResourceKind
  /** Its ID as its kind reports it (a name, where the kind has no other ID). */
  id: string
  /** Its name. */
  name: string
  region: string
  /** ISO 8601 creation time as derived (name timestamp or CreateTime); undefined = age unknown. */
  createdAt?: string
  /** Where the age came from. */
  ageSource: 'name' | 'create-time' | 'unknown'
  /** Undefined when the age is unknown. */
  ageSeconds?: number
  outcome: Outcome
  reason?: string
  error?: AwsErrorInfo
}

/**
 * What failed in a region, and why: one kind (its `resources` name), or the region as a whole
 * when `kind` is absent (its deadline passed: RegionTimeout, or Cancelled).
 */
export interface RegionFailure extends AwsErrorInfo {
  kind?: ResourceKind
}

/** A failure of one kind in one region: what an engine reports. */
export type KindFailure = RegionFailure & { kind: ResourceKind }

/**
 * How far a region was swept.
 * - ok: every selected kind was swept
 * - partial: something failed (named in `failures`) while other kinds were swept, whose findings
 *   keep their true outcomes; or the act deadline passed, and what was not done says so
 * - failed: nothing in the region could be judged: its instances could not be read, every
 *   selected kind failed, or the read deadline passed; nothing in it was acted on
 */
export const REGION_STATUSES = ['ok', 'partial', 'failed'] as const
export type RegionStatus = (typeof REGION_STATUSES)[number]

export interface RegionResult {
  region: string
  status: RegionStatus
  /** Instances that matched the filters (stale or not). */
  matched: number
  /** Matching instances younger than max-age. */
  fresh: number
  /** Empty when the status is ok; each failed kind, and the region's own failure, with its error. */
  failures: RegionFailure[]
}

/** A resource of any kind in the report. */
export type Finding = InstanceFinding | OrphanFinding

/** IAM's removal steps, in Packer's order (RemovalStepOutcome of an IAM finding). */
export type RemovalStep = 'remove-role-from-profile' | 'delete-role-policy' | 'delete-role' | 'delete-instance-profile'

export interface RemovalStepOutcome {
  step: RemovalStep
  outcome: 'done' | 'already-gone' | 'failed' | 'unknown'
  error?: AwsErrorInfo
}

/** An IAM leftover: a profile, its role and the role's inline policy, removed as one. */
export interface IamFinding extends OrphanFinding {
  iam: {
    /** True when the instance profile exists. */
    profile: boolean
    /** The role's name, when Packer's role exists. */
    role?: string
    inlinePolicies: string[]
    steps: RemovalStepOutcome[]
  }
}

/** A monthly storage figure, or why there is none. */
export type StorageCost = { usdPerMonth: number } | { unknown: string }

/** What an image is, as its tags tell: see kinds/images/rules.ts classifyImage. */
export const IMAGE_CLASSES = ['interrupted', 'complete', 'hand-made', 'backup', 'unknown'] as const
export type ImageClass = (typeof IMAGE_CLASSES)[number]

/** An image a Packer build made, with what the report says of it besides a leftover's fields. */
export interface ImageFinding extends OrphanFinding {
  image: {
    /** EC2's ImageState when it was read. */
    state: string
    class: ImageClass
    /** Why it is a candidate: made by a matched builder, carrying the `tags`, or a copy of a candidate. */
    origin: 'builder' | 'tags' | 'copy'
    sourceInstanceId?: string
    /** For a copy: its source image and that image's region. */
    sourceImageId?: string
    sourceImageRegion?: string
    /** Its EBS snapshots, with the size of the volume each was taken from (GiB), when known. */
    snapshots: { id: string; sizeGiB?: number }[]
    /** Its copies found in the swept regions. */
    copies: { id: string; region: string }[]
    /** What else is true of it: snapshots AWS keeps for other images, snapshots DeregisterImage kept. */
    notes: string[]
    /** With estimate-cost: at most what its snapshots cost per month (they bill stored data, at most their size). */
    monthlyCost?: StorageCost
  }
}

/** A builder's volume that outlived it (DeleteOnTermination false). */
export interface VolumeFinding extends OrphanFinding {
  volume: {
    /** The builder that held it, and the device it was attached at. */
    instanceId: string
    deviceName: string
    /** As last read; absent when it was not read. */
    state?: string
    sizeGiB?: number
    volumeType?: string
    /** With estimate-cost: its provisioned storage per month (IOPS and throughput above the baseline not included). */
    monthlyCost?: StorageCost
  }
}
