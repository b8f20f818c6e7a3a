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
  describeImages: 'ec2:DescribeImages',
  describeImageAttribute: 'ec2:DescribeImageAttribute',
  describeSnapshots: 'ec2:DescribeSnapshots',
  deregisterImage: 'ec2:DeregisterImage',
  /** DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot under this permission (else `missing-permissions`). */
  deleteSnapshot: 'ec2:DeleteSnapshot',
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
  describeVolumes: 'ec2:DescribeVolumes',
  deleteVolume: 'ec2:DeleteVolume',
  assumeRoleWithWebIdentity: 'sts:AssumeRoleWithWebIdentity'
} as const

export type Permission = (typeof PERMISSION)[keyof typeof PERMISSION]
