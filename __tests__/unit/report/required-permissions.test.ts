import { describe, expect, it } from '@jest/globals'
import { PERMISSION } from '../../../src/model/permissions.js'
import { requiredPermissions, type PermissionNeeds } from '../../../src/report/required-permissions.js'
import { SWEEP_ACTIONS } from '../../../src/model/types.js'
import { KIND_NAMES } from '../../../src/kinds/names.js'
import { KIND_MODULES } from '../../../src/kinds/registry.js'

const needs = (overrides: Partial<PermissionNeeds>): PermissionNeeds => ({
  action: 'notify',
  resources: ['instances'],
  allRegions: false,
  notify: false,
  ...overrides
})

describe('PERMISSION', () => {
  it('every entry is service:Action', () => {
    for (const permission of Object.values(PERMISSION))
      expect(permission).toMatch(/^(ec2|iam|sns|sts|pricing):[A-Z][A-Za-z]+$/)
  })
})

describe('requiredPermissions', () => {
  const KEY_READ = ['ec2:DescribeKeyPairs']
  const SG_READ = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups']
  const LT_READ = ['ec2:DescribeLaunchTemplates']
  /** Images: launch permissions need DescribeImageAttribute per image; snapshots are read for their tags and sizes. */
  const IMAGE_READ = ['ec2:DescribeImageAttribute', 'ec2:DescribeImages', 'ec2:DescribeSnapshots']
  /** DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot under ec2:DeleteSnapshot. */
  const IMAGE_REMOVE = ['ec2:DeleteSnapshot', 'ec2:DeregisterImage']
  /** Volumes: the source image's mappings, and its snapshots when a mapping needs them. */
  const VOLUME_READ = ['ec2:DescribeImages', 'ec2:DescribeSnapshots', 'ec2:DescribeVolumes']
  /** Every EC2 removal of the leftover kinds, only in terminate. */
  const EC2_REMOVE = [
    'ec2:DeleteKeyPair',
    'ec2:DeleteLaunchTemplate',
    'ec2:DeleteSecurityGroup',
    ...IMAGE_REMOVE,
    'ec2:DeleteVolume'
  ].sort()
  /** IAM is global: every enabled region (DescribeRegions, even without `regions: all`) is asked which instances use a profile. */
  const IP_READ = [
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:DescribeRegions',
    'iam:ListAttachedRolePolicies',
    'iam:ListInstanceProfileTags',
    'iam:ListInstanceProfiles',
    'iam:ListRolePolicies',
    'iam:ListRoleTags',
    'iam:ListRoles'
  ]
  /** Packer's own clean-up calls, only in terminate. */
  const IP_REMOVE = [
    'iam:DeleteInstanceProfile',
    'iam:DeleteRole',
    'iam:DeleteRolePolicy',
    'iam:RemoveRoleFromInstanceProfile'
  ]
  /**
   * What notify with every kind, every region and a topic calls. Every enabled region is swept and
   * lists its live instances: those listings say which instances use a profile, so no region is
   * asked for its profile associations.
   */
  const ALL_READ = [
    ...new Set([
      'ec2:DescribeInstances',
      ...KEY_READ,
      ...LT_READ,
      ...SG_READ,
      ...IP_READ,
      ...IMAGE_READ,
      ...VOLUME_READ,
      'ec2:DescribeRegions',
      'sns:Publish'
    ])
  ]
    .filter((permission) => permission !== 'ec2:DescribeIamInstanceProfileAssociations')
    .sort()

  it.each([
    // instances only
    ['notify instances', needs({}), ['ec2:DescribeInstances']],
    ['stop instances', needs({ action: 'stop' }), ['ec2:DescribeInstances', 'ec2:StopInstances']],
    ['terminate instances', needs({ action: 'terminate' }), ['ec2:DescribeInstances', 'ec2:TerminateInstances']],
    // regions: all
    ['notify, all regions', needs({ allRegions: true }), ['ec2:DescribeInstances', 'ec2:DescribeRegions']],
    [
      'terminate, all regions',
      needs({ action: 'terminate', allRegions: true }),
      ['ec2:DescribeInstances', 'ec2:DescribeRegions', 'ec2:TerminateInstances']
    ],
    // sns
    ['notify with a topic', needs({ notify: true }), ['ec2:DescribeInstances', 'sns:Publish']],
    [
      'stop with a topic',
      needs({ action: 'stop', notify: true }),
      ['ec2:DescribeInstances', 'ec2:StopInstances', 'sns:Publish']
    ],
    // orphans: read always, delete only on terminate
    ['notify key pairs', needs({ resources: ['key-pairs'] }), ['ec2:DescribeInstances', ...KEY_READ]],
    [
      'stop key pairs (nothing to stop)',
      needs({ action: 'stop', resources: ['key-pairs'] }),
      ['ec2:DescribeInstances', ...KEY_READ]
    ],
    [
      'terminate key pairs',
      needs({ action: 'terminate', resources: ['key-pairs'] }),
      ['ec2:DeleteKeyPair', 'ec2:DescribeInstances', ...KEY_READ]
    ],
    ['notify security groups', needs({ resources: ['security-groups'] }), [...SG_READ]],
    [
      'terminate security groups',
      needs({ action: 'terminate', resources: ['security-groups'] }),
      ['ec2:DeleteSecurityGroup', ...SG_READ]
    ],
    ['notify launch templates', needs({ resources: ['launch-templates'] }), ['ec2:DescribeInstances', ...LT_READ]],
    [
      'terminate launch templates',
      needs({ action: 'terminate', resources: ['launch-templates'] }),
      ['ec2:DeleteLaunchTemplate', 'ec2:DescribeInstances', ...LT_READ]
    ],
    ['notify images', needs({ resources: ['images'] }), ['ec2:DescribeInstances', ...IMAGE_READ].sort()],
    [
      'stop images (nothing to stop)',
      needs({ action: 'stop', resources: ['images'] }),
      ['ec2:DescribeInstances', ...IMAGE_READ].sort()
    ],
    [
      'terminate images: deregistered with their snapshots',
      needs({ action: 'terminate', resources: ['images'] }),
      ['ec2:DescribeInstances', ...IMAGE_READ, ...IMAGE_REMOVE].sort()
    ],
    ['notify volumes', needs({ resources: ['volumes'] }), ['ec2:DescribeInstances', ...VOLUME_READ].sort()],
    [
      'terminate volumes',
      needs({ action: 'terminate', resources: ['volumes'] }),
      ['ec2:DeleteVolume', 'ec2:DescribeInstances', ...VOLUME_READ].sort()
    ],
    // Instance profiles alone read no instances: their users come from DescribeIamInstanceProfileAssociations.
    ['notify instance profiles', needs({ resources: ['instance-profiles'] }), [...IP_READ].sort()],
    [
      'stop instance profiles (nothing to stop)',
      needs({ action: 'stop', resources: ['instance-profiles'] }),
      [...IP_READ].sort()
    ],
    [
      'terminate instance profiles',
      needs({ action: 'terminate', resources: ['instance-profiles'] }),
      [...IP_READ, ...IP_REMOVE].sort()
    ],
    [
      'terminate instance profiles, all regions: DescribeRegions once',
      needs({ action: 'terminate', resources: ['instance-profiles'], allRegions: true }),
      [...IP_READ, ...IP_REMOVE].sort()
    ],
    [
      'stop without instances: no StopInstances',
      needs({ action: 'stop', resources: ['launch-templates'] }),
      ['ec2:DescribeInstances', ...LT_READ]
    ],
    [
      'terminate without instances: no TerminateInstances',
      needs({ action: 'terminate', resources: ['key-pairs'] }),
      ['ec2:DeleteKeyPair', 'ec2:DescribeInstances', ...KEY_READ]
    ],
    // everything
    [
      'notify everything everywhere with a topic',
      needs({ resources: [...KIND_NAMES], allRegions: true, notify: true }),
      ALL_READ
    ],
    [
      'stop everything everywhere with a topic',
      needs({ action: 'stop', resources: [...KIND_NAMES], allRegions: true, notify: true }),
      [...ALL_READ, 'ec2:StopInstances'].sort()
    ],
    [
      'terminate everything everywhere with a topic',
      needs({ action: 'terminate', resources: [...KIND_NAMES], allRegions: true, notify: true }),
      [...ALL_READ, ...EC2_REMOVE, 'ec2:TerminateInstances', ...IP_REMOVE].sort()
    ],
    [
      'every kind in listed regions: the regions not listed are asked for profile associations',
      needs({ resources: [...KIND_NAMES], notify: true }),
      [...ALL_READ, 'ec2:DescribeIamInstanceProfileAssociations'].sort()
    ],
    [
      'instance profiles and instances in every region: no listing of live instances is made, so associations are asked',
      needs({ resources: ['instances', 'instance-profiles'], allRegions: true }),
      ['ec2:DescribeInstances', ...IP_READ].sort()
    ],
    // estimate-cost: list prices and spot prices, in every mode that asks for them
    [
      'notify with estimate-cost',
      needs({ estimateCost: true }),
      ['ec2:DescribeInstances', 'ec2:DescribeSpotPriceHistory', 'pricing:GetProducts']
    ],
    [
      'estimate-cost off: neither',
      needs({ action: 'terminate', estimateCost: false }),
      ['ec2:DescribeInstances', 'ec2:TerminateInstances']
    ]
  ])('%s', (_title, input, expected) => {
    expect(requiredPermissions(KIND_MODULES, input)).toEqual(expected)
  })

  /** Every kind but the IAM sweep's, which asks every enabled region. */
  const EC2_KINDS = KIND_NAMES.filter((kind) => kind !== 'instance-profiles')
  const everyMode = SWEEP_ACTIONS.flatMap((action) =>
    [false, true].flatMap((allRegions) =>
      [false, true].flatMap((notify) =>
        [KIND_NAMES, EC2_KINDS].map((kinds) => needs({ action, allRegions, notify, resources: [...kinds] }))
      )
    )
  )

  it.each(everyMode)(
    '$action (all regions $allRegions, sns $notify, $resources.length kinds): sorted, unique, exactly what the mode calls',
    (input) => {
      const profiles = input.resources.includes('instance-profiles')
      const permissions = requiredPermissions(KIND_MODULES, input)
      expect(permissions).toEqual([...new Set(permissions)].sort())
      // The role's policy, not the trust policy: AssumeRoleWithWebIdentity is never listed.
      expect(permissions).not.toContain(PERMISSION.assumeRoleWithWebIdentity)
      // IAM is global: the profile check asks every enabled region, so instance-profiles needs DescribeRegions without `regions: all`.
      expect(permissions.includes(PERMISSION.describeRegions)).toBe(input.allRegions || profiles)
      expect(permissions.includes(PERMISSION.publish)).toBe(input.notify)
      expect(permissions.includes(PERMISSION.stopInstances)).toBe(input.action === 'stop')
      expect(permissions.includes(PERMISSION.terminateInstances)).toBe(input.action === 'terminate')
      const removals = permissions.filter(
        (permission) => permission.startsWith('ec2:Delete') || permission.startsWith('ec2:Deregister')
      )
      expect(removals).toEqual(input.action === 'terminate' ? EC2_REMOVE : [])
      // IAM has no DryRun and no stop: its writes are granted only for terminate, and only with the kind.
      const iamWrites = permissions.filter(
        (permission) => permission.startsWith('iam:') && !permission.startsWith('iam:List')
      )
      expect(iamWrites).toEqual(input.action === 'terminate' && profiles ? IP_REMOVE : [])
      expect(permissions.filter((permission) => permission.startsWith('iam:List'))).toEqual(
        profiles ? IP_READ.filter((p) => p.startsWith('iam:')) : []
      )
    }
  )
})
