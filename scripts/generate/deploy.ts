/**
 * The IAM actions of the shipped policies, from the permission oracle (src/report/required-permissions.ts)
 * over the kinds it is handed: deploy/iam-policy.json whole, and the lists of deploy/cloudformation.yml and
 * deploy/terraform/main.tf that grow with the kinds (what the leftover sweep reads, what the keep tag
 * protects). npm run docs writes them (scripts/readme-tables.ts); the repo tests fail when one is stale.
 *
 * What the oracle cannot say is in POLICY_STATEMENTS below, the one table of it: how iam-policy.json groups
 * the actions into statements, and on which resources IAM may allow each change (a key pair's ARN ends in
 * its name, Packer's IAM names are packer-<uuid>). A kind's module does not know ARNs; a kind with a new
 * change action gets a row here (the generator refuses to grant a change on "*").
 */
import { isBuilderKind, isLeftoverKind, type KindModule } from '../../src/engine/kind.js'
import { PERMISSION, type Permission } from '../../src/model/permissions.js'
import { requiredPermissions, type PermissionNeeds } from '../../src/report/required-permissions.js'

type RunExtras = Omit<PermissionNeeds, 'resources'>

/**
 * What a role must allow to run every sweep its settings allow: the oracle's actions for each choice of
 * `resources` among the kinds, together (a choice can need more than all kinds do: instance-profiles
 * without a regional kind asks every region for profile associations).
 */
export function roleNeeds(kinds: readonly KindModule[], extras: RunExtras): Permission[] {
  const names = kinds.map((kind) => kind.name)
  const granted = new Set<Permission>()
  for (let bits = 1; bits < 2 ** names.length; bits++) {
    const resources = names.filter((_name, index) => (bits >> index) & 1)
    requiredPermissions(kinds, { ...extras, resources }).forEach((permission) => granted.add(permission))
  }
  return [...granted].sort()
}

const READ_ONLY: RunExtras = { action: 'notify', allRegions: false, notify: false }

/** Every change a kind can make (stop or terminate), sorted: what the keep tag's Deny covers. */
export function kindChanges(kinds: readonly KindModule[]): Permission[] {
  const resources = kinds.map((kind) => kind.name)
  const reads = new Set(requiredPermissions(kinds, { ...READ_ONLY, resources }))
  const changes = (['stop', 'terminate'] as const).flatMap((action) =>
    requiredPermissions(kinds, { ...READ_ONLY, action, resources })
  )
  return [...new Set(changes)].filter((permission) => !reads.has(permission)).sort()
}

/**
 * A leftover kind every permission of which is EC2's (key pairs, groups, templates, images, volumes),
 * swept per region or once over the swept regions: what OrphanSweep and orphan_sweep switch, in
 * statements limited to the swept regions. IAM's instance profiles are IamSweep's.
 */
function isEc2Leftover(kind: KindModule): boolean {
  const { read, stop, terminate } = kind.permissions
  return isLeftoverKind(kind) && [...read, ...stop, ...terminate].every((permission) => permission.startsWith('ec2:'))
}

/** What the EC2 leftover kinds, regional or account-wide, read beyond what the builders read (CloudFormation's OrphanSweep, Terraform's orphan_sweep). */
export function leftoverReads(kinds: readonly KindModule[]): Permission[] {
  const builders = kinds.filter(isBuilderKind).map((kind) => kind.name)
  const leftovers = kinds.filter(isEc2Leftover).map((kind) => kind.name)
  const own = new Set(requiredPermissions(kinds, { ...READ_ONLY, resources: builders }))
  return requiredPermissions(kinds, { ...READ_ONLY, resources: [...builders, ...leftovers] }).filter(
    (permission) => !own.has(permission)
  )
}

/** The keep tag's Deny statements, one per service a change belongs to. */
const KEEP_DENIES = [
  { Sid: 'NeverTouchKeptResources', service: 'ec2' },
  { Sid: 'NeverTouchKeptIamResources', service: 'iam' }
] as const

/** Every resource carrying the keep tag (action.yml's default exclude-tag), whatever its value. */
const KEEP_CONDITION = { Null: { 'aws:ResourceTag/packer-sweeper:keep': 'false' } }

/** The changes of one service the keep tag's Deny covers; a change of a service without a Deny is refused. */
export function keptChanges(
  kinds: readonly KindModule[],
  service: (typeof KEEP_DENIES)[number]['service']
): Permission[] {
  const changes = kindChanges(kinds)
  const uncovered = changes.filter(
    (permission) => !KEEP_DENIES.some((deny) => permission.startsWith(`${deny.service}:`))
  )
  if (uncovered.length > 0)
    throw new Error(
      `${uncovered.join(', ')}: no keep-tag Deny for its service; add one to KEEP_DENIES in scripts/generate/deploy.ts`
    )
  return changes.filter((permission) => permission.startsWith(`${service}:`))
}

/** The terminate + every kind + all regions + SNS + estimate-cost mode: deploy/iam-policy.json's. */
export const FULL_POLICY: RunExtras = { action: 'terminate', allRegions: true, notify: true, estimateCost: true }

const PACKER_ROLES = 'arn:aws:iam::*:role/packer-????????-????-????-????-????????????'
const PACKER_PROFILES = 'arn:aws:iam::*:instance-profile/packer-????????-????-????-????-????????????'

interface StatementRow {
  Sid: string
  /** The actions it grants, of those the oracle says the mode needs; absent: every read no other row names. */
  actions?: readonly Permission[]
  Resource: string | readonly string[]
}

/**
 * deploy/iam-policy.json's Allow statements, in order, and the resources each grants on (`*` for any
 * account: the plain policy does not know it). Describe calls take no resource-level permissions;
 * IAM's List calls are authorized on the path they list, not the names they return; the other IAM
 * calls only on names of Packer's exact shape (never a packer-sweeper role); RemoveRoleFromInstanceProfile
 * on the profile and on the role.
 */
export const POLICY_STATEMENTS: readonly StatementRow[] = [
  { Sid: 'FindPackerBuildersAndLeftovers', Resource: '*' },
  { Sid: 'TerminateStaleBuilders', actions: [PERMISSION.terminateInstances], Resource: 'arn:aws:ec2:*:*:instance/*' },
  { Sid: 'DeletePackerKeyPairs', actions: [PERMISSION.deleteKeyPair], Resource: 'arn:aws:ec2:*:*:key-pair/packer_*' },
  {
    Sid: 'DeletePackerGroupsAndTemplates',
    actions: [PERMISSION.deleteLaunchTemplate, PERMISSION.deleteSecurityGroup],
    Resource: ['arn:aws:ec2:*:*:launch-template/*', 'arn:aws:ec2:*:*:security-group/*']
  },
  {
    Sid: 'ListInstanceProfiles',
    actions: [PERMISSION.listInstanceProfiles],
    Resource: 'arn:aws:iam::*:instance-profile/*'
  },
  { Sid: 'ListRoles', actions: [PERMISSION.listRoles], Resource: 'arn:aws:iam::*:role/*' },
  { Sid: 'ReadPackerInstanceProfiles', actions: [PERMISSION.listInstanceProfileTags], Resource: PACKER_PROFILES },
  {
    Sid: 'ReadPackerRoles',
    actions: [PERMISSION.listAttachedRolePolicies, PERMISSION.listRolePolicies, PERMISSION.listRoleTags],
    Resource: PACKER_ROLES
  },
  {
    Sid: 'RemovePackerRolesFromProfiles',
    actions: [PERMISSION.removeRoleFromInstanceProfile],
    Resource: [PACKER_PROFILES, PACKER_ROLES]
  },
  { Sid: 'DeletePackerRoles', actions: [PERMISSION.deleteRole, PERMISSION.deleteRolePolicy], Resource: PACKER_ROLES },
  { Sid: 'DeletePackerInstanceProfiles', actions: [PERMISSION.deleteInstanceProfile], Resource: PACKER_PROFILES },
  {
    // Image and snapshot ARNs carry no account (arn:aws:ec2:<region>::image/ami-…, ::snapshot/snap-…); EC2
    // deregisters only the caller's own images and deletes only its own snapshots. DeregisterImage's
    // DeleteAssociatedSnapshots deletes each snapshot under ec2:DeleteSnapshot on the snapshot's ARN.
    Sid: 'DeregisterInterruptedImages',
    actions: [PERMISSION.deregisterImage, PERMISSION.deleteSnapshot],
    Resource: ['arn:aws:ec2:*::image/*', 'arn:aws:ec2:*::snapshot/*']
  },
  { Sid: 'DeleteInheritedVolumes', actions: [PERMISSION.deleteVolume], Resource: 'arn:aws:ec2:*:*:volume/*' },
  {
    Sid: 'ReadPricesForEstimateCost',
    actions: [PERMISSION.describeSpotPriceHistory, PERMISSION.getProducts],
    Resource: '*'
  },
  { Sid: 'PublishToTheSweeperTopic', actions: [PERMISSION.publish], Resource: 'arn:aws:sns:*:*:packer-sweeper' }
]

interface PolicyStatement {
  Sid: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: string | string[]
  Condition?: typeof KEEP_CONDITION
}

/** One value, or a list of several, as IAM policies are usually written. */
const oneOrMany = (values: readonly string[]): string | string[] =>
  values.length === 1 ? (values[0] as string) : [...values].sort()

/** deploy/iam-policy.json: the oracle's actions for FULL_POLICY in POLICY_STATEMENTS, then the keep tag's Denies. */
export function iamPolicy(kinds: readonly KindModule[]): { Version: string; Statement: PolicyStatement[] } {
  const needed = roleNeeds(kinds, FULL_POLICY)
  const changes = new Set<Permission>(kindChanges(kinds))
  const named = new Set<Permission>(POLICY_STATEMENTS.flatMap((row) => row.actions ?? []))
  const unscoped = needed.filter((permission) => changes.has(permission) && !named.has(permission))
  if (unscoped.length > 0) {
    throw new Error(
      `${unscoped.join(', ')}: a change needs the resources it may act on; add a row to POLICY_STATEMENTS in scripts/generate/deploy.ts`
    )
  }
  const allow = POLICY_STATEMENTS.flatMap((row): PolicyStatement[] => {
    const actions = needed.filter((permission) =>
      row.actions ? row.actions.includes(permission) : !named.has(permission)
    )
    if (actions.length === 0) return []
    return [
      {
        Sid: row.Sid,
        Effect: 'Allow',
        Action: oneOrMany(actions),
        Resource: typeof row.Resource === 'string' ? row.Resource : oneOrMany(row.Resource)
      }
    ]
  })
  const deny = KEEP_DENIES.map(({ Sid, service }): PolicyStatement => ({
    Sid,
    Effect: 'Deny',
    Action: oneOrMany(keptChanges(kinds, service)),
    Resource: '*',
    Condition: KEEP_CONDITION
  }))
  return { Version: '2012-10-17', Statement: [...allow, ...deny] }
}

export function renderIamPolicy(kinds: readonly KindModule[]): string {
  return `${JSON.stringify(iamPolicy(kinds), null, 2)}\n`
}

/** A list of IAM actions as the file around it writes one: YAML sequence lines, or a Terraform list. */
export function permissionList(file: string, actions: readonly Permission[]): string {
  if (file.endsWith('.tf')) return `actions = [${actions.map((action) => `"${action}"`).join(', ')}]`
  if (file.endsWith('.yml')) return actions.map((action) => `- ${action}`).join('\n')
  throw new Error(`${file}: no list syntax for IAM actions in this kind of file`)
}
