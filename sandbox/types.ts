/**
 * The data model of the sandbox account: what a fleet seed looks like (readable, for fixtures
 * and the generator) and what the server keeps per region (the live state tests assert on).
 */

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped'

/** EC2's numeric state codes, as DescribeInstances reports them. */
export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80
}

export type Tags = Record<string, string>

/** The sandbox account's ID: what `self` means, the owner of everything seeded unless said otherwise. */
export const ACCOUNT_ID = '123456789012'

/**
 * Age or launch time: `age` is a duration before the moment the fleet is seeded
 * (`'3h'`, `'90m'`, `'2d'`, `'45s'`, `'1h30m'`), `launchTime`/`createTime` an absolute ISO time.
 */
export interface Aged {
  age?: string
  ageSeconds?: number
}

export interface InstanceSeed extends Aged {
  /** `i-` + 8 or 17 hex digits; generated when absent. */
  id?: string
  /** A name for tests to find the instance by (`sandbox.fleet.byRef`); never sent to the client. */
  ref?: string
  keyName?: string
  state?: InstanceStateName
  launchTime?: string
  tags?: Tags
  /** Defaults to `<region>a`. */
  availabilityZone?: string
  /** 'spot' | 'scheduled' | 'capacity-block'; undefined = on-demand. */
  lifecycle?: string
  rootDeviceType?: 'ebs' | 'instance-store'
  disableApiTermination?: boolean
  disableApiStop?: boolean
  securityGroupIds?: string[]
  /** Instances launched together share a reservation; generated when absent. */
  reservationId?: string
  /** Adds the `aws:ec2launchtemplate:id` tag, as EC2 does for instances launched from a template. */
  launchTemplateId?: string
  instanceType?: string
  /** The IAM instance profile the instance runs with (`sandbox.iam.profileRef(name)` gives it for a seeded profile). */
  iamInstanceProfile?: IamInstanceProfileRef
  /** The AMI it was launched from (default `ami-0sandbox`). */
  imageId?: string
  /** Default `/dev/xvda` (`/dev/sda1` for instance-store). */
  rootDeviceName?: string
  /**
   * Its EBS volumes, each created as a volume attached at `deviceName`. Absent: an EBS-backed instance
   * gets one root volume (8 GiB gp3, DeleteOnTermination) at `rootDeviceName`; `[]`: none. An
   * instance seeded `terminated` keeps none of its DeleteOnTermination volumes, the others are
   * seeded `available` (detached), as termination leaves them.
   */
  blockDeviceMappings?: InstanceBlockDeviceSeed[]
  /**
   * An Elastic IP associated with it (the user's: Packer never allocates one). DescribeAddresses
   * answers it; termination disassociates it and the allocation stays.
   */
  elasticIp?: ElasticIpSeed
}

export interface ElasticIpSeed {
  publicIp: string
  /** `eipalloc-` + hex digits. */
  allocationId: string
}

/** One EBS volume of an instance seed: a volume attached at `deviceName`. */
export interface InstanceBlockDeviceSeed extends VolumeShapeSeed {
  deviceName: string
  /** `vol-` + 8 or 17 hex digits; generated when absent. */
  volumeId?: string
  /** Default true for the root device, false for the others. */
  deleteOnTermination?: boolean
  /** The volume's tags (Packer's `run_volume_tags`). */
  tags?: Tags
  /** Default: the instance's launch time. */
  createTime?: string
}

export type VolumeType = 'gp2' | 'gp3' | 'io1' | 'io2' | 'st1' | 'sc1' | 'standard'

/** Size, type and encryption of a volume or of an image's EBS mapping. */
export interface VolumeShapeSeed {
  /** GiB; default 8. */
  size?: number
  /** Default `gp3`. */
  volumeType?: VolumeType
  /** Default 3000 for gp3, 3 × size (100–16000) for gp2, 3000 for io1/io2; none for st1, sc1, standard. */
  iops?: number
  /** MiB/s; default 125 for gp3, none for the other types. */
  throughput?: number
  /** Default false. */
  encrypted?: boolean
  /** Default, when encrypted: the region's default EBS key (`defaultEbsKeyArn(region)`). */
  kmsKeyId?: string
  /** The snapshot it was created from. */
  snapshotId?: string
}

export type VolumeState = 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error'

export interface VolumeSeed extends Aged, VolumeShapeSeed {
  /** `vol-` + 8 or 17 hex digits; generated when absent. */
  volumeId?: string
  createTime?: string
  /** Defaults to `<region>a`. */
  availabilityZone?: string
  tags?: Tags
  /** Attached to an instance of this region (seeded in this or an earlier seed, not terminated); absent: `available`. */
  attachment?: { instanceId: string; device: string; deleteOnTermination?: boolean; attachTime?: string }
}

export type SnapshotState = 'pending' | 'completed' | 'error' | 'recoverable' | 'recovering'

export interface SnapshotSeed extends Aged {
  /** `snap-` + 8 or 17 hex digits; generated when absent. */
  snapshotId?: string
  /** GiB; default 8. */
  volumeSize?: number
  /** The volume it was taken from. */
  volumeId?: string
  /** Default `completed`. */
  state?: SnapshotState
  /** Default `100%` when completed, `0%` otherwise. */
  progress?: string
  startTime?: string
  description?: string
  encrypted?: boolean
  kmsKeyId?: string
  tags?: Tags
  /** Default the sandbox account. */
  ownerId?: string
}

export type ImageState =
  'pending' | 'available' | 'invalid' | 'deregistered' | 'transient' | 'failed' | 'error' | 'disabled'

/** Who may launch an image: one of the four, as EC2's LaunchPermission. */
export type LaunchPermission =
  { userId: string } | { group: 'all' } | { organizationArn: string } | { organizationalUnitArn: string }

/**
 * One block device mapping of an image. An EBS mapping (`virtualName` and `noDevice` absent) names
 * its snapshot: a snapshot of the seed's `snapshots`, of an earlier seed, or one created for it
 * (several images naming the same absent ID share the one created for the first).
 */
export interface ImageBlockDeviceSeed extends VolumeShapeSeed {
  deviceName: string
  /** Default true. */
  deleteOnTermination?: boolean
  /** An instance store volume (`ephemeral0`): no EBS. */
  virtualName?: string
  /** Suppresses the device the image would otherwise map. */
  noDevice?: boolean
}

export interface ImageSeed extends Aged {
  /** `ami-` + 8 or 17 hex digits; generated when absent. */
  imageId?: string
  /** A name for tests to find the image by (`sandbox.fleet.imageByRef`); never sent to the client. */
  ref?: string
  name: string
  description?: string
  /** Default `available`. */
  state?: ImageState
  /**
   * A `pending` image that completes by itself: after it was answered `reads` times by DescribeImages
   * (the next answer shows it done), or `ms` after seeding, whichever comes first; `to` default
   * `available`. Its pending snapshots complete with it (or go `error` when it fails).
   */
  completes?: { reads?: number; ms?: number; to?: 'available' | 'failed' }
  /** ISO time; default from `age`, else now. */
  creationDate?: string
  /** Default the sandbox account; another owner's image is visible when public or shared with the account. */
  ownerId?: string
  /** `amazon`, `aws-marketplace`, `aws-backup-vault`: what the Owners `amazon` … match. */
  ownerAlias?: string
  /** The builder it was made from (CreateImage). */
  sourceInstanceId?: string
  /** For a copy (CopyImage): the image it was copied from, and that image's region. */
  sourceImageId?: string
  sourceImageRegion?: string
  /** Shorthand for the launch permission `{ group: 'all' }`. */
  public?: boolean
  launchPermissions?: LaunchPermission[]
  /**
   * As DescribeImages answers it; default `disabled`. Anything else protects the image from
   * DeregisterImage, except `disabled-after <ISO time>` once that time has passed.
   */
  deregistrationProtection?: string
  /** ISO time; an image past it is deprecated. */
  deprecationTime?: string
  /** Default `/dev/xvda`. */
  rootDeviceName?: string
  /** Default: one 8 GiB gp3 EBS mapping at the root device, with a snapshot created for it. */
  blockDeviceMappings?: ImageBlockDeviceSeed[]
  /** Only when seeded (a failed image). */
  stateReason?: { code: string; message: string }
  tags?: Tags
  /** Tags of the snapshots created for its mappings (CreateImage's TagSpecifications for `snapshot`). */
  snapshotTags?: Tags
}

/** An instance's IAM instance profile as EC2 shows it. */
export interface IamInstanceProfileRef {
  arn: string
  /** `AIPA…` */
  id: string
}

export interface KeyPairSeed extends Aged {
  keyName: string
  keyPairId?: string
  /** `null`: EC2 answers no CreateTime (key pairs from before 2021 have none). */
  createTime?: string | null
  tags?: Tags
}

export interface IpPermissionSeed {
  protocol?: string
  fromPort?: number
  toPort?: number
  cidrs?: string[]
  /** Security groups this rule references. */
  groupIds?: string[]
}

export interface SecurityGroupSeed {
  groupId?: string
  groupName: string
  description?: string
  vpcId?: string
  tags?: Tags
  ingress?: IpPermissionSeed[]
  egress?: IpPermissionSeed[]
}

export interface NetworkInterfaceSeed {
  networkInterfaceId?: string
  groupIds: string[]
  description?: string
  /** 'in-use' when attached, else 'available'. */
  attachedInstanceId?: string
  tags?: Tags
}

export interface LaunchTemplateSeed extends Aged {
  launchTemplateId?: string
  launchTemplateName: string
  /** `null`: the answer carries no CreateTime. */
  createTime?: string | null
  tags?: Tags
}

export interface RegionSeed {
  instances?: InstanceSeed[]
  keyPairs?: KeyPairSeed[]
  securityGroups?: SecurityGroupSeed[]
  networkInterfaces?: NetworkInterfaceSeed[]
  launchTemplates?: LaunchTemplateSeed[]
  /** Seeded after the instances, so that an attachment can name one. */
  volumes?: VolumeSeed[]
  /** Seeded before the images, so that an image's mapping can name one. */
  snapshots?: SnapshotSeed[]
  images?: ImageSeed[]
}

/** A whole account: region name → what lives there. */
export type FleetSeed = Record<string, RegionSeed>

// ---- IAM (global: one per account, not per region) ----

export interface IamRoleSeed extends Aged {
  roleName: string
  /** `AROA…`; generated when absent. */
  roleId?: string
  /** Default `/`. */
  path?: string
  description?: string
  /** The trust policy as JSON; default: only `ec2.amazonaws.com` may `sts:AssumeRole`. */
  assumeRolePolicyDocument?: string
  createDate?: string
  /** Keys are unique ignoring case, as IAM's are (a seed with `Team` and `team` is refused). */
  tags?: Tags
  /** Inline policies: name → policy document (JSON). */
  inlinePolicies?: Record<string, string>
  /** ARNs of attached managed policies. */
  attachedPolicyArns?: string[]
  maxSessionDuration?: number
  /** When and where the role was last used; absent = never (GetRole answers an empty `RoleLastUsed`). */
  lastUsed?: Aged & { region: string }
}

export interface IamInstanceProfileSeed extends Aged {
  instanceProfileName: string
  /** `AIPA…`; generated when absent. */
  instanceProfileId?: string
  /** Default `/`. */
  path?: string
  createDate?: string
  /** Keys are unique ignoring case, as IAM's are (a seed with `Team` and `team` is refused). */
  tags?: Tags
  /** Names of the roles in the profile: at most one, as in IAM; each must be seeded. A role may sit in several profiles, at any paths. */
  roles?: string[]
}

export interface IamSeed {
  roles?: IamRoleSeed[]
  instanceProfiles?: IamInstanceProfileSeed[]
}

export interface SandboxIamRole {
  roleName: string
  roleId: string
  path: string
  arn: string
  description?: string
  assumeRolePolicyDocument: string
  createDate: Date
  tags: Tags
  inlinePolicies: Record<string, string>
  attachedPolicyArns: string[]
  maxSessionDuration: number
  lastUsed?: { date: Date; region: string }
}

export interface SandboxInstanceProfile {
  instanceProfileName: string
  instanceProfileId: string
  path: string
  arn: string
  createDate: Date
  tags: Tags
  /** Role names, in the order they were added. */
  roles: string[]
}

// ---- live state ----

export interface SandboxInstance {
  id: string
  ref?: string
  region: string
  reservationId: string
  keyName?: string
  state: InstanceStateName
  launchTime: Date
  tags: Tags
  availabilityZone: string
  lifecycle?: string
  rootDeviceType: 'ebs' | 'instance-store'
  disableApiTermination: boolean
  disableApiStop: boolean
  securityGroupIds: string[]
  instanceType: string
  iamInstanceProfile?: IamInstanceProfileRef
  /**
   * A pending transition (stopping → stopped, shutting-down → terminated) and when it completes;
   * `then` is a further one that starts when this one completes (lagged terminations).
   */
  transition?: { to: InstanceStateName; at: number; then?: { to: InstanceStateName; afterMs: number } }
  /** Every state this instance went through, oldest first, for "acted on exactly once" assertions. */
  history: InstanceStateName[]
  imageId: string
  rootDeviceName: string
  elasticIp?: ElasticIpSeed
}

export interface SandboxVolumeAttachment {
  instanceId: string
  device: string
  deleteOnTermination: boolean
  attachTime: Date
}

export interface SandboxVolume {
  volumeId: string
  region: string
  size: number
  volumeType: VolumeType
  iops?: number
  throughput?: number
  encrypted: boolean
  kmsKeyId?: string
  snapshotId?: string
  availabilityZone: string
  /** `in-use` while attached, `available` otherwise, `deleted` once deleted (then no longer answered). */
  state: VolumeState
  createTime: Date
  tags: Tags
  attachment?: SandboxVolumeAttachment
}

export interface SandboxSnapshot {
  snapshotId: string
  region: string
  ownerId: string
  volumeId?: string
  volumeSize: number
  state: SnapshotState
  progress: string
  startTime: Date
  description: string
  encrypted: boolean
  kmsKeyId?: string
  tags: Tags
  /** Deleted snapshots stay in the region's list (so page offsets stay put) but are no longer answered. */
  deleted: boolean
}

export interface SandboxImageEbs {
  snapshotId: string
  volumeSize: number
  volumeType: VolumeType
  iops?: number
  throughput?: number
  encrypted: boolean
  kmsKeyId?: string
  deleteOnTermination: boolean
}

export interface SandboxImageBlockDevice {
  deviceName: string
  ebs?: SandboxImageEbs
  virtualName?: string
  noDevice?: boolean
}

export interface SandboxImage {
  imageId: string
  ref?: string
  region: string
  name: string
  description?: string
  state: ImageState
  creationDate: Date
  ownerId: string
  ownerAlias?: string
  sourceInstanceId?: string
  sourceImageId?: string
  sourceImageRegion?: string
  launchPermissions: LaunchPermission[]
  deregistrationProtection: string
  deprecationTime?: Date
  rootDeviceName: string
  blockDeviceMappings: SandboxImageBlockDevice[]
  stateReason?: { code: string; message: string }
  tags: Tags
  /** When DeregisterImage took it (epoch ms): deregistered images are listed `deregisteredListedMs` longer, then no more. */
  deregisteredAt?: number
  /** A pending image's scheduled completion (`ImageSeed.completes`): reads left, and/or when (epoch ms). */
  completes?: { reads?: number; at?: number; to: 'available' | 'failed' }
}

export interface SandboxKeyPair {
  keyPairId: string
  keyName: string
  region: string
  /** Undefined when seeded with `createTime: null`. */
  createTime?: Date
  tags: Tags
}

export interface SandboxIpPermission {
  protocol: string
  fromPort?: number
  toPort?: number
  cidrs: string[]
  groupIds: string[]
}

export interface SandboxSecurityGroup {
  groupId: string
  groupName: string
  description: string
  region: string
  vpcId: string
  tags: Tags
  ingress: SandboxIpPermission[]
  egress: SandboxIpPermission[]
}

export interface SandboxNetworkInterface {
  networkInterfaceId: string
  region: string
  groupIds: string[]
  description: string
  status: 'in-use' | 'available'
  attachedInstanceId?: string
  tags: Tags
}

export interface SandboxLaunchTemplate {
  launchTemplateId: string
  launchTemplateName: string
  region: string
  /** Undefined when seeded with `createTime: null`. */
  createTime?: Date
  tags: Tags
}

/** One request the sandbox received, as tests assert on it. */
export interface CallRecord {
  seq: number
  service: 'ec2' | 'sns' | 'sts' | 'pricing' | 'iam' | 'unknown'
  action: string
  /** From the SigV4 credential scope; undefined for unsigned calls (AssumeRoleWithWebIdentity). */
  region?: string
  accessKeyId?: string
  /** The form parameters as sent, Action and Version included. */
  params: Record<string, string>
  /** HTTP status answered; 0 while there is no answer (pending, dropped, silenced, client gone). */
  status: number
  /**
   * What became of the call: `pending` (delayed, not answered yet), `answered`, `dropped` (socket
   * destroyed by a `drop` fault), `silenced` (a `silence` fault: the socket was left open and never
   * written), `client-closed` (the client hung up while the call was delayed; it was processed anyway).
   */
  outcome: 'pending' | 'answered' | 'dropped' | 'silenced' | 'client-closed'
  /** How long the call was held before processing: `requestDelayMs` plus matching `slow` faults. */
  delayMs: number
  /** `performance.now()` when the answer was written (answered calls only). */
  answeredAt?: number
  /** `performance.now()` when a silenced call's socket closed (the client gave up, or `close()`). */
  closedAt?: number
  /** AWS error code answered, if any. */
  errorCode?: string
  /**
   * `performance.now()` of the sandbox's process when the request arrived (before its body was
   * read): a client spawned from the same process can time its start-up against it.
   */
  receivedAt: number
}

export interface PublishedMessage {
  topicArn: string
  region?: string
  accessKeyId?: string
  subject?: string
  message: string
  messageStructure?: string
  messageId: string
}

export interface AssumedRole {
  roleArn: string
  roleSessionName: string
  webIdentityToken: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
}
