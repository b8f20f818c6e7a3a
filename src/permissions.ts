import type { ResourceKind, SweepAction } from './types.js'

/**
 * The IAM actions each AWS call of the sweep needs. This is the single list the code, the
 * error messages and the shipped policies (deploy/) are checked against, so a new call cannot
 * go out without its permission being documented.
 */
export const PERMISSION = {
  describeRegions: 'ec2:DescribeRegions',
  describeInstances: 'ec2:DescribeInstances',
  stopInstances: 'ec2:StopInstances',
  terminateInstances: 'ec2:TerminateInstances',
  describeKeyPairs: 'ec2:DescribeKeyPairs',
  deleteKeyPair: 'ec2:DeleteKeyPair',
  describeSecurityGroups: 'ec2:DescribeSecurityGroups',
  describeNetworkInterfaces: 'ec2:DescribeNetworkInterfaces',
  deleteSecurityGroup: 'ec2:DeleteSecurityGroup',
  describeLaunchTemplates: 'ec2:DescribeLaunchTemplates',
  deleteLaunchTemplate: 'ec2:DeleteLaunchTemplate',
  describeIamInstanceProfileAssociations: 'ec2:DescribeIamInstanceProfileAssociations',
  listInstanceProfiles: 'iam:ListInstanceProfiles',
  listInstanceProfileTags: 'iam:ListInstanceProfileTags',
  listRoles: 'iam:ListRoles',
  listRoleTags: 'iam:ListRoleTags',
  listRolePolicies: 'iam:ListRolePolicies',
  listAttachedRolePolicies: 'iam:ListAttachedRolePolicies',
  removeRoleFromInstanceProfile: 'iam:RemoveRoleFromInstanceProfile',
  deleteRolePolicy: 'iam:DeleteRolePolicy',
  deleteRole: 'iam:DeleteRole',
  deleteInstanceProfile: 'iam:DeleteInstanceProfile',
  publish: 'sns:Publish',
  getProducts: 'pricing:GetProducts',
  describeSpotPriceHistory: 'ec2:DescribeSpotPriceHistory',
  assumeRoleWithWebIdentity: 'sts:AssumeRoleWithWebIdentity'
} as const

export type Permission = (typeof PERMISSION)[keyof typeof PERMISSION]

/** What the orphan sweep of each kind reads and deletes. */
const ORPHAN_PERMISSIONS: Record<Exclude<ResourceKind, 'instances'>, { read: Permission[]; remove: Permission[] }> = {
  'key-pairs': { read: [PERMISSION.describeKeyPairs], remove: [PERMISSION.deleteKeyPair] },
  'security-groups': {
    read: [PERMISSION.describeSecurityGroups, PERMISSION.describeNetworkInterfaces],
    remove: [PERMISSION.deleteSecurityGroup]
  },
  'launch-templates': { read: [PERMISSION.describeLaunchTemplates], remove: [PERMISSION.deleteLaunchTemplate] },
  // Global: every enabled region is asked which instances use a profile, whatever `regions` says.
  'instance-profiles': {
    read: [
      PERMISSION.describeRegions,
      PERMISSION.describeIamInstanceProfileAssociations,
      PERMISSION.listInstanceProfiles,
      PERMISSION.listInstanceProfileTags,
      PERMISSION.listRoles,
      PERMISSION.listRoleTags,
      PERMISSION.listRolePolicies,
      PERMISSION.listAttachedRolePolicies
    ],
    remove: [PERMISSION.removeRoleFromInstanceProfile, PERMISSION.deleteRolePolicy, PERMISSION.deleteRole, PERMISSION.deleteInstanceProfile]
  }
}

export interface PermissionNeeds {
  action: SweepAction
  resources: readonly ResourceKind[]
  /** True when `regions: all`, which needs DescribeRegions. */
  allRegions: boolean
  /** True when `sns-topic-arn` is set. */
  notify: boolean
  /** True when `estimate-cost` is on: list prices and spot prices. */
  estimateCost?: boolean
}

/**
 * The IAM actions a run with these settings calls (the role's, not the trust policy's), sorted.
 * Dry-run needs the same ones: EC2 checks them with DryRun (IAM has no DryRun: a dry run makes no
 * IAM write call, so it proves none of the IAM removals).
 */
export function requiredPermissions(needs: PermissionNeeds): Permission[] {
  // Every kind but IAM's reads instances (discovery, or who uses a leftover); IAM alone asks EC2 only for profile associations.
  const granted = new Set<Permission>(needs.resources.some((kind) => kind !== 'instance-profiles') ? [PERMISSION.describeInstances] : [])
  if (needs.allRegions) granted.add(PERMISSION.describeRegions)
  if (needs.action === 'stop' && needs.resources.includes('instances')) granted.add(PERMISSION.stopInstances)
  if (needs.action === 'terminate' && needs.resources.includes('instances')) granted.add(PERMISSION.terminateInstances)
  for (const kind of needs.resources) {
    if (kind === 'instances') continue
    const orphan = ORPHAN_PERMISSIONS[kind]
    orphan.read.forEach((permission) => granted.add(permission))
    // Only terminate deletes leftovers: stop has nothing to stop on a key pair, group, template or profile.
    if (needs.action === 'terminate') orphan.remove.forEach((permission) => granted.add(permission))
  }
  if (needs.notify) granted.add(PERMISSION.publish)
  if (needs.estimateCost) [PERMISSION.getProducts, PERMISSION.describeSpotPriceHistory].forEach((permission) => granted.add(permission))
  return [...granted].sort()
}
