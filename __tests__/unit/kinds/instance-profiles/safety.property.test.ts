/**
 * Issue 17 as a property over random IAM accounts: profiles (Packer's or not, at any path)
 * holding roles (Packer's or not, or a role of another build), instances in any enabled region
 * running with any of the profiles, the exclude-tag in random casing. Whatever the account, a
 * terminate run never sends a write (RemoveRoleFromInstanceProfile, DeleteRolePolicy, DeleteRole,
 * DeleteInstanceProfile) naming a role or profile a live instance reaches, or that a profile that
 * is not Packer's reaches, or any part of a build that carries the exclude-tag. Each run seeds a
 * fresh in-process sandbox from a plain model; the oracle reads the model, the checks read the
 * calls the sandbox received.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { iamRun, planInstanceProfiles, sweepInstanceProfiles } from './harness.js'
import {
  PACKER_ROLE_DESCRIPTION,
  startSandbox,
  type IamInstanceProfileSeed,
  type IamRoleSeed,
  type InstanceSeed,
  type InstanceStateName
} from '../../../../sandbox/index.js'
import { ec2, iam } from '../../../sandbox/sdk.js'
import { defaultInputs, hoursBefore, NOW, packerName } from '../../../../__fixtures__/support.js'

const KEEP = 'packer-sweeper:keep'
const REGIONS = ['us-east-1', 'eu-west-1']
const QUICK_WAIT = { maxWaitSeconds: 1, minDelaySeconds: 1, maxDelaySeconds: 1 }
const IAM_WRITES = ['RemoveRoleFromInstanceProfile', 'DeleteRolePolicy', 'DeleteRole', 'DeleteInstanceProfile']

/** The exclude-tag key with each letter's case drawn at random: IAM sees one key. */
const anyCasing = fc
  .array(fc.boolean(), { minLength: KEEP.length, maxLength: KEEP.length })
  .map((upper) => [...KEEP].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(''))

/** One build's leftovers, named `packer-<uuid>`; what its profile holds may be another role of the account. */
const build = fc.record({
  ageHours: fc.integer({ min: 0, max: 12 }),
  role: fc.constantFrom('packer', 'packer', 'none', 'foreign'),
  policy: fc.boolean(),
  profile: fc.constantFrom('root', 'root', 'none', 'elsewhere'),
  holds: fc.constantFrom('own', 'own', 'nothing', 'another'),
  another: fc.nat(),
  keep: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.record({ on: fc.constantFrom('role', 'profile'), key: anyCasing }), weight: 1 }
  )
})
/** A profile that is not Packer's (`app-profile-<n>`), holding any role of the account or none. */
const otherProfile = fc.record({ path: fc.constantFrom('/', '/apps/'), holds: fc.option(fc.nat(), { nil: undefined }) })
const instance = fc.record({
  profile: fc.nat(),
  region: fc.constantFrom(...REGIONS),
  state: fc.constantFrom<InstanceStateName>('running', 'pending', 'stopped', 'terminated')
})
const account = fc.record({
  builds: fc.array(build, { minLength: 1, maxLength: 4 }),
  appRole: fc.boolean(),
  others: fc.array(otherProfile, { maxLength: 3 }),
  instances: fc.array(instance, { maxLength: 3 }),
  swept: fc.constantFrom(['us-east-1'], REGIONS),
  maxAgeHours: fc.integer({ min: 1, max: 3 })
})
type Account = typeof account extends fc.Arbitrary<infer T> ? T : never

/** The account as the oracle sees it. */
interface World {
  roles: IamRoleSeed[]
  profiles: (IamInstanceProfileSeed & { path: string; roles: string[] })[]
  instances: { profile: string; region: string; state: InstanceStateName }[]
  /** Names of the builds that carry the exclude-tag (on the role or the profile). */
  excluded: Set<string>
}

function buildWorld(a: Account): World {
  const world: World = { roles: [], profiles: [], instances: [], excluded: new Set() }
  const names = a.builds.map((b, n) => packerName(b.ageHours * 3600, NOW, `iam/${n}`).replace(/^packer_/, 'packer-'))
  a.builds.forEach((b, n) => {
    const name = names[n] as string
    // Excluded when the tag sits on a part the build left.
    if (b.keep && (b.keep.on === 'role' ? b.role : b.profile) !== 'none') world.excluded.add(name)
    if (b.role === 'none') return
    world.roles.push({
      roleName: name,
      description: b.role === 'packer' ? PACKER_ROLE_DESCRIPTION : 'Role for the app',
      createDate: hoursBefore(NOW, b.ageHours).toISOString(),
      inlinePolicies: b.policy ? { [name]: '{"Version":"2012-10-17","Statement":[]}' } : {},
      tags: b.keep?.on === 'role' ? { [b.keep.key]: '' } : {}
    })
  })
  if (a.appRole) world.roles.push({ roleName: 'app-role', path: '/apps/' })
  const roleNames = world.roles.map((role) => role.roleName)
  const pick = (index: number | undefined) =>
    index === undefined || roleNames.length === 0 ? [] : [roleNames[index % roleNames.length] as string]
  a.builds.forEach((b, n) => {
    const name = names[n] as string
    if (b.profile === 'none') return
    const holds =
      b.holds === 'own' ? (roleNames.includes(name) ? [name] : []) : b.holds === 'another' ? pick(b.another) : []
    world.profiles.push({
      instanceProfileName: name,
      path: b.profile === 'root' ? '/' : '/builds/',
      roles: holds,
      createDate: hoursBefore(NOW, b.ageHours).toISOString(),
      tags: b.keep?.on === 'profile' ? { [b.keep.key]: '' } : {}
    })
  })
  a.others.forEach((other, n) =>
    world.profiles.push({ instanceProfileName: `app-profile-${n}`, path: other.path, roles: pick(other.holds) })
  )
  for (const one of a.instances) {
    const profile = world.profiles[one.profile % Math.max(world.profiles.length, 1)]
    if (profile) world.instances.push({ profile: profile.instanceProfileName, region: one.region, state: one.state })
  }
  return world
}

/** Packer's own profile: Packer's name at `/`. */
const isPackers = (profile: World['profiles'][number]) =>
  /^packer-/.test(profile.instanceProfileName) && profile.path === '/'

/** The oracle: profiles and roles no write may name, with why. */
function untouchable(world: World): { profiles: Map<string, string>; roles: Map<string, string> } {
  const profiles = new Map<string, string>()
  const roles = new Map<string, string>()
  const live = new Set(world.instances.filter((one) => one.state !== 'terminated').map((one) => one.profile))
  for (const profile of world.profiles) {
    const why = live.has(profile.instanceProfileName)
      ? 'a live instance uses it'
      : isPackers(profile)
        ? undefined
        : 'it is not Packer’s'
    if (!why) continue
    profiles.set(profile.instanceProfileName, why)
    for (const role of profile.roles) roles.set(role, `profile ${profile.instanceProfileName} holds it: ${why}`)
  }
  // A role any profile holds but its own is that profile's too.
  for (const profile of world.profiles)
    for (const role of profile.roles)
      if (role !== profile.instanceProfileName) roles.set(role, `profile ${profile.instanceProfileName} holds it`)
  for (const name of world.excluded) {
    profiles.set(name, 'excluded')
    roles.set(name, 'excluded')
  }
  return { profiles, roles }
}

describe('IAM safety (issue 17)', () => {
  it('no write ever names what a live instance or a profile that is not Packer’s reaches, nor an excluded build', async () => {
    let runsThatWrote = 0
    let runsWithHeldRoles = 0
    await fc.assert(
      fc.asyncProperty(account, async (a) => {
        const world = buildWorld(a)
        const sandbox = await startSandbox({ regions: REGIONS })
        const clients: { destroy(): void }[] = []
        try {
          sandbox.iam.seed({ roles: world.roles, instanceProfiles: world.profiles })
          const byRegion: Record<string, { instances: InstanceSeed[] }> = {}
          for (const one of world.instances)
            (byRegion[one.region] ??= { instances: [] }).instances.push({
              state: one.state,
              iamInstanceProfile: sandbox.iam.profileRef(one.profile)
            })
          sandbox.fleet.seed(byRegion)

          const regional = new Map<string, EC2Client>()
          const iamClient = iam(sandbox)
          clients.push(iamClient)
          const ctx = iamRun({
            iam: iamClient,
            enabledRegions: REGIONS,
            ec2For: (region) => {
              if (!regional.has(region)) {
                const client = ec2(sandbox, region)
                clients.push(client)
                regional.set(region, client)
              }
              return regional.get(region) as EC2Client
            },
            inputs: defaultInputs({
              action: 'terminate',
              resources: ['instance-profiles'],
              regions: a.swept,
              'max-age': a.maxAgeHours * 3600,
              'exclude-tag': [KEEP]
            }),
            now: NOW,
            terminationWait: QUICK_WAIT
          })
          const plan = await planInstanceProfiles(ctx)
          await sweepInstanceProfiles(ctx, plan)

          const writes = sandbox.calls.filter((call) => call.service === 'iam' && IAM_WRITES.includes(call.action))
          if (writes.length > 0) runsThatWrote++
          if (
            world.profiles.some((profile) =>
              profile.roles.some((role) => role !== profile.instanceProfileName && /^packer-/.test(role))
            )
          )
            runsWithHeldRoles++
          const { profiles, roles } = untouchable(world)
          for (const call of writes) {
            const { InstanceProfileName: profile, RoleName: role } = call.params
            if (profile !== undefined)
              expect({ call: call.action, profile, why: profiles.get(profile) }).toEqual({
                call: call.action,
                profile,
                why: undefined
              })
            if (role !== undefined)
              expect({ call: call.action, role, why: roles.get(role) }).toEqual({
                call: call.action,
                role,
                why: undefined
              })
          }
        } finally {
          clients.forEach((client) => client.destroy())
          await sandbox.close()
        }
      }),
      { numRuns: 120 }
    )
    // Not vacuous: the random accounts hold debris that is removed, and roles other profiles hold.
    expect(runsThatWrote).toBeGreaterThan(10)
    expect(runsWithHeldRoles).toBeGreaterThan(10)
  })
})
