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
