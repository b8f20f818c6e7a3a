/**
 * The IAM actions the bundle really calls, read from what the sandbox received, against
 * `requiredPermissions(...)` (the list the docs and the shipped policies are checked against): a
 * run never calls an action its mode's policy does not grant, and with something of every kind to
 * act on it calls every one of them — the list is neither short nor padded.
 */
import { describe, expect, it } from '@jest/globals'
import { requiredPermissions } from '../../src/report/required-permissions.js'
import { type ResourceKind, type SweepAction } from '../../src/model/types.js'
import { KIND_NAMES } from '../../src/kinds/names.js'
import { KIND_MODULES } from '../../src/kinds/registry.js'
import { orphansFleet } from '../../__fixtures__/orphans-fleet.js'
import {
  DEFAULT_TOPIC_ARN,
  packerIamLeftovers,
  packerName,
  type FleetSeed,
  type IamSeed,
  type PackerIamState,
  type Sandbox
} from '../../sandbox/index.js'
import { sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { describeRun } from './harness.js'

const { start } = sandboxPerTest()
const REGIONS = ['us-east-1', 'eu-west-1']
const INCOMPLETE = { 'packer-build': 'incomplete' }
const UNLISTED = 'ca-central-1'

const SOURCE_IMAGE = 'ami-0c000000000000001'
const SOURCE_SNAPSHOT = 'snap-0c000000000000001'
const EBS_BUILDER = 'i-0c000000000000001'

/**
 * Debris of every kind in both regions: a stale builder, its key pair, group and a spot template;
 * and a cancelled build's builder that keeps a volume inherited from its source image and whose
 * image still carries the incomplete tag.
 */
function debrisFleet(): FleetSeed {
  const name = packerName(5 * 3600)
  return {
    ...orphansFleet(),
    'eu-west-1': {
      snapshots: [{ snapshotId: SOURCE_SNAPSHOT, volumeSize: 20, ownerId: '137112412989' }],
      images: [
        {
          imageId: SOURCE_IMAGE,
          name: 'base',
          ownerId: '137112412989',
          public: true,
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', size: 8 },
            { deviceName: '/dev/sdf', snapshotId: SOURCE_SNAPSHOT, size: 20, deleteOnTermination: false }
          ]
        },
        { name: 'interrupted', age: '4h', sourceInstanceId: EBS_BUILDER, tags: INCOMPLETE }
      ],
      instances: [
        { ref: 'euw1-stale', keyName: name, age: '5h', securityGroupIds: ['sg-0c000000000000001'] },
        { ref: 'euw1-spot', keyName: name, age: '5h', lifecycle: 'spot', instanceType: 'm5.large' },
        {
          id: EBS_BUILDER,
          keyName: name,
          age: '5h',
          state: 'stopped',
          imageId: SOURCE_IMAGE,
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', size: 8, deleteOnTermination: true },
            { deviceName: '/dev/sdf', snapshotId: SOURCE_SNAPSHOT, size: 20, deleteOnTermination: false }
          ]
        }
      ],
      keyPairs: [{ keyName: name, age: '5h' }],
      securityGroups: [{ groupId: 'sg-0c000000000000001', groupName: name, description: 'Temporary group for Packer' }],
      launchTemplates: [{ launchTemplateName: 'packer-fleet-launch-template-eu00001', age: '1d' }]
    }
  }
}

const IAM_STATES: readonly PackerIamState[] = [
  'profile-only',
  'profile-and-role',
  'role-with-policy-unattached',
  'full',
  'role-only',
  'role-with-policy'
]

/** IAM debris of every state a killed build or a failed clean-up leaves, each 5 hours old. */
function iamDebris(): IamSeed {
  const builds = IAM_STATES.map((state, i) => packerIamLeftovers({ ageSeconds: 5 * 3600, state, random: prngFor(i) }))
  return {
    roles: builds.flatMap((build) => build.roles ?? []),
    instanceProfiles: builds.flatMap((build) => build.instanceProfiles ?? [])
  }
}

/** A small reproducible generator per build, so that builds of the same age get different names. */
function prngFor(seed: number): () => number {
  let state = seed + 1
  return () => (state = (state * 48271) % 2147483647) / 2147483647
}

/**
 * `service:Action` of every request the sandbox received, but the web-identity exchange (the trust
 * policy's). DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot under
 * ec2:DeleteSnapshot, which EC2 checks without a call of its own.
 */
function receivedPermissions(s: Sandbox): string[] {
  return sorted(
    new Set(
      s.calls
        .flatMap((c) => [
          `${c.service}:${c.action}`,
          ...(c.action === 'DeregisterImage' && c.params.DeleteAssociatedSnapshots === 'true'
            ? ['ec2:DeleteSnapshot']
            : [])
        ])
        .filter((p) => p !== 'sts:AssumeRoleWithWebIdentity')
    )
  )
}

interface Mode {
  action: SweepAction
  resources: 'instances' | 'all' | 'instance-profiles'
  regions: 'list' | 'all'
  topic: boolean
  estimateCost?: boolean
}

const MODES: Mode[] = (['notify', 'stop', 'terminate'] as const).flatMap((action) =>
  (['instances', 'all'] as const).flatMap((resources) =>
    (['list', 'all'] as const).flatMap((regions) =>
      [false, true].map((topic) => ({ action, resources, regions, topic }))
    )
  )
)

/** IAM's kind alone: only IAM and the EC2 reads that guard it. */
const IAM_ONLY_MODES: Mode[] = (['notify', 'stop', 'terminate'] as const).map((action) => ({
  action,
  resources: 'instance-profiles',
  regions: 'list',
  topic: false
}))

const label = (m: Mode) =>
  `${m.action}, resources ${m.resources}, regions ${m.regions}${m.topic ? ', SNS' : ''}${m.estimateCost ? ', estimate-cost' : ''}`

/** estimate-cost adds its read-only price calls to a few modes: an on-demand and a spot builder are priced. */
const COST_MODES: Mode[] = [
  { action: 'terminate', resources: 'all', regions: 'list', topic: true, estimateCost: true },
  { action: 'notify', resources: 'instances', regions: 'all', topic: false, estimateCost: true }
]

function required(m: Mode): string[] {
  const resources: ResourceKind[] = m.resources === 'all' ? [...KIND_NAMES] : [m.resources]
  return requiredPermissions(KIND_MODULES, {
    action: m.action,
    resources,
    allRegions: m.regions === 'all',
    notify: m.topic,
    estimateCost: m.estimateCost ?? false
  })
}

async function runMode(m: Mode, fleet: FleetSeed, dryRun = false, iam: IamSeed = {}) {
  // With `regions` listed, one more region is enabled than it lists: the IAM usage check asks that one for profile associations.
  const s = await start({
    fleet,
    iam,
    regions: m.regions === 'list' ? [...REGIONS, UNLISTED] : REGIONS,
    notOptedIn: []
  })
  const run = await runAction({
    sandbox: s,
    inputs: {
      action: m.action,
      resources: m.resources,
      regions: m.regions === 'all' ? 'all' : REGIONS.join(','),
      'sns-topic-arn': m.topic ? DEFAULT_TOPIC_ARN : '',
      'dry-run': String(dryRun),
      'estimate-cost': String(m.estimateCost ?? false),
      'max-instances': '0',
      'max-resources': '0',
      // What lets the EBS kinds remove anything: they are selected only with `all`.
      ...(m.resources === 'all'
        ? { 'image-incomplete-tag': 'packer-build=incomplete', 'delete-inherited-volumes': 'true' }
        : {})
    }
  })
  // Every mode really ran in every region (a crash would call less and pass the subset check).
  if (run.report === undefined || run.report.regions.some((r) => r.status !== 'ok'))
    throw new Error(`run did not complete:\n${describeRun(run)}`)
  return { s, run }
}

describe('IAM actions called vs requiredPermissions()', () => {
  it.each([...MODES, ...COST_MODES, ...IAM_ONLY_MODES].map((m) => [label(m), m] as const))(
    '%s: with debris of every kind, exactly the required ones',
    async (_, m) => {
      const { s } = await runMode(m, debrisFleet(), false, iamDebris())
      expect(receivedPermissions(s)).toEqual(required(m))
    }
  )

  it.each(MODES.filter((m) => m.regions === 'list').map((m) => [label(m), m] as const))(
    '%s: on a clean fleet, a subset',
    async (_, m) => {
      const { s } = await runMode(m, { 'us-east-1': { instances: [{ keyName: 'deploy', age: '30d' }] } })
      const granted = required(m)
      for (const permission of receivedPermissions(s)) expect(granted).toContain(permission)
    }
  )

  it.each(
    [
      ...MODES.filter((m) => m.action !== 'notify' && m.regions === 'list' && m.topic),
      ...IAM_ONLY_MODES.filter((m) => m.action === 'terminate')
    ].map((m) => [label(m), m] as const)
  )(
    '%s, dry-run: a subset (DryRun proves the same permissions, nothing is published, IAM gets no write call)',
    async (_, m) => {
      const { s } = await runMode(m, debrisFleet(), true, iamDebris())
      const granted = required(m)
      const received = receivedPermissions(s)
      for (const permission of received) expect(granted).toContain(permission)
      expect(s.published).toEqual([])
      // IAM has no DryRun: its reads are made, its writes are not.
      if (m.resources !== 'instances')
        expect(received.filter((p) => p.startsWith('iam:'))).toEqual(granted.filter((p) => /^iam:(List|Get)/.test(p)))
      expect(received.filter((p) => /^iam:(Remove|Delete)/.test(p))).toEqual([])
    }
  )
})
