import { describe, expect, it } from '@jest/globals'
import {
  groupLeftovers,
  heldByReason,
  isPackerIamName,
  isPackerProfileName,
  isPackerRole,
  judgeLeftover,
  leftoverAge,
  placeInProfiles,
  profileLabel,
  removalSteps,
  trustsOnlyEc2,
  type IamLeftover,
  type IamRules,
  type ListedProfile,
  type ListedRole
} from '../../../../src/kinds/instance-profiles/rules.js'
import { EC2_TRUST_POLICY } from '../../../../sandbox/index.js'
import { hoursBefore, NOW, packerName } from '../../../../__fixtures__/support.js'

const RULES: IamRules = { maxAgeSeconds: 2 * 3600, excludeTag: ['packer-sweeper:keep'], tags: [] }

/** `packer-<uuid>` of a build that started `hours` before NOW: the key pair's name with Packer's IAM hyphen. */
function iamName(hours: number, seed?: string): string {
  return packerName(hours * 3600, NOW, seed).replace(/^packer_/, 'packer-')
}

/** A trust policy as IAM answers it: URL-encoded JSON. */
function trust(statement: unknown): string {
  return encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statement }))
}

const EC2_ASSUME = { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }

type LeftoverRole = NonNullable<IamLeftover['role']>
type LeftoverProfile = NonNullable<IamLeftover['profile']>

function role(name: string, overrides: Partial<LeftoverRole> = {}): LeftoverRole {
  return {
    name,
    arn: `arn:aws:iam::123456789012:role/${name}`,
    path: '/',
    description: 'Temporary role for Packer',
    trustPolicy: encodeURIComponent(EC2_TRUST_POLICY),
    createDate: hoursBefore(NOW, 3),
    tags: new Map(),
    inlinePolicies: [name],
    managedPolicies: [],
    ...overrides
  }
}

function profile(name: string, overrides: Partial<LeftoverProfile> = {}): LeftoverProfile {
  return {
    name,
    arn: `arn:aws:iam::123456789012:instance-profile/${name}`,
    path: '/',
    createDate: hoursBefore(NOW, 3),
    roles: [name],
    tags: new Map(),
    ...overrides
  }
}

/** The full set a build killed mid-way leaves, 3 hours old: the profile holding the role, the role with its policy. */
function leftover(
  parts: {
    name?: string
    profile?: Partial<LeftoverProfile> | false
    role?: Partial<LeftoverRole> | false
    foreignRole?: string
  } = {}
): IamLeftover {
  const name = parts.name ?? iamName(3)
  const result: IamLeftover = { name }
  if (parts.profile !== false) result.profile = profile(name, parts.profile || {})
  if (parts.role !== false) result.role = role(name, parts.role || {})
  if (parts.foreignRole) result.foreignRole = parts.foreignRole
  return result
}

const judge = (subject: IamLeftover, rules: Partial<IamRules> = {}) =>
  judgeLeftover(subject, leftoverAge(subject, NOW), { ...RULES, ...rules })

describe('isPackerIamName', () => {
  const uuid = iamName(3).slice('packer-'.length)

  it("is packer- and a TimeOrderedUUID in lowercase hex, as Go's %x writes it", () => {
    expect(isPackerIamName(`packer-${uuid}`)).toBe(true)
    expect(isPackerIamName('packer-6745a1b2-0a1b-2c3d-4e5f-0123456789ab')).toBe(true)
  })

  it.each([
    ['the key pair and group underscore', `packer_${uuid}`],
    ['uppercase hex', `packer-${uuid.toUpperCase()}`],
    ['an uppercase prefix', `Packer-${uuid}`],
    ['an extra suffix', `packer-${uuid}-copy`],
    ['a trailing character', `packer-${uuid}0`],
    ['a leading character', `xpacker-${uuid}`],
    ['a first group one digit short', 'packer-6745a1b-0a1b-2c3d-4e5f-0123456789ab'],
    ['a last group one digit short', 'packer-6745a1b2-0a1b-2c3d-4e5f-0123456789a'],
    ['a last group one digit long', 'packer-6745a1b2-0a1b-2c3d-4e5f-0123456789abc'],
    ['a middle group of five', 'packer-6745a1b2-0a1b2-2c3d-4e5f-0123456789ab'],
    ['no UUID', 'packer-'],
    ['non-hex letters', 'packer-6745a1g2-0a1b-2c3d-4e5f-0123456789ab'],
    ['no hyphens', 'packer-6745a1b20a1b2c3d4e5f0123456789ab']
  ])("refuses %s: Packer's step never writes it", (_, name) => {
    expect(isPackerIamName(name)).toBe(false)
  })
})

describe('isPackerProfileName', () => {
  it('needs the path /', () => {
    const name = iamName(3)
    expect(isPackerProfileName({ name, path: '/' })).toBe(true)
    expect(isPackerProfileName({ name, path: '/packer/' })).toBe(false)
    expect(isPackerProfileName({ name, path: '' })).toBe(false)
    expect(isPackerProfileName({ name: `packer_${name.slice('packer-'.length)}`, path: '/' })).toBe(false)
  })
})

describe('trustsOnlyEc2', () => {
  it("is Packer's trust policy, URL-encoded as IAM returns it", () => {
    expect(trustsOnlyEc2(encodeURIComponent(EC2_TRUST_POLICY))).toBe(true)
    expect(trustsOnlyEc2(trust([EC2_ASSUME]))).toBe(true)
  })

  it('takes a single statement object and one-element arrays for the service and the action', () => {
    expect(trustsOnlyEc2(trust(EC2_ASSUME))).toBe(true)
    expect(
      trustsOnlyEc2(
        trust([{ ...EC2_ASSUME, Principal: { Service: ['ec2.amazonaws.com'] }, Action: ['sts:AssumeRole'] }])
      )
    ).toBe(true)
  })

  it.each<[string, unknown]>([
    [
      'a second statement',
      [EC2_ASSUME, { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]
    ],
    ['a Condition', [{ ...EC2_ASSUME, Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } }]],
    [
      'another principal next to the service',
      [{ ...EC2_ASSUME, Principal: { Service: 'ec2.amazonaws.com', AWS: 'arn:aws:iam::123456789012:root' } }]
    ],
    ['another service', [{ ...EC2_ASSUME, Principal: { Service: 'lambda.amazonaws.com' } }]],
    [
      'an array with two services',
      [{ ...EC2_ASSUME, Principal: { Service: ['ec2.amazonaws.com', 'ecs-tasks.amazonaws.com'] } }]
    ],
    ['an account principal', [{ ...EC2_ASSUME, Principal: { AWS: 'arn:aws:iam::123456789012:root' } }]],
    ['a wildcard principal', [{ ...EC2_ASSUME, Principal: '*' }]],
    ['NotAction', [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, NotAction: 'sts:AssumeRole' }]],
    [
      'NotPrincipal',
      [
        {
          Effect: 'Allow',
          NotPrincipal: { Service: 'ec2.amazonaws.com' },
          Principal: { Service: 'ec2.amazonaws.com' },
          Action: 'sts:AssumeRole'
        }
      ]
    ],
    ['Deny', [{ ...EC2_ASSUME, Effect: 'Deny' }]],
    ['another action', [{ ...EC2_ASSUME, Action: 'sts:AssumeRoleWithWebIdentity' }]],
    ['two actions', [{ ...EC2_ASSUME, Action: ['sts:AssumeRole', 'sts:TagSession'] }]],
    ['a wildcard action', [{ ...EC2_ASSUME, Action: 'sts:*' }]],
    ['no statement', []]
  ])('is not Packer’s with %s', (_, statement) => {
    expect(trustsOnlyEc2(trust(statement))).toBe(false)
  })

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not JSON', encodeURIComponent('{"Statement":')],
    ['a broken escape', '%E0%A4%A']
  ])('is false for a document %s', (_, document) => {
    expect(trustsOnlyEc2(document)).toBe(false)
  })
})

describe('isPackerRole', () => {
  const name = iamName(3)
  const listed = (overrides: Partial<ListedRole> = {}): ListedRole => {
    const { tags: _tags, inlinePolicies: _inline, managedPolicies: _managed, ...rest } = role(name)
    return { ...rest, ...overrides }
  }

  it('is a role named, placed, described and trusting as Packer creates it', () => {
    expect(isPackerRole(listed())).toBe(true)
  })

  it.each<[string, Partial<ListedRole>]>([
    ['another description', { description: 'Temporary role for Packer builds' }],
    ['no description', { description: undefined }],
    ['another path', { path: '/service-role/' }],
    [
      'a trust policy with a Condition',
      { trustPolicy: trust([{ ...EC2_ASSUME, Condition: { Bool: { 'aws:SecureTransport': 'true' } } }]) }
    ],
    ['no trust policy', { trustPolicy: undefined }],
    ['the underscore name', { name: `packer_${name.slice('packer-'.length)}` }]
  ])('is not with %s', (_, overrides) => {
    expect(isPackerRole(listed(overrides))).toBe(false)
  })
})

describe('leftoverAge', () => {
  it("is the name's build start when the CreateDates agree with it", () => {
    const subject = leftover({
      profile: { createDate: hoursBefore(NOW, 3) },
      role: { createDate: hoursBefore(NOW, 3) }
    })
    expect(leftoverAge(subject, NOW)).toEqual({
      createdAt: hoursBefore(NOW, 3),
      ageSource: 'create-time',
      ageSeconds: 3 * 3600
    })
  })

  it('counts the youngest of the name, the profile and the role, and notes when they disagree', () => {
    const subject = leftover({
      name: iamName(30),
      profile: { createDate: hoursBefore(NOW, 29) },
      role: { createDate: hoursBefore(NOW, 4) }
    })
    const age = leftoverAge(subject, NOW)
    expect(age).toMatchObject({ createdAt: hoursBefore(NOW, 4), ageSource: 'create-time', ageSeconds: 4 * 3600 })
    expect(age.note).toBe(
      `name timestamp ${hoursBefore(NOW, 30).toISOString()} and CreateTime ${hoursBefore(NOW, 4).toISOString()} disagree; aged by the younger (CreateTime)`
    )
  })

  it('takes the name when it is younger than both CreateDates (a name reused on older resources)', () => {
    const subject = leftover({
      name: iamName(3),
      profile: { createDate: hoursBefore(NOW, 30) },
      role: { createDate: hoursBefore(NOW, 20) }
    })
    const age = leftoverAge(subject, NOW)
    expect(age).toMatchObject({ createdAt: hoursBefore(NOW, 3), ageSource: 'name', ageSeconds: 3 * 3600 })
    expect(age.note).toContain('aged by the younger (name)')
  })

  it('uses the one part there is', () => {
    expect(
      leftoverAge(leftover({ role: false, profile: { createDate: hoursBefore(NOW, 5) }, name: iamName(5) }), NOW)
    ).toEqual({
      createdAt: hoursBefore(NOW, 5),
      ageSource: 'create-time',
      ageSeconds: 5 * 3600
    })
    expect(leftoverAge(leftover({ profile: false, role: { createDate: undefined }, name: iamName(5) }), NOW)).toEqual({
      createdAt: hoursBefore(NOW, 5),
      ageSource: 'name',
      ageSeconds: 5 * 3600
    })
  })

  it('is unknown without a plausible build start in the name and without CreateDates', () => {
    const subject = leftover({
      name: 'packer-00000001-0a1b-2c3d-4e5f-0123456789ab',
      profile: { createDate: undefined },
      role: { createDate: undefined }
    })
    expect(leftoverAge(subject, NOW)).toEqual({ ageSource: 'unknown' })
  })
})

describe('judgeLeftover', () => {
  it('sends a stale full set of Packer’s to the usage check', () => {
    expect(judge(leftover())).toEqual({ verdict: 'check-usage' })
  })

  it('ignores a fresh one, and a stale one only when it is older than max-age (0: every age)', () => {
    expect(
      judge(
        leftover({
          name: iamName(1),
          profile: { createDate: hoursBefore(NOW, 1) },
          role: { createDate: hoursBefore(NOW, 1) }
        })
      )
    ).toEqual({
      verdict: 'ignore'
    })
    expect(
      judge(
        leftover({
          name: iamName(2),
          profile: { createDate: hoursBefore(NOW, 2) },
          role: { createDate: hoursBefore(NOW, 2) }
        })
      )
    ).toEqual({
      verdict: 'ignore'
    })
    expect(
      judge(
        leftover({
          name: iamName(1),
          profile: { createDate: hoursBefore(NOW, 1) },
          role: { createDate: hoursBefore(NOW, 1) }
        }),
        { maxAgeSeconds: 0 }
      )
    ).toEqual({
      verdict: 'check-usage'
    })
  })

  it('ignores a leftover whose name is old but whose role was created recently: the youngest counts', () => {
    expect(
      judge(
        leftover({
          name: iamName(30),
          profile: { createDate: hoursBefore(NOW, 30) },
          role: { createDate: hoursBefore(NOW, 1) }
        })
      )
    ).toEqual({
      verdict: 'ignore'
    })
  })

  it('skips a leftover of unknown age', () => {
    const subject = leftover({
      name: 'packer-00000001-0a1b-2c3d-4e5f-0123456789ab',
      profile: { createDate: undefined },
      role: { createDate: undefined }
    })
    expect(judge(subject)).toEqual({ verdict: 'skip', reason: 'age unknown' })
  })

  describe('tags', () => {
    const tags = [{ key: 'github-run-id', value: '42' }]
    const runTags = new Map([['github-run-id', '42']])

    it('match when every part the build left carries them', () => {
      expect(judge(leftover({ profile: { tags: runTags }, role: { tags: runTags } }), { tags })).toEqual({
        verdict: 'check-usage'
      })
      expect(judge(leftover({ profile: { tags: runTags }, role: false }), { tags })).toEqual({ verdict: 'check-usage' })
      expect(judge(leftover({ profile: false, role: { tags: runTags } }), { tags })).toEqual({ verdict: 'check-usage' })
    })

    it('do not match when the profile or the role lacks them', () => {
      expect(judge(leftover({ profile: { tags: runTags }, role: { tags: new Map() } }), { tags })).toEqual({
        verdict: 'ignore'
      })
      expect(judge(leftover({ profile: { tags: new Map() }, role: { tags: runTags } }), { tags })).toEqual({
        verdict: 'ignore'
      })
      expect(
        judge(leftover({ profile: { tags: new Map([['github-run-id', '43']]) }, role: { tags: runTags } }), { tags })
      ).toEqual({ verdict: 'ignore' })
    })

    it('match by EC2 wildcards in the value', () => {
      expect(
        judge(leftover({ profile: { tags: runTags }, role: { tags: runTags } }), {
          tags: [{ key: 'github-run-id', value: '4?' }]
        })
      ).toEqual({
        verdict: 'check-usage'
      })
    })
  })

  it.each<[string, Parameters<typeof leftover>[0]]>([
    ['the role', { role: { tags: new Map([['packer-sweeper:keep', '']]) } }],
    ['the profile', { profile: { tags: new Map([['packer-sweeper:keep', 'yes']]) } }],
    [
      'the profile of a profile-only leftover',
      { role: false, profile: { tags: new Map([['packer-sweeper:keep', '']]), roles: [] } }
    ]
  ])('skips when the exclude-tag is on %s', (_, parts) => {
    expect(judge(leftover(parts))).toEqual({ verdict: 'skip', reason: 'carries the packer-sweeper:keep tag' })
  })

  it.each(['Packer-Sweeper:Keep', 'PACKER-SWEEPER:KEEP', 'packer-Sweeper:keep'])(
    'skips when the exclude-tag is written %s: IAM tag keys are case-insensitive',
    (key) => {
      expect(judge(leftover({ role: { tags: new Map([[key, '']]) } }))).toEqual({
        verdict: 'skip',
        reason: 'carries the packer-sweeper:keep tag'
      })
      expect(judge(leftover({ profile: { tags: new Map([[key, '']]) } }))).toEqual({
        verdict: 'skip',
        reason: 'carries the packer-sweeper:keep tag'
      })
      expect(
        judge(leftover({ role: { tags: new Map([[key.toLowerCase(), '']]) } }), { excludeTag: [key] })
      ).toMatchObject({ verdict: 'skip' })
    }
  )

  it('matches `tags` keys ignoring case, values still as written', () => {
    const runTags = new Map([['GitHub-Run-Id', '42']])
    const subject = leftover({ profile: { tags: runTags }, role: { tags: runTags } })
    expect(judge(subject, { tags: [{ key: 'github-run-id', value: '42' }] })).toEqual({ verdict: 'check-usage' })
    expect(judge(subject, { tags: [{ key: 'GITHUB-RUN-ID', value: '4?' }] })).toEqual({ verdict: 'check-usage' })
    const lowerValue = new Map([['team', 'images']])
    expect(
      judge(leftover({ profile: { tags: lowerValue }, role: { tags: lowerValue } }), {
        tags: [{ key: 'team', value: 'Images' }]
      })
    ).toEqual({
      verdict: 'ignore'
    })
  })

  it('an empty exclude-tag excludes nothing', () => {
    expect(judge(leftover({ role: { tags: new Map([['', 'x']]) } }), { excludeTag: [] })).toEqual({
      verdict: 'check-usage'
    })
  })

  it.each<[string, Parameters<typeof leftover>[0], string]>([
    ['the role carries the second key', { role: { tags: new Map([['do-not-delete', 'true']]) } }, 'do-not-delete'],
    ['the profile carries the second key', { profile: { tags: new Map([['do-not-delete', '']]) } }, 'do-not-delete'],
    [
      'the role carries the first key',
      { role: { tags: new Map([['packer-sweeper:keep', '']]) } },
      'packer-sweeper:keep'
    ]
  ])('with several exclude-tag keys, any of them skips and the reason names it: %s', (_, parts, key) => {
    expect(judge(leftover(parts), { excludeTag: ['packer-sweeper:keep', 'do-not-delete'] })).toEqual({
      verdict: 'skip',
      reason: `carries the ${key} tag`
    })
  })

  it('skips a profile that holds a role Packer did not create for it', () => {
    const subject = leftover({ profile: { roles: ['builder'] }, role: false })
    expect(judge(subject)).toEqual({
      verdict: 'skip',
      reason: 'the profile holds builder, a role Packer did not create for it'
    })
  })

  it("skips a leftover whose role of the same name is not Packer's", () => {
    const name = iamName(3)
    expect(judge(leftover({ name, role: false, foreignRole: name }))).toEqual({
      verdict: 'skip',
      reason: `the role ${name} is not Packer's (description, trust policy or path differ)`
    })
  })

  it('skips a role with managed policies, naming them', () => {
    const subject = leftover({
      role: { managedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws:iam::123456789012:policy/ci'] }
    })
    expect(judge(subject)).toEqual({
      verdict: 'skip',
      reason:
        'the role has managed policies attached (arn:aws:iam::aws:policy/ReadOnlyAccess, arn:aws:iam::123456789012:policy/ci), which Packer never attaches'
    })
  })

  it('skips a role with an inline policy of another name', () => {
    const subject = leftover()
    expect(judge(leftover({ name: subject.name, role: { inlinePolicies: [subject.name, 'extra-s3'] } }))).toEqual({
      verdict: 'skip',
      reason: 'the role has inline policies Packer would not have created (extra-s3)'
    })
  })
})

describe('removalSteps', () => {
  it.each<[string, Parameters<typeof leftover>[0], string[]]>([
    ['profile only', { role: false, profile: { roles: [] } }, ['delete-instance-profile']],
    [
      'profile and role, the role not in it',
      { profile: { roles: [] }, role: { inlinePolicies: [] } },
      ['delete-role', 'delete-instance-profile']
    ],
    [
      'profile, role with its policy, the role not in it',
      { profile: { roles: [] } },
      ['delete-role-policy', 'delete-role', 'delete-instance-profile']
    ],
    ['the full set', {}, ['remove-role-from-profile', 'delete-role-policy', 'delete-role', 'delete-instance-profile']],
    ['role only', { profile: false, role: { inlinePolicies: [] } }, ['delete-role']],
    ['role with its policy only', { profile: false }, ['delete-role-policy', 'delete-role']]
  ])("%s: Packer's own clean-up order for what is there", (_, parts, expected) => {
    expect(removalSteps(leftover(parts))).toEqual(expected)
  })

  it('never takes a foreign role of the same name out of the profile (judgeLeftover skips that leftover anyway)', () => {
    const name = iamName(3)
    expect(removalSteps(leftover({ name, role: false, foreignRole: name }))).toEqual(['delete-instance-profile'])
  })
})

/** A profile as ListInstanceProfiles lists it (every path), holding `roles`. */
function listedProfile(name: string, roles: string[] = [], path = '/'): ListedProfile {
  return {
    name,
    arn: `arn:aws:iam::123456789012:instance-profile${path}${name}`,
    path,
    roles,
    createDate: hoursBefore(NOW, 3)
  }
}

function listedRole(name: string, overrides: Partial<ListedRole> = {}): ListedRole {
  const { tags: _tags, inlinePolicies: _inline, managedPolicies: _managed, ...rest } = role(name)
  return { ...rest, ...overrides }
}

describe('groupLeftovers: every part of a build with every profile that holds its role (issue 17)', () => {
  const name = iamName(3)

  it('the full set alone: its own profile, no other holder', () => {
    const [only, ...rest] = groupLeftovers([listedProfile(name, [name])], [listedRole(name)])
    expect(rest).toEqual([])
    expect(only).toMatchObject({ name, profile: { name, roles: [name] }, role: { name } })
    expect(only?.heldBy).toBeUndefined()
    expect(only?.foreignProfile).toBeUndefined()
  })

  it('keeps every profile that holds the role, at any path and of any name, Packer-named ones included', () => {
    const other = iamName(4, 'other')
    const holders = [
      listedProfile('my-app-profile', [name]),
      listedProfile('ci', [name], '/ci/'),
      listedProfile(other, [name])
    ]
    const leftovers = groupLeftovers(
      [listedProfile(name, [name]), ...holders, listedProfile('unrelated', ['app-role'])],
      [listedRole(name)]
    )
    expect(leftovers.find((leftover) => leftover.name === name)?.heldBy).toEqual(holders)
    // The other Packer-named profile is a build of its own, holding a role that is not its own.
    expect(leftovers.find((leftover) => leftover.name === other)).toMatchObject({ profile: { roles: [name] } })
  })

  it('compares role names ignoring case, as IAM does', () => {
    const [leftover] = groupLeftovers([listedProfile('my-app-profile', [name.toUpperCase()])], [listedRole(name)])
    expect(leftover?.heldBy?.map((profile) => profile.name)).toEqual(['my-app-profile'])
  })

  it('a profile of Packer’s name at another path is not the build’s own: it is foreign, and a holder when it holds the role', () => {
    const elsewhere = listedProfile(name, [name], '/builds/')
    const [held] = groupLeftovers([elsewhere], [listedRole(name)])
    expect(held?.profile).toBeUndefined()
    expect(held).toMatchObject({ foreignProfile: elsewhere, heldBy: [elsewhere] })
    const [empty] = groupLeftovers([listedProfile(name, [], '/builds/')], [listedRole(name)])
    expect(empty).toMatchObject({ foreignProfile: { path: '/builds/' } })
    expect(empty?.heldBy).toBeUndefined()
  })

  it('a Packer-named profile at another path with no role of its name is still reported, never removed', () => {
    const [leftover] = groupLeftovers([listedProfile(name, [], '/x/')], [])
    expect(judge(leftover as IamLeftover)).toEqual({
      verdict: 'skip',
      reason: `the instance profile /x/${name} is not Packer's (Packer creates it at /)`
    })
  })

  it('profiles and roles not named like Packer’s make no build', () => {
    expect(groupLeftovers([listedProfile('my-app-profile', ['app-role'])], [listedRole('app-role')])).toEqual([])
  })
})

describe('placeInProfiles: the build as the profiles show it now', () => {
  const name = iamName(3)

  it('takes its own profile’s roles and the other holders from the new listing, keeping the parts it was planned with', () => {
    const planned = leftover({ name })
    const placed = placeInProfiles(planned, [listedProfile(name, []), listedProfile('my-app-profile', [name])])
    expect(placed.profile).toEqual({ ...planned.profile, roles: [] })
    expect(placed.role).toBe(planned.role)
    expect(placed.heldBy?.map((profile) => profile.name)).toEqual(['my-app-profile'])
  })

  it('never adopts a profile that appeared since: a profile of its name that was not planned is foreign', () => {
    const planned = leftover({ name, profile: false })
    const placed = placeInProfiles(planned, [listedProfile(name, [])])
    expect(placed.profile).toBeUndefined()
    expect(placed.foreignProfile?.name).toBe(name)
    expect(removalSteps(placed)).toEqual(['delete-role-policy', 'delete-role'])
    expect(judge(placed)).toEqual({
      verdict: 'skip',
      reason: `the instance profile ${name} is not Packer's (Packer creates it at /)`
    })
  })

  it('drops holders that no longer hold the role', () => {
    const planned = { ...leftover({ name }), heldBy: [listedProfile('my-app-profile', [name])] }
    expect(
      placeInProfiles(planned, [listedProfile(name, [name]), listedProfile('my-app-profile', [])]).heldBy
    ).toBeUndefined()
  })
})

describe('judgeLeftover: a role other profiles hold', () => {
  const name = iamName(3)
  const holders = [listedProfile('my-app-profile', [name]), listedProfile('ci', [name], '/ci/')]

  it('skips the whole build, naming every holder and carrying them for the usage check', () => {
    expect(judge({ ...leftover({ name }), heldBy: holders })).toEqual({
      verdict: 'skip',
      reason: 'in use by instance profile my-app-profile and by instance profile /ci/ci',
      heldBy: holders
    })
  })

  it('whatever else the build is: a role alone, a build of unknown age', () => {
    expect(judge({ ...leftover({ name, profile: false }), heldBy: holders })).toMatchObject({
      verdict: 'skip',
      heldBy: holders
    })
    const unknown = leftover({
      name: 'packer-00000001-0a1b-2c3d-4e5f-0123456789ab',
      profile: { createDate: undefined },
      role: { createDate: undefined }
    })
    expect(judge({ ...unknown, heldBy: holders })).toMatchObject({ verdict: 'skip', heldBy: holders })
  })

  it('the exclude-tag still comes first; a fresh build is still not reported', () => {
    expect(
      judge({ ...leftover({ name, role: { tags: new Map([['packer-sweeper:keep', '']]) } }), heldBy: holders })
    ).toEqual({
      verdict: 'skip',
      reason: 'carries the packer-sweeper:keep tag'
    })
    const fresh = leftover({
      name: iamName(1),
      profile: { createDate: hoursBefore(NOW, 1) },
      role: { createDate: hoursBefore(NOW, 1) }
    })
    expect(judge({ ...fresh, heldBy: holders })).toEqual({ verdict: 'ignore' })
  })

  it('heldByReason names the instances that run with each holder', () => {
    const users: Record<string, string[]> = { 'my-app-profile': ['i-0a (eu-west-1)', 'i-0b (us-east-1)'] }
    expect(heldByReason(holders, (profile) => users[profile.name] ?? [])).toBe(
      'in use by instance profile my-app-profile, itself used by i-0a (eu-west-1), i-0b (us-east-1) and by instance profile /ci/ci'
    )
  })

  it('profileLabel puts a path other than / before the name, as the ARN does', () => {
    expect(profileLabel({ name: 'a', path: '/' })).toBe('a')
    expect(profileLabel({ name: 'a', path: '/ci/x/' })).toBe('/ci/x/a')
  })
})
