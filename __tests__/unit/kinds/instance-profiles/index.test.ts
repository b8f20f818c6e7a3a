/** The IAM kind through the leftover engine (planInstanceProfiles and sweepInstanceProfiles in ./harness.ts) against the in-process sandbox, with the real IAMClient and EC2Client. */
import { TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { GLOBAL_REGION } from '../../../../src/engine/kind.js'
import { iamRun, planInstanceProfiles, reported, sweepInstanceProfiles, type IamScopeFields } from './harness.js'
import type { LeftoverRun } from '../../engine/harness.js'
import type { IamFinding, RemovalStepOutcome } from '../../../../src/kinds/instance-profiles/rules.js'
import type { Inputs } from '../../../../src/model/types.js'
import {
  packerIamLeftovers,
  startSandbox,
  type CallRecord,
  type PackerIamState,
  type Sandbox
} from '../../../../sandbox/index.js'
import { ec2, iam, type ClientOptions } from '../../../sandbox/sdk.js'
import { defaultInputs } from '../../../../__fixtures__/support.js'

const REGIONS = ['us-east-1', 'eu-west-1']
const QUICK_WAIT = { maxWaitSeconds: 1, minDelaySeconds: 1, maxDelaySeconds: 1 }
const RUN_TAGS = { team: 'images' }

let s: Sandbox
let now: Date
let clients: { destroy(): void }[]

beforeEach(async () => {
  s = await startSandbox({ regions: REGIONS })
  now = new Date()
  clients = []
})
afterEach(async () => {
  clients.forEach((client) => client.destroy())
  await s.close()
})

/** Seeds one build's IAM leftovers in `state`, `hours` old, and answers their name. */
function seedLeftovers(state: PackerIamState, hours = 3, tags: Record<string, string> = RUN_TAGS): string {
  const seed = packerIamLeftovers({ ageSeconds: hours * 3600, state, tags, now: now.getTime() })
  s.iam.seed(seed, now.getTime())
  return seed.name
}

/** A builder in `region` running with the instance profile `name`; answers its ID. */
function seedBuilder(region: string, name: string): string {
  s.fleet.seed({ [region]: { instances: [{ ref: `builder-${name}`, iamInstanceProfile: s.iam.profileRef(name) }] } })
  return s.fleet.byRef(`builder-${name}`).id
}

/** A terminate run in us-east-1 with action.yml's other defaults, every enabled region checked for users. */
function context(
  inputs: Partial<Inputs> = {},
  overrides: Partial<IamScopeFields> = {},
  options: ClientOptions = {}
): LeftoverRun {
  const track = <T extends { destroy(): void }>(client: T): T => {
    clients.push(client)
    return client
  }
  const regional = new Map<string, EC2Client>()
  return iamRun({
    iam: track<IAMClient>(iam(s, 'us-east-1', options)),
    enabledRegions: REGIONS,
    ec2For: (region) => regional.get(region) ?? (regional.set(region, track(ec2(s, region))).get(region) as EC2Client),
    inputs: defaultInputs({ action: 'terminate', resources: ['instance-profiles'], ...inputs }),
    now,
    terminationWait: QUICK_WAIT,
    ...overrides
  })
}

async function planAndSweep(ctx: LeftoverRun, terminating: string[] = [], terminated = terminating) {
  const plan = await planInstanceProfiles(ctx, terminating)
  return { plan, findings: await sweepInstanceProfiles(ctx, plan, terminated) }
}

/** IAM calls that change something: IAM has no DryRun, so only terminate may make them. */
const iamWrites = () =>
  s.calls.filter((call) => call.service === 'iam' && !/^(List|Get)/.test(call.action)).map((call) => call.action)

const done = (...steps: RemovalStepOutcome['step'][]): RemovalStepOutcome[] =>
  steps.map((step) => ({ step, outcome: 'done' }))

const PACKER_ORDER = ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile']
/** What each IAM write waits for: IAM's own dependencies, and DeleteInstanceProfile after DeleteRole (a role IAM refuses to delete keeps its profile). */
const WAITS_FOR: Record<string, string[]> = {
  DeleteRole: ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy'],
  DeleteInstanceProfile: ['RemoveRoleFromInstanceProfile', 'DeleteRole']
}

/**
 * The IAM write calls in Packer's order, once each is shown to have been received only after
 * what it waits for (for the same build) was answered. The two independent ones may come in either order.
 */
function iamWritesInOrder(): string[] {
  const writes = s.calls.filter((call) => PACKER_ORDER.includes(call.action))
  const nameOf = (call: (typeof writes)[number]) => call.params.InstanceProfileName ?? call.params.RoleName
  for (const call of writes)
    expectAfter(
      call,
      writes.filter((other) => nameOf(other) === nameOf(call) && WAITS_FOR[call.action]?.includes(other.action))
    )
  return writes.map((call) => call.action).sort((a, b) => PACKER_ORDER.indexOf(a) - PACKER_ORDER.indexOf(b))
}

/** Each call was received before every other one was answered: they were in flight together. */
function expectSideBySide(calls: readonly CallRecord[]): void {
  expect(calls.length).toBeGreaterThan(1)
  for (const a of calls)
    for (const b of calls) if (a !== b) expect(a.receivedAt).toBeLessThan(b.answeredAt ?? -Infinity)
}

/** `call` was received only after every one of `before` was answered. */
function expectAfter(call: CallRecord | undefined, before: readonly (CallRecord | undefined)[]): void {
  for (const earlier of before) expect(call?.receivedAt).toBeGreaterThan(earlier?.answeredAt ?? Infinity)
}

describe('terminate removes every partial state completely, in Packer’s order', () => {
  it.each<[PackerIamState, RemovalStepOutcome['step'][], string]>([
    ['profile-only', ['delete-instance-profile'], 'profile deleted'],
    ['profile-and-role', ['delete-role', 'delete-instance-profile'], 'role deleted, profile deleted'],
    [
      'role-with-policy-unattached',
      ['delete-role-policy', 'delete-role', 'delete-instance-profile'],
      'inline policy deleted, role deleted, profile deleted'
    ],
    [
      'full',
      ['remove-role-from-profile', 'delete-role-policy', 'delete-role', 'delete-instance-profile'],
      'role removed from the profile, inline policy deleted, role deleted, profile deleted'
    ],
    ['role-only', ['delete-role'], 'role deleted'],
    ['role-with-policy', ['delete-role-policy', 'delete-role'], 'inline policy deleted, role deleted']
  ])('%s', async (state, steps, words) => {
    const name = seedLeftovers(state)
    const { plan, findings } = await planAndSweep(context())
    expect(plan.runErrors).toEqual([])
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'instance-profiles',
        id: name,
        name,
        region: GLOBAL_REGION,
        outcome: 'deleted',
        reason: words,
        ageSeconds: 3 * 3600,
        iam: {
          profile: state !== 'role-only' && state !== 'role-with-policy',
          ...(state === 'profile-only' ? {} : { role: name }),
          inlinePolicies: state === 'full' || state.startsWith('role-with-policy') ? [name] : [],
          steps: done(...steps)
        }
      })
    ])
    expect(s.iam.snapshot()).toEqual({ roles: [], instanceProfiles: [] })
    const ACTIONS = {
      'remove-role-from-profile': 'RemoveRoleFromInstanceProfile',
      'delete-role-policy': 'DeleteRolePolicy',
      'delete-role': 'DeleteRole',
      'delete-instance-profile': 'DeleteInstanceProfile'
    }
    expect(iamWritesInOrder()).toEqual(steps.map((step) => ACTIONS[step]))
  })
})

describe('a step IAM refuses', () => {
  it('the role taken out of the profile after the plan: the last look sees it, and the rest of the set is removed', async () => {
    const name = seedLeftovers('full')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    const profile = s.iam.instanceProfile(name)
    if (profile) profile.roles = []
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'deleted',
      // One level of parentheses once the outcome is printed around it: `deleted (…)`.
      reason: 'inline policy deleted, role deleted, profile deleted',
      iam: { steps: done('delete-role-policy', 'delete-role', 'delete-instance-profile') }
    })
    expect(iamWritesInOrder()).toEqual(['DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile'])
    expect(s.iam.snapshot()).toEqual({ roles: [], instanceProfiles: [] })
  })

  it('NoSuchEntity: the step is already gone and the rest continue', async () => {
    const name = seedLeftovers('profile-and-role')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    // Someone deleted the role after the last look: IAM answers NoSuchEntity.
    s.faults.fail({
      service: 'iam',
      action: 'DeleteRole',
      code: 'NoSuchEntity',
      status: 404,
      message: `The role with name ${name} cannot be found.`
    })
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'deleted',
      reason: 'role deleted already, profile deleted',
      iam: {
        steps: [
          { step: 'delete-role', outcome: 'already-gone' },
          { step: 'delete-instance-profile', outcome: 'done' }
        ]
      }
    })
    expect(s.iam.instanceProfile(name)).toBeUndefined()
  })

  it('a managed policy attached between the plan and the removal: read again first, nothing removed, nothing stripped', async () => {
    await expectLastLookStops(
      (name) => s.iam.role(name)?.attachedPolicyArns.push('arn:aws:iam::aws:policy/ReadOnlyAccess'),
      'the role has managed policies attached (arn:aws:iam::aws:policy/ReadOnlyAccess), which Packer never attaches'
    )
  })

  it('DeleteConflict: in use, with the reason and the steps done before; nothing forced, the profile kept', async () => {
    const name = seedLeftovers('full')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    // IAM refuses DeleteRole (a race the last look could not see): reported, never forced.
    refuseDeleteRole({ count: 1 })
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'in-use',
      reason:
        'IAM refused delete-role: something else uses it; done before: role removed from the profile, inline policy deleted',
      error: { code: 'DeleteConflict' },
      iam: {
        steps: [
          ...done('remove-role-from-profile', 'delete-role-policy'),
          { step: 'delete-role', outcome: 'failed', error: { code: 'DeleteConflict' } }
        ]
      }
    })
    expect(iamWritesInOrder()).toEqual(['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole'])
    expect(s.iam.role(name)).toBeDefined()
    expect(s.iam.instanceProfile(name)).toBeDefined()
  })

  it('throttling past the retries: failed, with the error and the steps done before', async () => {
    seedLeftovers('role-with-policy')
    s.faults.throttle({ service: 'iam', action: 'DeleteRole', count: 10 })
    const [finding] = (await planAndSweep(context({}, {}, { maxAttempts: 2 }))).findings
    expect(finding).toMatchObject({
      outcome: 'failed',
      reason: 'delete-role failed; done before: inline policy deleted',
      error: { code: 'Throttling' },
      iam: {
        steps: [
          ...done('delete-role-policy'),
          { step: 'delete-role', outcome: 'failed', error: { code: 'Throttling' } }
        ]
      }
    })
    expect(s.callsOf('DeleteRole')).toHaveLength(2)
  })
})

describe('profiles instances use', () => {
  it('a profile used in a region that is not swept (only enabled) is skipped, naming the instance and its region', async () => {
    const name = seedLeftovers('full')
    const builder = seedBuilder('eu-west-1', name)
    const before = s.iam.snapshot()
    const { plan, findings } = await planAndSweep(context({ regions: ['us-east-1'] }))
    expect(plan.changes).toBe(0)
    expect(reported(plan)).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: `in use by ${builder} in eu-west-1` })
    ])
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome: 'skipped', reason: `in use by ${builder} in eu-west-1` })
    ])
    expect(s.callsOf('DescribeIamInstanceProfileAssociations', 'eu-west-1')).toHaveLength(1)
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it('used only by builders this run terminates: removed after they read terminated', async () => {
    const name = seedLeftovers('full')
    const builder = seedBuilder('us-east-1', name)
    const ctx = context()
    const plan = await planInstanceProfiles(ctx, [builder])
    // Planned after the builder: the removal's reason names it, and the wait reads it back in us-east-1.
    expect(plan.changes).toBe(1)
    await ctx.scope.ec2For('us-east-1').send(new TerminateInstancesCommand({ InstanceIds: [builder] }))
    const [finding] = await sweepInstanceProfiles(ctx, plan, [builder])
    expect(finding).toMatchObject({
      outcome: 'deleted',
      reason: expect.stringMatching(new RegExp(`^after ${builder} terminated: role removed from the profile, [^()]*$`))
    })
    expect(s.iam.snapshot()).toEqual({ roles: [], instanceProfiles: [] })
    // The builder was read back as terminated before the first IAM write.
    const readBack = s.callsOf('DescribeInstances', 'us-east-1').map((call) => call.seq)
    const firstWrite = s.calls.find((call) => call.action === 'RemoveRoleFromInstanceProfile')?.seq as number
    expect(readBack.some((seq) => seq < firstWrite)).toBe(true)
  })

  it.each([
    ['the run did not terminate it', [] as string[]],
    ['the run counted it terminated but it still reads running', undefined]
  ])(
    'a builder this run meant to terminate still holds the profile when %s: in use, nothing removed',
    async (_, terminatedOverride) => {
      const name = seedLeftovers('full')
      const builder = seedBuilder('us-east-1', name)
      const before = s.iam.snapshot()
      const { findings } = await planAndSweep(context(), [builder], terminatedOverride ?? [builder])
      expect(findings).toEqual([
        expect.objectContaining({
          id: name,
          outcome: 'in-use',
          reason: `still used by ${builder} in us-east-1, which did not reach terminated`
        })
      ])
      expect(iamWrites()).toEqual([])
      expect(s.iam.snapshot()).toEqual(before)
    }
  )

  it('notify never counts on a termination: a builder of the run keeps its profile skipped', async () => {
    const name = seedLeftovers('full')
    const builder = seedBuilder('us-east-1', name)
    const plan = await planInstanceProfiles(context({ action: 'notify' }), [builder])
    expect(reported(plan)).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: `in use by ${builder} in us-east-1` })
    ])
  })
})

describe('a role another instance profile holds (issue 17): every part is judged before the first write', () => {
  /** Seeds a profile (not Packer's) holding the role `role`; answers the profile's name. */
  function seedHolder(profileName: string, role: string, path = '/'): string {
    s.iam.seed({ instanceProfiles: [{ instanceProfileName: profileName, path, roles: [role] }] }, now.getTime())
    return profileName
  }

  /** Plans and sweeps; asserts nothing was written to IAM and answers the findings. */
  async function sweepWritingNothing(ctx = context()): Promise<IamFinding[]> {
    const before = s.iam.snapshot()
    const { findings } = await planAndSweep(ctx)
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
    return findings
  }

  /** A running instance in `region` with the instance profile `profileName`; answers its ID. */
  function seedInstance(region: string, profileName: string): string {
    s.fleet.seed({
      [region]: { instances: [{ ref: `app-${profileName}`, iamInstanceProfile: s.iam.profileRef(profileName) }] }
    })
    return s.fleet.byRef(`app-${profileName}`).id
  }

  it('the full set whose role is also in my-app-profile, which a running instance uses: skipped, naming both, zero writes', async () => {
    const name = seedLeftovers('full')
    seedHolder('my-app-profile', name)
    const app = seedInstance('eu-west-1', 'my-app-profile')
    const before = s.iam.snapshot()
    const { plan, findings } = await planAndSweep(context({ regions: ['us-east-1'] }))
    const reason = `in use by instance profile my-app-profile, itself used by ${app} in eu-west-1`
    expect(reported(plan)).toEqual([expect.objectContaining({ outcome: 'skipped', reason })])
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome: 'skipped', reason, iam: expect.objectContaining({ steps: [] }) })
    ])
    expect(plan.changes).toBe(0)
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it.each<[string, PackerIamState]>([
    ['the role with its inline policy, no profile of its own', 'role-with-policy'],
    ['the role alone', 'role-only'],
    ['profile, role and policy, the role not in its own profile', 'role-with-policy-unattached'],
    ['the full set', 'full']
  ])('%s, the role also in a profile at another path that no instance uses: skipped, zero writes', async (_, state) => {
    const name = seedLeftovers(state)
    seedHolder('ci-profile', name, '/ci/')
    const findings = await sweepWritingNothing(context())
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome: 'skipped', reason: 'in use by instance profile /ci/ci-profile' })
    ])
  })

  it('every other holder is named, each with the instances that use it (swept region from its listing, the others by association)', async () => {
    const name = seedLeftovers('role-with-policy')
    seedHolder('a-profile', name)
    seedHolder('b-profile', name, '/apps/')
    const east = seedInstance('us-east-1', 'a-profile')
    const west = seedInstance('eu-west-1', 'b-profile')
    const { findings } = await planAndSweep(context({ action: 'notify' }))
    expect(findings).toEqual([
      expect.objectContaining({
        outcome: 'skipped',
        reason: `in use by instance profile a-profile, itself used by ${east} in us-east-1 and by instance profile /apps/b-profile, itself used by ${west} in eu-west-1`
      })
    ])
    expect(iamWrites()).toEqual([])
  })

  it('Packer’s profile at another path than / holding the role: not Packer’s, so the role stays, named with the instance using it', async () => {
    const seed = packerIamLeftovers({
      ageSeconds: 3 * 3600,
      state: 'full',
      tags: RUN_TAGS,
      now: now.getTime(),
      profilePath: '/builds/'
    })
    s.iam.seed(seed, now.getTime())
    const user = seedInstance('us-east-1', seed.name)
    const findings = await sweepWritingNothing(context())
    expect(findings).toEqual([
      expect.objectContaining({
        id: seed.name,
        outcome: 'skipped',
        reason: `in use by instance profile /builds/${seed.name}, itself used by ${user} in us-east-1`
      })
    ])
  })

  it('Packer’s profile at another path than / not holding the role: the profile is not Packer’s, the build is skipped whole', async () => {
    const seed = packerIamLeftovers({
      ageSeconds: 3 * 3600,
      state: 'role-with-policy-unattached',
      now: now.getTime(),
      profilePath: '/builds/'
    })
    s.iam.seed(seed, now.getTime())
    const findings = await sweepWritingNothing(context())
    expect(findings).toEqual([
      expect.objectContaining({
        id: seed.name,
        outcome: 'skipped',
        reason: `the instance profile /builds/${seed.name} is not Packer's (Packer creates it at /)`
      })
    ])
  })

  it('two Packer sets whose profiles hold each other’s role: both skipped, zero writes', async () => {
    const a = seedLeftovers('role-with-policy-unattached')
    const b = seedLeftovers('role-with-policy-unattached', 4)
    const profileA = s.iam.instanceProfile(a)
    const profileB = s.iam.instanceProfile(b)
    if (profileA) profileA.roles = [b]
    if (profileB) profileB.roles = [a]
    const findings = await sweepWritingNothing(context())
    expect(Object.fromEntries(findings.map((finding) => [finding.id, [finding.outcome, finding.reason]]))).toEqual({
      [a]: ['skipped', `in use by instance profile ${b}`],
      [b]: ['skipped', `in use by instance profile ${a}`]
    })
  })

  it('a role put into another profile between the plan and the removal: the last look lists the profiles again, nothing is removed', async () => {
    await expectLastLookStops((name) => seedHolder('my-app-profile', name), 'in use by instance profile my-app-profile')
  })
})

describe('modes that change nothing in IAM', () => {
  it.each<[string, Partial<Inputs>, string, string]>([
    ['notify', { action: 'notify' }, 'notified', ''],
    ['stop', { action: 'stop' }, 'notified', 'stop leaves IAM alone: there is nothing to stop'],
    [
      'dry-run',
      { 'dry-run': true },
      'dry-run',
      'would be removed; IAM has no DryRun, so the IAM permissions were not proven'
    ]
  ])('%s makes no IAM write call', async (_, inputs, outcome, reason) => {
    const name = seedLeftovers('full')
    const before = s.iam.snapshot()
    const { findings } = await planAndSweep(context(inputs))
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome, iam: expect.objectContaining({ steps: [] }) })
    ])
    expect(findings[0]?.reason).toBe(reason || undefined)
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it('cancelled before the removal: reported, with the cancel reason, nothing written', async () => {
    const name = seedLeftovers('full')
    const before = s.iam.snapshot()
    const { findings } = await planAndSweep(context({}, { cancelled: AbortSignal.abort() }))
    expect(findings).toEqual([
      expect.objectContaining({ id: name, outcome: 'notified', reason: 'not removed: the job was cancelled first' })
    ])
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })
})

describe('the exclude-tag in any casing (issue 17): IAM tag keys are case-insensitive', () => {
  it.each(['Packer-Sweeper:Keep', 'PACKER-SWEEPER:KEEP'])(
    'a set whose role and profile carry %s is skipped, nothing written',
    async (key) => {
      const name = seedLeftovers('full', 3, { ...RUN_TAGS, [key]: '' })
      const before = s.iam.snapshot()
      const { findings } = await planAndSweep(context())
      expect(findings).toEqual([
        expect.objectContaining({ id: name, outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' })
      ])
      expect(iamWrites()).toEqual([])
      expect(s.iam.snapshot()).toEqual(before)
    }
  )

  it('`tags` keys match IAM tag keys in any casing', async () => {
    const name = seedLeftovers('full', 3, { Team: 'images' })
    const plan = await planInstanceProfiles(context({ tags: [{ key: 'team', value: 'images' }] }))
    expect(plan.changes).toBe(1)
    expect(reported(plan)).toEqual([expect.objectContaining({ id: name, outcome: 'notified' })])
  })
})

describe('the changes a plan counts', () => {
  it('counts a profile with its role as one change, only in terminate, and not what is skipped or fresh', async () => {
    seedLeftovers('full')
    seedLeftovers('profile-only', 4)
    seedLeftovers('role-with-policy', 5)
    seedLeftovers('full', 1) // fresh
    seedLeftovers('full', 6, { 'packer-sweeper:keep': '' }) // excluded
    const plan = await planInstanceProfiles(context())
    expect(
      reported(plan)
        .map((finding) => finding.outcome)
        .sort()
    ).toEqual(['notified', 'notified', 'notified', 'skipped'])
    expect(plan.changes).toBe(3)
    expect((await planInstanceProfiles(context({ action: 'notify' }))).changes).toBe(0)
    expect((await planInstanceProfiles(context({ action: 'stop' }))).changes).toBe(0)
  })
})

describe('a read that fails', () => {
  it('a denied ListRoles is a plan error naming iam:ListRoles, and nothing is acted on', async () => {
    seedLeftovers('full')
    seedLeftovers('profile-only', 4)
    const before = s.iam.snapshot()
    s.faults.deny({ service: 'iam', action: 'ListRoles' })
    const { plan, findings } = await planAndSweep(context())
    expect(reported(plan)).toEqual([])
    expect(plan.runErrors).toEqual([expect.stringMatching(/^IAM instance profiles: AccessDenied: .*iam:ListRoles/)])
    expect(findings).toEqual([])
    expect(iamWrites()).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })
})

describe('independent IAM calls go side by side; dependent ones wait for the answer', () => {
  /** Every IAM call held a while, so calls sent together are seen in flight together. */
  const slowIam = () => s.faults.slow({ service: 'iam', delayMs: 200 })
  const iamCalls = (...actions: string[]) =>
    s.calls.filter((call) => call.service === 'iam' && actions.includes(call.action))

  it('discovery lists the instance profiles and the roles side by side, then reads a build’s four detail listings side by side', async () => {
    const name = seedLeftovers('full')
    slowIam()
    const plan = await planInstanceProfiles(context())
    expect(plan.changes).toBe(1)
    const lists = iamCalls('ListInstanceProfiles', 'ListRoles')
    expect(lists.map((call) => call.action).sort()).toEqual(['ListInstanceProfiles', 'ListRoles'])
    expectSideBySide(lists)
    const details = iamCalls('ListInstanceProfileTags', 'ListRoleTags', 'ListRolePolicies', 'ListAttachedRolePolicies')
    expect(details.map((call) => call.params.InstanceProfileName ?? call.params.RoleName)).toEqual([
      name,
      name,
      name,
      name
    ])
    expectSideBySide(details)
    // The details need the lists' answer.
    for (const call of details) expectAfter(call, lists)
  })

  it('the full set: out of the profile and inline policy side by side, DeleteRole once both answered, DeleteInstanceProfile once DeleteRole answered', async () => {
    seedLeftovers('full')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    slowIam()
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'deleted',
      iam: { steps: done('remove-role-from-profile', 'delete-role-policy', 'delete-role', 'delete-instance-profile') }
    })
    const [remove, deletePolicy, deleteRole, deleteProfile] = PACKER_ORDER.map((action) => s.callsOf(action)[0])
    expectSideBySide([remove, deletePolicy].filter((call): call is CallRecord => call !== undefined))
    expectAfter(deleteRole, [remove, deletePolicy])
    expectAfter(deleteProfile, [deleteRole])
    // The last look before the writes (four listings side by side) is answered before the first write.
    const recheck = iamCalls(
      'ListInstanceProfileTags',
      'ListRoleTags',
      'ListRolePolicies',
      'ListAttachedRolePolicies'
    ).slice(-4)
    expectSideBySide(recheck)
    expectAfter(remove, recheck)
    expectAfter(deletePolicy, recheck)
  })

  it('RemoveRoleFromInstanceProfile refused: the inline policy deleted beside it is reported done, nothing of the next stage is started', async () => {
    const name = seedLeftovers('full')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    s.faults.deny({ service: 'iam', action: 'RemoveRoleFromInstanceProfile' })
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'failed',
      reason: 'remove-role-from-profile failed; done before: inline policy deleted',
      error: { code: 'AccessDenied', missingPermission: 'iam:RemoveRoleFromInstanceProfile' },
      iam: {
        steps: [
          { step: 'remove-role-from-profile', outcome: 'failed', error: { code: 'AccessDenied' } },
          { step: 'delete-role-policy', outcome: 'done' }
        ]
      }
    })
    expect(iamWritesInOrder()).toEqual(['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy'])
    expect(s.iam.instanceProfile(name)?.roles).toEqual([name])
    expect(s.iam.role(name)?.inlinePolicies).toEqual({})
  })

  it('both steps of the first stage refused: the first in Packer’s order is the reason, each step keeps its own error', async () => {
    const name = seedLeftovers('full')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    s.faults.deny({ service: 'iam', action: 'RemoveRoleFromInstanceProfile' })
    s.faults.fail({ service: 'iam', action: 'DeleteRolePolicy', code: 'ServiceFailure', status: 400, message: 'boom' })
    const before = s.iam.snapshot()
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'failed',
      reason: 'remove-role-from-profile failed',
      error: { code: 'AccessDenied' },
      iam: {
        steps: [
          { step: 'remove-role-from-profile', outcome: 'failed', error: { code: 'AccessDenied' } },
          { step: 'delete-role-policy', outcome: 'failed', error: { code: 'ServiceFailure' } }
        ]
      }
    })
    expect(iamWritesInOrder()).toEqual(['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy'])
    expect(s.iam.snapshot()).toEqual(before)
    expect(s.iam.role(name)).toBeDefined()
  })

  it('DeleteRole refused on a profile and role (role not in the profile): the profile is kept, DeleteInstanceProfile never sent', async () => {
    const name = seedLeftovers('profile-and-role')
    const ctx = context()
    const plan = await planInstanceProfiles(ctx)
    refuseDeleteRole()
    const [finding] = await sweepInstanceProfiles(ctx, plan)
    expect(finding).toMatchObject({
      outcome: 'in-use',
      reason: 'IAM refused delete-role: something else uses it',
      iam: { steps: [{ step: 'delete-role', outcome: 'failed', error: { code: 'DeleteConflict' } }] }
    })
    expect(iamWritesInOrder()).toEqual(['DeleteRole'])
    expect(s.iam.instanceProfile(name)).toBeDefined()
  })

  it.each([
    ['both lists', ['ListInstanceProfiles', 'ListRoles'], 'iam:ListInstanceProfiles'],
    ['two detail listings', ['ListRolePolicies', 'ListInstanceProfileTags'], 'iam:ListInstanceProfileTags']
  ])(
    '%s denied: the plan error names the first of them in the order they used to run',
    async (_, denied, permission) => {
      seedLeftovers('full')
      for (const action of denied) s.faults.deny({ service: 'iam', action })
      const plan = await planInstanceProfiles(context())
      expect(reported(plan)).toEqual([])
      expect(plan.runErrors).toEqual([expect.stringMatching(/^IAM instance profiles: AccessDenied: /)])
      expect(plan.runErrors[0]).toContain(permission)
      for (const other of denied.map((action) => `iam:${action}`).filter((named) => named !== permission))
        expect(plan.runErrors[0]).not.toContain(other)
      // Both were asked: they went side by side.
      for (const action of denied) expect(s.callsOf(action)).toHaveLength(1)
    }
  )
})

/**
 * A full set planned for removal, then `change`d before the removal: the last look before the
 * first write sees it, and the set is reported in use with `why`, nothing written.
 */
async function expectLastLookStops(change: (name: string) => unknown, why: string): Promise<void> {
  const name = seedLeftovers('full')
  const ctx = context()
  const plan = await planInstanceProfiles(ctx)
  expect(plan.changes).toBe(1)
  change(name)
  const before = s.iam.snapshot()
  const [finding] = await sweepInstanceProfiles(ctx, plan)
  expect(finding).toMatchObject({
    outcome: 'in-use',
    reason: `changed since it was planned (${why}); nothing was removed`,
    iam: { steps: [] }
  })
  expect(iamWrites()).toEqual([])
  expect(s.iam.snapshot()).toEqual(before)
}

/** IAM refuses DeleteRole as it does while something still holds the role. */
function refuseDeleteRole(limit: { count?: number } = {}): void {
  s.faults.fail({
    service: 'iam',
    action: 'DeleteRole',
    code: 'DeleteConflict',
    status: 409,
    message: 'Cannot delete entity, must detach all policies first.',
    ...limit
  })
}
