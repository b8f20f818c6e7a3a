/** IAM in the sandbox through the real IAMClient (and EC2Client for instance profile associations). */
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  paginateDescribeIamInstanceProfileAssociations
} from '@aws-sdk/client-ec2'
import {
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListInstanceProfileTagsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  paginateListInstanceProfiles,
  paginateListRoles,
  RemoveRoleFromInstanceProfileCommand,
  type IAMClient
} from '@aws-sdk/client-iam'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  EC2_TRUST_POLICY,
  packerIamLeftovers,
  PACKER_POLICY_DOCUMENT,
  PACKER_ROLE_DESCRIPTION,
  startSandbox,
  type PackerIamState,
  type Sandbox
} from '../../sandbox/index.js'
import { ec2, errorOf, iam } from './sdk.js'

const RUN_TAGS = { team: 'images', build: 'nightly' }

let s: Sandbox
let client: IAMClient
beforeEach(async () => {
  s = await startSandbox({ regions: ['us-east-1', 'eu-west-1'] })
  client = iam(s)
})
afterEach(async () => {
  client.destroy()
  await s.close()
})

/** Seeds Packer's leftovers in `state` and answers their name. */
function leftovers(state: PackerIamState, ageSeconds = 7200): string {
  const seed = packerIamLeftovers({ ageSeconds, state, tags: RUN_TAGS })
  s.iam.seed(seed)
  return seed.name
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const page of pages) out.push(page)
  return out
}

describe('listing', () => {
  it('pages instance profiles and roles with MaxItems and Marker; the SDK paginators follow them', async () => {
    for (let n = 0; n < 7; n++) leftovers('full', 3600 + n)
    s.iam.seed({ roles: [{ roleName: 'service-role-x', path: '/service-role/' }] })
    const first = await client.send(new ListInstanceProfilesCommand({ MaxItems: 3 }))
    expect(first.InstanceProfiles).toHaveLength(3)
    expect(first).toMatchObject({ IsTruncated: true, Marker: expect.any(String) })
    const profilePages = await collect(paginateListInstanceProfiles({ client, pageSize: 3 }, {}))
    expect(profilePages.map((p) => p.InstanceProfiles?.length)).toEqual([3, 3, 1])
    expect(profilePages.at(-1)?.IsTruncated).toBe(false)
    expect(profilePages.at(-1)?.Marker).toBeUndefined()
    const names = profilePages.flatMap((p) => p.InstanceProfiles ?? []).map((p) => p.InstanceProfileName)
    expect(new Set(names).size).toBe(7)
    const rolePages = await collect(paginateListRoles({ client, pageSize: 5 }, {}))
    expect(rolePages.flatMap((p) => p.Roles ?? [])).toHaveLength(8)
    const serviceRoles = await client.send(new ListRolesCommand({ PathPrefix: '/service-role/' }))
    expect(serviceRoles.Roles?.map((r) => r.RoleName)).toEqual(['service-role-x'])
    expect(await errorOf(client.send(new ListRolesCommand({ MaxItems: 0 })))).toMatchObject({
      name: 'ValidationError',
      status: 400
    })
  })

  it('a Marker stays good while what it already listed is deleted', async () => {
    for (let n = 0; n < 4; n++) leftovers('profile-only', 3600 + n)
    const first = await client.send(new ListInstanceProfilesCommand({ MaxItems: 2 }))
    for (const p of first.InstanceProfiles ?? [])
      await client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName }))
    const second = await client.send(new ListInstanceProfilesCommand({ MaxItems: 2, Marker: first.Marker }))
    expect(second.InstanceProfiles).toHaveLength(2)
    expect(second.IsTruncated).toBe(false)
  })

  it('answers Packer’s role and profile in AWS’s shapes: trust policy URL-encoded, tags only from Get and List*Tags', async () => {
    const name = leftovers('full')
    const seconds = parseInt(name.slice('packer-'.length, 'packer-'.length + 8), 16)
    expect(Math.abs(Date.now() / 1000 - 7200 - seconds)).toBeLessThan(5)
    const { Role: role } = await client.send(new GetRoleCommand({ RoleName: name }))
    expect(role).toMatchObject({
      RoleName: name,
      Path: '/',
      Description: PACKER_ROLE_DESCRIPTION,
      Arn: `arn:aws:iam::123456789012:role/${name}`,
      MaxSessionDuration: 3600
    })
    expect(role?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/)
    expect(JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? ''))).toEqual(JSON.parse(EC2_TRUST_POLICY))
    expect(role?.Tags).toEqual([
      { Key: 'team', Value: 'images' },
      { Key: 'build', Value: 'nightly' }
    ])
    expect(role?.CreateDate).toBeInstanceOf(Date)
    expect(Math.abs((role?.CreateDate?.getTime() ?? 0) - (Date.now() - 7200_000))).toBeLessThan(5000)
    expect(role?.RoleLastUsed).toEqual({})
    const listed = (await client.send(new ListRolesCommand({}))).Roles?.[0]
    expect(listed).toMatchObject({ RoleName: name, Description: PACKER_ROLE_DESCRIPTION })
    expect(listed?.Tags).toBeUndefined()

    const { InstanceProfile: profile } = await client.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))
    expect(profile).toMatchObject({
      InstanceProfileName: name,
      Path: '/',
      Arn: `arn:aws:iam::123456789012:instance-profile/${name}`,
      Roles: [{ RoleName: name, RoleId: role?.RoleId }]
    })
    expect(profile?.InstanceProfileId).toMatch(/^AIPA/)
    expect(profile?.Tags).toHaveLength(2)
    expect((await client.send(new ListInstanceProfilesCommand({}))).InstanceProfiles?.[0]?.Tags).toBeUndefined()
    expect((await client.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: name }))).Tags).toEqual(
      role?.Tags
    )
    expect((await client.send(new ListRoleTagsCommand({ RoleName: name, MaxItems: 1 }))).Tags).toHaveLength(1)

    expect((await client.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames).toEqual([name])
    const policy = await client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: name }))
    expect(decodeURIComponent(policy.PolicyDocument ?? '')).toBe(PACKER_POLICY_DOCUMENT)
    expect((await client.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies).toEqual([])
  })

  it('RoleLastUsed and managed policies when seeded', async () => {
    s.iam.seed({
      roles: [
        {
          roleName: 'used',
          lastUsed: { age: '1h', region: 'eu-west-1' },
          attachedPolicyArns: [
            'arn:aws:iam::aws:policy/service-role/AmazonSSMManagedInstanceCore',
            'arn:aws:iam::123456789012:policy/mine'
          ]
        }
      ]
    })
    const { Role: role } = await client.send(new GetRoleCommand({ RoleName: 'used' }))
    expect(role?.RoleLastUsed).toMatchObject({ Region: 'eu-west-1', LastUsedDate: expect.any(Date) })
    const attached = await client.send(new ListAttachedRolePoliciesCommand({ RoleName: 'used' }))
    expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toEqual(['AmazonSSMManagedInstanceCore', 'mine'])
    const underServiceRole = await client.send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'used', PathPrefix: '/service-role/' })
    )
    expect(underServiceRole.AttachedPolicies).toHaveLength(1)
  })

  it('is global: a client in any region (the scope says its region with a custom endpoint) sees the same account', async () => {
    const name = leftovers('profile-only')
    s.faults.disableRegion('eu-west-1')
    for (const region of ['us-east-1', 'eu-west-1', 'ap-south-1']) {
      const other = iam(s, region)
      expect(
        (await other.send(new ListInstanceProfilesCommand({}))).InstanceProfiles?.map((p) => p.InstanceProfileName)
      ).toEqual([name])
      other.destroy()
    }
    expect(s.callsOf('ListInstanceProfiles').map((c) => [c.service, c.region, c.params.Version])).toEqual([
      ['iam', 'us-east-1', '2010-05-08'],
      ['iam', 'eu-west-1', '2010-05-08'],
      ['iam', 'ap-south-1', '2010-05-08']
    ])
  })
})

describe('removal', () => {
  it('Packer’s removal order leaves nothing', async () => {
    const name = leftovers('full')
    await client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }))
    await client.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: name }))
    await client.send(new DeleteRoleCommand({ RoleName: name }))
    await client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name }))
    expect(s.iam.snapshot()).toEqual({ roles: [], instanceProfiles: [] })
    expect((await client.send(new ListRolesCommand({}))).Roles).toEqual([])
    expect((await client.send(new ListInstanceProfilesCommand({}))).InstanceProfiles).toEqual([])
  })

  it('refuses each out-of-order delete with DeleteConflict and AWS’s message, changing nothing', async () => {
    const name = leftovers('full')
    s.iam.seed({ roles: [{ roleName: 'managed', attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }] })
    const before = s.iam.snapshot()
    const conflict = (message: string) => ({ name: 'DeleteConflictException', message, status: 409 })
    expect(await errorOf(client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })))).toEqual(
      conflict('Cannot delete entity, must remove roles from instance profile first.')
    )
    expect(await errorOf(client.send(new DeleteRoleCommand({ RoleName: name })))).toEqual(
      conflict('Cannot delete entity, must remove roles from instance profile first.')
    )
    expect(s.iam.snapshot()).toEqual(before)
    await client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }))
    expect(await errorOf(client.send(new DeleteRoleCommand({ RoleName: name })))).toEqual(
      conflict('Cannot delete entity, must delete policies first.')
    )
    expect(await errorOf(client.send(new DeleteRoleCommand({ RoleName: 'managed' })))).toEqual(
      conflict('Cannot delete entity, must detach all policies first.')
    )
    expect(s.iam.role(name)).toBeDefined()
  })

  it('answers NoSuchEntity (404) for unknown names', async () => {
    const name = leftovers('profile-and-role')
    const missing = (message: string) => ({ name: 'NoSuchEntityException', message, status: 404 })
    expect(await errorOf(client.send(new GetRoleCommand({ RoleName: 'packer-nope' })))).toEqual(
      missing('The role with name packer-nope cannot be found.')
    )
    expect(await errorOf(client.send(new GetInstanceProfileCommand({ InstanceProfileName: 'packer-nope' })))).toEqual(
      missing('Instance Profile packer-nope cannot be found.')
    )
    expect(
      await errorOf(client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: 'packer-nope' })))
    ).toMatchObject({
      name: 'NoSuchEntityException'
    })
    expect(await errorOf(client.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: name })))).toEqual(
      missing(`The role policy with name ${name} cannot be found.`)
    )
    expect(await errorOf(client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: name })))).toMatchObject({
      name: 'NoSuchEntityException'
    })
    // The role exists but is not in the profile (killed before AddRoleToInstanceProfile).
    expect(
      await errorOf(
        client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }))
      )
    ).toMatchObject({
      name: 'NoSuchEntityException'
    })
    expect(await errorOf(client.send(new ListRoleTagsCommand({ RoleName: 'packer-nope' })))).toMatchObject({
      name: 'NoSuchEntityException'
    })
  })

  it.each<[PackerIamState, { profile: boolean; role: boolean; policy: boolean; attached: boolean }]>([
    ['profile-only', { profile: true, role: false, policy: false, attached: false }],
    ['profile-and-role', { profile: true, role: true, policy: false, attached: false }],
    ['role-with-policy-unattached', { profile: true, role: true, policy: true, attached: false }],
    ['full', { profile: true, role: true, policy: true, attached: true }],
    ['role-only', { profile: false, role: true, policy: false, attached: false }],
    ['role-with-policy', { profile: false, role: true, policy: true, attached: false }]
  ])('packerIamLeftovers %s', async (state, expected) => {
    const name = leftovers(state)
    const profiles = (await client.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []
    const roles = (await client.send(new ListRolesCommand({}))).Roles ?? []
    expect(profiles.map((p) => p.InstanceProfileName)).toEqual(expected.profile ? [name] : [])
    expect(roles.map((r) => r.RoleName)).toEqual(expected.role ? [name] : [])
    expect(profiles[0]?.Roles?.length ?? 0).toBe(expected.attached ? 1 : 0)
    if (expected.role) {
      expect((await client.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames).toEqual(
        expected.policy ? [name] : []
      )
      expect((await client.send(new ListRoleTagsCommand({ RoleName: name }))).Tags).toHaveLength(2)
    }
    if (expected.profile)
      expect((await client.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: name }))).Tags).toHaveLength(
        2
      )
  })
})

describe('profiles at any path, holding any role', () => {
  it('a role held by Packer’s profile and by profiles at other paths: ListInstanceProfiles lists every holder; DeleteRole conflicts until none holds it', async () => {
    const name = leftovers('full')
    s.iam.seed({
      roles: [{ roleName: 'app-role', path: '/apps/' }],
      instanceProfiles: [
        { instanceProfileName: 'my-app-profile', roles: [name] },
        { instanceProfileName: 'ci-profile', path: '/ci/', roles: [name] },
        { instanceProfileName: 'app-profile', path: '/apps/', roles: ['app-role'] }
      ]
    })
    const listed = (await client.send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []
    expect(listed.map((p) => [p.InstanceProfileName, p.Path, p.Arn, p.Roles?.map((r) => r.RoleName)])).toEqual([
      ['app-profile', '/apps/', 'arn:aws:iam::123456789012:instance-profile/apps/app-profile', ['app-role']],
      ['ci-profile', '/ci/', 'arn:aws:iam::123456789012:instance-profile/ci/ci-profile', [name]],
      ['my-app-profile', '/', 'arn:aws:iam::123456789012:instance-profile/my-app-profile', [name]],
      [name, '/', `arn:aws:iam::123456789012:instance-profile/${name}`, [name]]
    ])
    expect(listed[0]?.Roles?.[0]).toMatchObject({ Path: '/apps/', Arn: 'arn:aws:iam::123456789012:role/apps/app-role' })
    const ci = (await client.send(new ListInstanceProfilesCommand({ PathPrefix: '/ci/' }))).InstanceProfiles ?? []
    expect(ci.map((p) => p.InstanceProfileName)).toEqual(['ci-profile'])

    await client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }))
    await client.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: name }))
    const conflict = {
      name: 'DeleteConflictException',
      message: 'Cannot delete entity, must remove roles from instance profile first.',
      status: 409
    }
    expect(await errorOf(client.send(new DeleteRoleCommand({ RoleName: name })))).toEqual(conflict)
    await client.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'my-app-profile', RoleName: name })
    )
    expect(await errorOf(client.send(new DeleteRoleCommand({ RoleName: name })))).toEqual(conflict)
    await client.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'ci-profile', RoleName: name }))
    await client.send(new DeleteRoleCommand({ RoleName: name }))
    expect(s.iam.role(name)).toBeUndefined()
  })

  it('packerIamLeftovers puts Packer’s profile at another path when asked (Packer itself uses /)', async () => {
    const seed = packerIamLeftovers({ ageSeconds: 7200, state: 'full', profilePath: '/builds/' })
    s.iam.seed(seed)
    const { InstanceProfile: profile } = await client.send(
      new GetInstanceProfileCommand({ InstanceProfileName: seed.name })
    )
    expect(profile).toMatchObject({
      Path: '/builds/',
      Arn: `arn:aws:iam::123456789012:instance-profile/builds/${seed.name}`,
      Roles: [{ Path: '/' }]
    })
    expect(s.iam.profileRef(seed.name).arn).toBe(profile?.Arn)
  })

  it('refuses to seed a profile holding more than one role, as IAM allows one', () => {
    s.iam.seed({ roles: [{ roleName: 'a' }, { roleName: 'b' }] })
    expect(() => s.iam.seed({ instanceProfiles: [{ instanceProfileName: 'two', roles: ['a', 'b'] }] })).toThrow(
      'sandbox: instance profile two holds 2 roles; IAM allows one'
    )
    expect(s.iam.instanceProfile('two')).toBeUndefined()
  })
})

describe('tag keys', () => {
  it('are unique ignoring case, as IAM’s are: a seed with two keys differing only in case is refused', () => {
    expect(() =>
      s.iam.seed({ roles: [{ roleName: 'r', tags: { 'Packer-Sweeper:Keep': '', 'packer-sweeper:keep': 'x' } }] })
    ).toThrow(
      'sandbox: role r has tag keys that differ only in case (Packer-Sweeper:Keep, packer-sweeper:keep); IAM tag keys are case-insensitive'
    )
    expect(() =>
      s.iam.seed({ instanceProfiles: [{ instanceProfileName: 'p', tags: { Team: 'a', TEAM: 'b' } }] })
    ).toThrow(
      'sandbox: instance profile p has tag keys that differ only in case (Team, TEAM); IAM tag keys are case-insensitive'
    )
    expect(s.iam.roles).toEqual([])
  })

  it('keep the casing they were written with', async () => {
    s.iam.seed({
      roles: [{ roleName: 'r', tags: { 'Packer-Sweeper:Keep': 'yes' } }],
      instanceProfiles: [{ instanceProfileName: 'p', tags: { 'PACKER-SWEEPER:KEEP': '' } }]
    })
    expect((await client.send(new ListRoleTagsCommand({ RoleName: 'r' }))).Tags).toEqual([
      { Key: 'Packer-Sweeper:Keep', Value: 'yes' }
    ])
    expect((await client.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: 'p' }))).Tags).toEqual([
      { Key: 'PACKER-SWEEPER:KEEP', Value: '' }
    ])
  })
})

describe('faults', () => {
  it('deny: AccessDenied naming the principal, the iam: action and the resource ARN; nothing changes', async () => {
    const name = leftovers('profile-only')
    s.faults.deny({ action: 'DeleteInstanceProfile' })
    const denied = await errorOf(client.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })))
    expect(denied).toEqual({
      name: 'AccessDenied',
      status: 403,
      message: `User: arn:aws:iam::123456789012:user/sandbox is not authorized to perform: iam:DeleteInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/${name} because no identity-based policy allows the iam:DeleteInstanceProfile action`
    })
    expect(s.iam.instanceProfile(name)).toBeDefined()
    s.faults.deny({ service: 'iam' })
    expect((await errorOf(client.send(new ListRolesCommand({})))).message).toContain(
      'iam:ListRoles on resource: arn:aws:iam::123456789012:role/ because'
    )
    expect(s.callsOf('ListRoles')).toMatchObject([{ service: 'iam', status: 403, errorCode: 'AccessDenied' }])
  })

  it('throttle: Throttling (400), which the SDK retries', async () => {
    leftovers('full')
    s.faults.throttle({ action: 'ListRoles', count: 2 })
    const retried = iam(s, 'us-east-1', { maxAttempts: 3 })
    expect((await retried.send(new ListRolesCommand({}))).Roles).toHaveLength(1)
    retried.destroy()
    expect(s.callsOf('ListRoles').map((c) => [c.status, c.errorCode])).toEqual([
      [400, 'Throttling'],
      [400, 'Throttling'],
      [200, undefined]
    ])
    s.faults.throttle({ service: 'iam', count: 1 })
    expect(await errorOf(client.send(new ListRolesCommand({})))).toMatchObject({
      name: 'Throttling',
      message: 'Rate exceeded',
      status: 400
    })
  })

  it('drop after processing: the role is gone though the client saw no answer', async () => {
    const name = leftovers('role-only')
    s.faults.drop({ action: 'DeleteRole', count: 1, afterProcessing: true })
    await errorOf(client.send(new DeleteRoleCommand({ RoleName: name })))
    expect(s.iam.role(name)).toBeUndefined()
    expect(s.callsOf('DeleteRole')).toMatchObject([{ outcome: 'dropped', status: 0 }])
  })

  it('silence and slow apply to IAM like to any service', async () => {
    leftovers('profile-only')
    s.faults.slow({ service: 'iam', delayMs: 150, count: 1 })
    await client.send(new ListInstanceProfilesCommand({}))
    expect(s.callsOf('ListInstanceProfiles')[0]).toMatchObject({ delayMs: 150, outcome: 'answered' })
    s.faults.silence({ service: 'iam', count: 1 })
    const impatient = iam(s, 'us-east-1', { requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } })
    expect((await errorOf(impatient.send(new ListInstanceProfilesCommand({})))).name).toBe('TimeoutError')
    impatient.destroy()
    expect(s.callsOf('ListInstanceProfiles')[1]).toMatchObject({ outcome: 'silenced', status: 0 })
  })
})

describe('EC2 instance profiles', () => {
  it('DescribeInstances shows an instance’s profile; DescribeIamInstanceProfileAssociations lists the associations per region, filtered and paged', async () => {
    const name = leftovers('full')
    const ref = s.iam.profileRef(name)
    s.fleet.seed({
      'us-east-1': {
        instances: [
          { id: 'i-00000001', iamInstanceProfile: ref },
          { id: 'i-00000002' },
          { id: 'i-00000003', iamInstanceProfile: ref, state: 'stopped' },
          { id: 'i-00000004', iamInstanceProfile: ref, state: 'terminated' },
          ...Array.from({ length: 6 }, (_, n) => ({ id: `i-0000001${n}`, iamInstanceProfile: ref }))
        ]
      },
      'eu-west-1': { instances: [{ id: 'i-00000009', iamInstanceProfile: ref }] }
    })
    const described = await ec2(s).send(new DescribeInstancesCommand({ InstanceIds: ['i-00000001', 'i-00000002'] }))
    const instances = described.Reservations?.flatMap((r) => r.Instances ?? []) ?? []
    expect(instances.map((i) => i.IamInstanceProfile)).toEqual([{ Arn: ref.arn, Id: ref.id }, undefined])

    const one = await ec2(s).send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: ['i-00000001'] }] })
    )
    expect(one.IamInstanceProfileAssociations).toEqual([
      {
        AssociationId: 'iip-assoc-00000000000000001',
        InstanceId: 'i-00000001',
        IamInstanceProfile: { Arn: ref.arn, Id: ref.id },
        State: 'associated',
        Timestamp: expect.any(Date)
      }
    ])
    const pages = await collect(
      paginateDescribeIamInstanceProfileAssociations(
        { client: ec2(s), pageSize: 5 },
        { Filters: [{ Name: 'state', Values: ['associated'] }] }
      )
    )
    expect(pages.map((p) => p.IamInstanceProfileAssociations?.length)).toEqual([5, 3])
    const all = pages.flatMap((p) => p.IamInstanceProfileAssociations ?? []).map((a) => a.InstanceId)
    expect(all).not.toContain('i-00000002')
    expect(all).not.toContain('i-00000004')
    const disassociating = await ec2(s).send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'state', Values: ['disassociating'] }] })
    )
    expect(disassociating.IamInstanceProfileAssociations).toEqual([])
    const eu = await ec2(s, 'eu-west-1').send(new DescribeIamInstanceProfileAssociationsCommand({}))
    expect(eu.IamInstanceProfileAssociations?.map((a) => a.InstanceId)).toEqual(['i-00000009'])
  })
})
