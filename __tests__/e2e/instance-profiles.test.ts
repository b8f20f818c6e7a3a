/**
 * `resources: instance-profiles` on the bundle: Packer's temporary IAM instance profiles and roles
 * (global, swept once per run). Every partial state a killed build or a failed clean-up leaves is
 * removed with exactly the IAM write calls it needs, in Packer's own order (the two that do not
 * depend on each other side by side, each later one only once what it needs was answered); what a
 * live build uses (in any enabled region, swept or not), what Packer would not have made, and what
 * is excluded is left alone with the reason; notify and dry-run write nothing to IAM.
 */
import { describe, expect, it } from '@jest/globals'
import {
  DEFAULT_TOPIC_ARN,
  packerIamLeftovers,
  packerName,
  type IamSeed,
  type PackerIamState,
  type Sandbox
} from '../../sandbox/index.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import type { IamFinding, RemovalStepOutcome } from '../../src/kinds/instance-profiles/rules.js'
import { sandboxPerTest, sorted } from './fleet.js'
import { expectExit, summarySection } from './harness.js'

const { start } = sandboxPerTest()
const REGIONS = ['us-east-1', 'eu-west-1']
const H = 3600

/** IAM's write actions, in Packer's clean-up order. */
const IAM_WRITES = ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile'] as const
type IamWrite = (typeof IAM_WRITES)[number]

const STATES: readonly PackerIamState[] = [
  'profile-only',
  'profile-and-role',
  'role-with-policy-unattached',
  'full',
  'role-only',
  'role-with-policy'
]

/** What each state needs removed, in order: only the steps for what is there. */
const WRITES_FOR: Record<PackerIamState, IamWrite[]> = {
  'profile-only': ['DeleteInstanceProfile'],
  'profile-and-role': ['DeleteRole', 'DeleteInstanceProfile'],
  'role-with-policy-unattached': ['DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile'],
  full: ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile'],
  'role-only': ['DeleteRole'],
  'role-with-policy': ['DeleteRolePolicy', 'DeleteRole']
}

const STEP_OF: Record<IamWrite, RemovalStepOutcome['step']> = {
  RemoveRoleFromInstanceProfile: 'remove-role-from-profile',
  DeleteRolePolicy: 'delete-role-policy',
  DeleteRole: 'delete-role',
  DeleteInstanceProfile: 'delete-instance-profile'
}

const STEP_WORDS: Record<IamWrite, string> = {
  RemoveRoleFromInstanceProfile: 'role removed from the profile',
  DeleteRolePolicy: 'inline policy deleted',
  DeleteRole: 'role deleted',
  DeleteInstanceProfile: 'profile deleted'
}

interface Leftover {
  state: PackerIamState
  ageSeconds?: number
  tags?: Record<string, string>
}

/** Several builds' leftovers in one seed (distinct names even at the same age), and their names in the order given. */
function iamSeed(leftovers: readonly Leftover[]): { seed: Required<IamSeed>; names: string[] } {
  const seed: Required<IamSeed> = { roles: [], instanceProfiles: [] }
  const names = leftovers.map((leftover) => {
    const one = packerIamLeftovers({
      ageSeconds: leftover.ageSeconds ?? 5 * H,
      state: leftover.state,
      random: Math.random,
      ...(leftover.tags ? { tags: leftover.tags } : {})
    })
    seed.roles.push(...(one.roles ?? []))
    seed.instanceProfiles.push(...(one.instanceProfiles ?? []))
    return one.name
  })
  return { seed, names }
}

/** Every IAM write call the sandbox received, in order. */
const iamWrites = (s: Sandbox) =>
  s.calls.filter((c) => c.service === 'iam' && (IAM_WRITES as readonly string[]).includes(c.action))

/**
 * What each write waits for, per build: IAM's own dependencies, and DeleteInstanceProfile after
 * DeleteRole (a role IAM refuses to delete keeps its profile). RemoveRoleFromInstanceProfile and
 * DeleteRolePolicy wait for nothing: they go side by side, in either order.
 */
const WAITS_FOR: Record<IamWrite, IamWrite[]> = {
  RemoveRoleFromInstanceProfile: [],
  DeleteRolePolicy: [],
  DeleteRole: ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy'],
  DeleteInstanceProfile: ['RemoveRoleFromInstanceProfile', 'DeleteRole']
}

/**
 * Leftover name → its IAM write actions in Packer's order, once each write is shown to have been
 * received only after every write of the same build it waits for was answered.
 */
function writesByName(s: Sandbox): Record<string, string[]> {
  const by: Record<string, ReturnType<typeof iamWrites>> = {}
  for (const call of iamWrites(s))
    (by[call.params.InstanceProfileName ?? call.params.RoleName ?? '?'] ??= []).push(call)
  return Object.fromEntries(
    Object.entries(by).map(([name, calls]) => {
      for (const call of calls) {
        for (const before of calls.filter((other) =>
          WAITS_FOR[call.action as IamWrite].includes(other.action as IamWrite)
        ))
          expect(call.receivedAt).toBeGreaterThan(before.answeredAt ?? Infinity)
      }
      const order = (action: string) => IAM_WRITES.indexOf(action as IamWrite)
      return [name, calls.map((call) => call.action).sort((a, b) => order(a) - order(b))]
    })
  )
}

/** What IAM holds, by name: `profile[role]` and `role{policies}+managed`. */
function iamState(s: Sandbox): Record<string, string> {
  const state: Record<string, string> = {}
  for (const profile of s.iam.instanceProfiles)
    state[`profile ${profile.instanceProfileName}`] = profile.roles.join(',')
  for (const role of s.iam.roles)
    state[`role ${role.roleName}`] =
      `${Object.keys(role.inlinePolicies).join(',')}|${role.attachedPolicyArns.join(',')}`
  return state
}

const byName = (run: RunResult): Record<string, IamFinding> =>
  Object.fromEntries((run.report?.instanceProfiles ?? []).map((f) => [f.name, f]))
const outcomes = (run: RunResult) =>
  Object.fromEntries(Object.entries(byName(run)).map(([name, f]) => [name, f.outcome]))

function terminate(s: Sandbox, inputs: Record<string, string> = {}) {
  return runAction({
    sandbox: s,
    inputs: { action: 'terminate', resources: 'instance-profiles', regions: 'us-east-1', ...inputs }
  })
}

/** The finding of a build's leftovers removed completely: every step it needed done. */
function removed(name: string, state: PackerIamState, after?: string): Partial<IamFinding> {
  const writes = WRITES_FOR[state]
  const hasRole = state !== 'profile-only'
  return {
    kind: 'instance-profiles',
    id: name,
    name,
    region: 'global',
    outcome: 'deleted',
    reason: `${after ? `${after}: ` : ''}${writes.map((w) => STEP_WORDS[w]).join(', ')}`,
    iam: {
      profile: writes.includes('DeleteInstanceProfile'),
      ...(hasRole ? { role: name } : {}),
      inlinePolicies: writes.includes('DeleteRolePolicy') ? [name] : [],
      steps: writes.map((w) => ({ step: STEP_OF[w], outcome: 'done' }))
    }
  }
}

describe('IAM instance profiles and roles (resources: instance-profiles)', () => {
  it.each(['instance-profiles', 'all'])(
    'terminate, resources %s: every partial state a killed build leaves is removed completely, in Packer order',
    async (resources) => {
      const { seed, names } = iamSeed(STATES.map((state) => ({ state })))
      const s = await start({ iam: seed, regions: REGIONS })
      const run = await terminate(s, { resources, 'sns-topic-arn': DEFAULT_TOPIC_ARN })
      expectExit(run, 0)

      // Nothing is left, and each build got exactly the calls its state needs, in Packer's order.
      expect(s.iam.roles).toEqual([])
      expect(s.iam.instanceProfiles).toEqual([])
      expect(writesByName(s)).toEqual(
        Object.fromEntries(names.map((name, i) => [name, WRITES_FOR[STATES[i] as PackerIamState]]))
      )
      for (const call of iamWrites(s)) {
        const name = call.params.InstanceProfileName ?? call.params.RoleName
        if (call.action === 'RemoveRoleFromInstanceProfile') expect(call.params.RoleName).toBe(name)
        if (call.action === 'DeleteRolePolicy') expect(call.params.PolicyName).toBe(name)
      }

      // Outputs and report.
      expect(run.list('instance-profiles')).toEqual(sorted(names))
      const found = byName(run)
      expect(Object.keys(found).sort()).toEqual(sorted(names))
      names.forEach((name, i) => {
        const state = STATES[i] as PackerIamState
        expect(found[name]).toMatchObject(removed(name, state))
        expect(found[name]?.ageSeconds).toBeGreaterThanOrEqual(5 * H)
        expect(found[name]?.ageSeconds).toBeLessThan(5 * H + 120)
      })
      expect(run.report?.errors).toEqual([])

      // Summary: its own section, every build deleted.
      const section = summarySection(run.summary, 'IAM instance profiles and roles')
      for (const name of names) expect(section).toContain(name)
      // `deleted (` and the steps: one level of parentheses, the outcome not said twice.
      expect(section.match(/deleted <code>\((?!removed)/g)).toHaveLength(names.length)
      expect(section).not.toMatch(/\([^()]*\(/)
      expect(run.summary).toContain('6 IAM instance profiles and roles (6 deleted)')

      // SNS: the text and the JSON carry every name as deleted.
      expect(s.published).toHaveLength(1)
      const envelope = JSON.parse(s.published[0]?.message ?? '{}') as Record<string, string>
      for (const name of names) expect(envelope.default).toContain(name)
      const json = JSON.parse(envelope.sqs ?? '{}') as { ids: Record<string, Record<string, string[]>> }
      expect(json.ids.instanceProfiles).toEqual({ deleted: sorted(names) })
    }
  )

  it("a live build's profile used by an instance in another region than the swept one is never touched", async () => {
    const { seed, names } = iamSeed([{ state: 'full', ageSeconds: 3 * H }, { state: 'full' }])
    const [live, killed] = names as [string, string]
    const s = await start({ iam: seed, regions: REGIONS })
    // A long build still running in eu-west-1 (not swept): its profile is older than max-age.
    s.fleet.seed({
      'eu-west-1': {
        instances: [
          { ref: 'live build', keyName: packerName(3 * H), age: '3h', iamInstanceProfile: s.iam.profileRef(live) }
        ]
      }
    })
    const liveBefore = iamState(s)
    const run = await terminate(s, { regions: 'us-east-1' })
    expectExit(run, 0)

    const builder = s.fleet.byRef('live build')
    expect(builder.history).toEqual(['running'])
    expect(byName(run)[live]).toMatchObject({
      outcome: 'skipped',
      reason: `in use by ${builder.id} in eu-west-1`,
      iam: { profile: true, role: live, inlinePolicies: [live], steps: [] }
    })
    expect(byName(run)[killed]).toMatchObject(removed(killed, 'full'))
    expect(writesByName(s)).toEqual({ [killed]: WRITES_FOR.full })
    expect(iamState(s)).toEqual(Object.fromEntries(Object.entries(liveBefore).filter(([key]) => key.endsWith(live))))
    // Only what was acted on is in the output: the skipped one is reported, not listed.
    expect(run.list('instance-profiles')).toEqual([killed])
    // The usage check asked every enabled region, not only the swept one.
    expect(sorted(s.callsOf('DescribeIamInstanceProfileAssociations').map((c) => c.region ?? '?'))).toEqual(
      sorted(REGIONS)
    )
  })

  it('a role with a managed policy attached, or an inline policy Packer did not write, is skipped and never stripped', async () => {
    const { seed, names } = iamSeed([{ state: 'full' }, { state: 'full' }])
    const [managed, extraInline] = names as [string, string]
    const policy = 'arn:aws:iam::aws:policy/ReadOnlyAccess'
    seed.roles[0] = { ...seed.roles[0], roleName: managed, attachedPolicyArns: [policy] }
    seed.roles[1] = {
      ...seed.roles[1],
      roleName: extraInline,
      inlinePolicies: { ...seed.roles[1]?.inlinePolicies, 'ops-debug': '{"Version":"2012-10-17","Statement":[]}' }
    }
    const s = await start({ iam: seed, regions: REGIONS })
    const before = s.iam.snapshot()
    const run = await terminate(s)
    expectExit(run, 0)

    expect(byName(run)[managed]).toMatchObject({
      outcome: 'skipped',
      reason: `the role has managed policies attached (${policy}), which Packer never attaches`,
      iam: { steps: [] }
    })
    expect(byName(run)[extraInline]).toMatchObject({
      outcome: 'skipped',
      reason: 'the role has inline policies Packer would not have created (ops-debug)',
      iam: { inlinePolicies: sorted([extraInline, 'ops-debug']), steps: [] }
    })
    expect(iamWrites(s)).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
    expect(run.list('instance-profiles')).toEqual([])
  })

  it('resources all: a profile used only by a stale builder this run terminates is removed after the builder reads terminated', async () => {
    const { seed, names } = iamSeed([{ state: 'full', ageSeconds: 3 * H }])
    const [name] = names as [string]
    const s = await start({ iam: seed, regions: REGIONS })
    s.fleet.seed({
      'us-east-1': {
        instances: [
          { ref: 'stale builder', keyName: packerName(3 * H), age: '3h', iamInstanceProfile: s.iam.profileRef(name) }
        ]
      }
    })
    const run = await terminate(s, { resources: 'all' })
    expectExit(run, 0)

    const builder = s.fleet.byRef('stale builder')
    expect(run.list('acted-ids')).toEqual([builder.id])
    expect(builder.state).toBe('terminated')
    expect(byName(run)[name]).toMatchObject(removed(name, 'full', `after ${builder.id} terminated`))
    expect(writesByName(s)).toEqual({ [name]: WRITES_FOR.full })
    expect(iamState(s)).toEqual({})
    // The first IAM write comes after TerminateInstances and after a read that saw the builder terminated.
    const terminatedAt = s.callsOf('TerminateInstances')[0]?.seq ?? Infinity
    const firstWrite = iamWrites(s)[0]?.seq ?? -1
    expect(firstWrite).toBeGreaterThan(terminatedAt)
    expect(s.callsOf('DescribeInstances').some((c) => c.seq > terminatedAt && c.seq < firstWrite)).toBe(true)
  })

  it("resources all: a swept region's one listing of its live instances says which use a profile; only regions not swept are asked for associations", async () => {
    const { seed, names } = iamSeed([{ state: 'full', ageSeconds: 3 * H }, { state: 'full' }])
    const [used, killed] = names as [string, string]
    const s = await start({ iam: seed, regions: REGIONS })
    // Not a builder (another key), in the swept region, running with the stale profile.
    s.fleet.seed({
      'us-east-1': {
        instances: [{ ref: 'web', keyName: 'deploy', age: '30m', iamInstanceProfile: s.iam.profileRef(used) }]
      }
    })
    const run = await terminate(s, { resources: 'all', regions: 'us-east-1' })
    expectExit(run, 0)

    const web = s.fleet.byRef('web')
    expect(web.history).toEqual(['running'])
    expect(byName(run)[used]).toMatchObject({
      outcome: 'skipped',
      reason: `in use by ${web.id} in us-east-1`,
      iam: { steps: [] }
    })
    expect(byName(run)[killed]).toMatchObject(removed(killed, 'full'))
    // us-east-1's listing answered for it; eu-west-1, enabled but not swept, was asked for its associations.
    expect(s.callsOf('DescribeIamInstanceProfileAssociations').map((c) => c.region)).toEqual(['eu-west-1'])
  })

  it('notify and dry-run make no IAM write call; dry-run says the IAM permissions were not proven', async () => {
    const { seed, names } = iamSeed(STATES.map((state) => ({ state })))
    const s = await start({ iam: seed, regions: REGIONS })
    const before = s.iam.snapshot()

    const notify = await runAction({
      sandbox: s,
      inputs: { action: 'notify', resources: 'instance-profiles', regions: 'us-east-1' }
    })
    expectExit(notify, 0)
    expect(outcomes(notify)).toEqual(Object.fromEntries(names.map((name) => [name, 'notified'])))
    for (const name of names) expect(byName(notify)[name]?.reason).toBeUndefined()
    expect(notify.list('instance-profiles')).toEqual(sorted(names))

    const dryRun = await terminate(s, { 'dry-run': 'true' })
    expectExit(dryRun, 0)
    const why = 'would be removed; IAM has no DryRun, so the IAM permissions were not proven'
    for (const name of names)
      expect(byName(dryRun)[name]).toMatchObject({ outcome: 'dry-run', reason: why, iam: { steps: [] } })
    expect(summarySection(dryRun.summary, 'IAM instance profiles and roles')).toContain(`dry-run <code>(${why})</code>`)

    expect(s.calls.filter((c) => c.service === 'iam' && !/^(List|Get)/.test(c.action))).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it.each([
    [2, 0],
    [1, 1]
  ])('max-resources %i with two builds of profile and role (each counted once): exit %i', async (cap, exitCode) => {
    const { seed, names } = iamSeed([{ state: 'full' }, { state: 'full' }])
    const s = await start({ iam: seed, regions: REGIONS })
    const before = s.iam.snapshot()
    const run = await terminate(s, { 'max-resources': String(cap) })
    expectExit(run, exitCode)
    if (cap === 2) {
      expect(outcomes(run)).toEqual(Object.fromEntries(names.map((name) => [name, 'deleted'])))
      expect(iamState(s)).toEqual({})
      return
    }
    expect(run.report?.errors).toEqual([
      'max-resources: 2 resources would be terminated or deleted, more than the cap of 1; nothing was changed. Check the report, then raise max-resources (0 = no cap) or narrow resources, regions, tags or key-name.'
    ])
    for (const name of names)
      expect(byName(run)[name]).toMatchObject({
        outcome: 'notified',
        reason: 'not acted on: the run is over its cap',
        iam: { steps: [] }
      })
    expect(iamWrites(s)).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it('exclude-tag on the role or on the profile skips the build; tags keep only the builds that carry them', async () => {
    const { seed, names } = iamSeed([{ state: 'full' }, { state: 'full' }, { state: 'full' }])
    const [roleKept, profileKept, killed] = names as [string, string, string]
    seed.roles[0] = { ...seed.roles[0], roleName: roleKept, tags: { 'packer-sweeper:keep': 'debugging' } }
    seed.instanceProfiles[1] = {
      ...seed.instanceProfiles[1],
      instanceProfileName: profileKept,
      tags: { 'packer-sweeper:keep': '' }
    }
    const s = await start({ iam: seed, regions: REGIONS })
    const run = await terminate(s)
    expectExit(run, 0)
    expect(byName(run)[roleKept]).toMatchObject({ outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' })
    expect(byName(run)[profileKept]).toMatchObject({
      outcome: 'skipped',
      reason: 'carries the packer-sweeper:keep tag'
    })
    expect(byName(run)[killed]).toMatchObject(removed(killed, 'full'))
    expect(writesByName(s)).toEqual({ [killed]: WRITES_FOR.full })

    // tags: only builds whose every part carries them; the rest is not even listed.
    const tagged = iamSeed([
      { state: 'full', tags: { team: 'images' } },
      { state: 'role-with-policy', tags: { team: 'images' } },
      { state: 'full' },
      { state: 'full' }
    ])
    const [mine, mineRole, untagged, halfTagged] = tagged.names as [string, string, string, string]
    tagged.seed.instanceProfiles[2] = {
      ...tagged.seed.instanceProfiles[2],
      instanceProfileName: halfTagged,
      tags: { team: 'images' }
    }
    const t = await start({ iam: tagged.seed, regions: REGIONS })
    const withTags = await terminate(t, { tags: 'team=images' })
    expectExit(withTags, 0)
    expect(outcomes(withTags)).toEqual({ [mine]: 'deleted', [mineRole]: 'deleted' })
    expect(writesByName(t)).toEqual({ [mine]: WRITES_FOR.full, [mineRole]: WRITES_FOR['role-with-policy'] })
    expect(sorted(t.iam.roles.map((r) => r.roleName))).toEqual(sorted([untagged, halfTagged]))
  })

  it('issue 17: a role another instance profile also holds keeps its whole build untouched, with zero writes, naming the profile and the instance using it', async () => {
    const { seed, names } = iamSeed([{ state: 'full' }, { state: 'role-with-policy' }, { state: 'full' }])
    const [shared, otherPath, killed] = names as [string, string, string]
    // Packer's own profile at another path than /, holding its role: not Packer's.
    const elsewhere = packerIamLeftovers({
      ageSeconds: 5 * H,
      state: 'full',
      random: Math.random,
      profilePath: '/builds/'
    })
    seed.roles.push(...(elsewhere.roles ?? []))
    seed.instanceProfiles.push(
      ...(elsewhere.instanceProfiles ?? []),
      { instanceProfileName: 'my-app-profile', roles: [shared] },
      { instanceProfileName: 'ci-profile', path: '/ci/', roles: [otherPath] }
    )
    const s = await start({ iam: seed, regions: REGIONS })
    s.fleet.seed({
      'eu-west-1': {
        instances: [
          { ref: 'app', keyName: 'deploy', age: '2d', iamInstanceProfile: s.iam.profileRef('my-app-profile') }
        ]
      }
    })
    const untouched = Object.fromEntries(Object.entries(iamState(s)).filter(([key]) => !key.endsWith(killed)))
    const run = await terminate(s)
    expectExit(run, 0)

    const app = s.fleet.byRef('app')
    expect(byName(run)[shared]).toMatchObject({
      outcome: 'skipped',
      reason: `in use by instance profile my-app-profile, itself used by ${app.id} in eu-west-1`,
      iam: { profile: true, role: shared, steps: [] }
    })
    expect(byName(run)[otherPath]).toMatchObject({
      outcome: 'skipped',
      reason: 'in use by instance profile /ci/ci-profile',
      iam: { steps: [] }
    })
    expect(byName(run)[elsewhere.name]).toMatchObject({
      outcome: 'skipped',
      reason: `in use by instance profile /builds/${elsewhere.name}`,
      iam: { steps: [] }
    })
    expect(byName(run)[killed]).toMatchObject(removed(killed, 'full'))
    // Not one write to any of them, nor to the profiles that hold their roles.
    expect(writesByName(s)).toEqual({ [killed]: WRITES_FOR.full })
    expect(iamState(s)).toEqual(untouched)
    expect(run.list('instance-profiles')).toEqual([killed])
    const section = summarySection(run.summary, 'IAM instance profiles and roles')
    expect(section).toContain('my-app-profile')
    expect(section).toContain(app.id)
  })

  it('issue 17: the exclude-tag in any casing keeps a set (IAM tag keys are case-insensitive); `tags` keys match in any casing', async () => {
    const { seed, names } = iamSeed([
      { state: 'full', tags: { 'Packer-Sweeper:Keep': '', Team: 'images' } },
      { state: 'role-with-policy', tags: { 'PACKER-SWEEPER:KEEP': 'debugging', team: 'images' } },
      { state: 'full', tags: { TEAM: 'images' } }
    ])
    const [camel, upper, killed] = names as [string, string, string]
    const s = await start({ iam: seed, regions: REGIONS })
    const run = await terminate(s, { tags: 'team=images' })
    expectExit(run, 0)
    expect(byName(run)[camel]).toMatchObject({
      outcome: 'skipped',
      reason: 'carries the packer-sweeper:keep tag',
      iam: { steps: [] }
    })
    expect(byName(run)[upper]).toMatchObject({
      outcome: 'skipped',
      reason: 'carries the packer-sweeper:keep tag',
      iam: { steps: [] }
    })
    expect(byName(run)[killed]).toMatchObject(removed(killed, 'full'))
    expect(writesByName(s)).toEqual({ [killed]: WRITES_FOR.full })
  })

  it('DeleteConflict on DeleteRole: in-use with the steps done before, the profile kept, the step not failed', async () => {
    const { seed, names } = iamSeed([{ state: 'full' }])
    const [name] = names as [string]
    const s = await start({ iam: seed, regions: REGIONS })
    s.faults.fail({
      action: 'DeleteRole',
      code: 'DeleteConflict',
      status: 409,
      message: 'Cannot delete entity, must detach all policies first.'
    })
    const run = await terminate(s)
    // in-use is not a failure of the step (as for a security group still in use): exit 0.
    expectExit(run, 0)
    expect(byName(run)[name]).toMatchObject({
      outcome: 'in-use',
      reason:
        'IAM refused delete-role: something else uses it; done before: role removed from the profile, inline policy deleted',
      error: { code: 'DeleteConflict' },
      iam: {
        profile: true,
        role: name,
        steps: [
          { step: 'remove-role-from-profile', outcome: 'done' },
          { step: 'delete-role-policy', outcome: 'done' },
          { step: 'delete-role', outcome: 'failed', error: { code: 'DeleteConflict' } }
        ]
      }
    })
    // What the steps before took apart stays taken apart; DeleteInstanceProfile was never called.
    expect(writesByName(s)).toEqual({ [name]: ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole'] })
    expect(iamState(s)).toEqual({ [`profile ${name}`]: '', [`role ${name}`]: '|' })
    expect(run.list('instance-profiles')).toEqual([name])
  })
})
