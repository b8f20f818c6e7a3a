import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import type { Candidate } from '../../../src/engine/leftover-model.js'
import {
  AGE_DISAGREEMENT_TOLERANCE_SECONDS,
  deriveAge,
  excludedBy,
  isExcluded,
  judgeCandidate,
  judgeUsage,
  keyPairOnlyReported,
  matchesAnyPattern,
  matchesTags,
  remainingUses
} from '../../../src/engine/rules.js'
import type { TagFilter } from '../../../src/model/types.js'
import { hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const RULES = { maxAgeSeconds: 2 * 3600, excludeTag: ['packer-sweeper:keep'] }

function candidate(overrides: Partial<Candidate> = {}): Candidate {
  return { kind: 'key-pairs', id: 'packer_x', name: 'packer_x', tags: new Map(), ...overrides }
}

describe('deriveAge', () => {
  it('uses CreateTime when the name carries no timestamp', () => {
    expect(deriveAge({ name: 'packer_something', createTime: hoursBefore(NOW, 3) }, NOW)).toEqual({
      createdAt: hoursBefore(NOW, 3),
      ageSource: 'create-time',
      ageSeconds: 3 * 3600
    })
  })

  it("uses the name's build start when there is no CreateTime (security groups)", () => {
    expect(deriveAge({ name: packerName(5 * 3600, NOW) }, NOW)).toEqual({
      createdAt: hoursBefore(NOW, 5),
      ageSource: 'name',
      ageSeconds: 5 * 3600
    })
  })

  it('knows no age without either', () => {
    expect(deriveAge({ name: 'packer_something' }, NOW)).toEqual({ ageSource: 'unknown' })
  })

  it('uses CreateTime without a note when it follows the build start closely, as Packer does', () => {
    const age = deriveAge(
      { name: packerName(3 * 3600, NOW), createTime: new Date(hoursBefore(NOW, 3).getTime() + 40_000) },
      NOW
    )
    expect(age).toEqual({
      createdAt: new Date(hoursBefore(NOW, 3).getTime() + 40_000),
      ageSource: 'create-time',
      ageSeconds: 3 * 3600 - 40
    })
  })

  it('takes the younger CreateTime and says so when the name claims a much older build', () => {
    const age = deriveAge({ name: packerName(48 * 3600, NOW), createTime: hoursBefore(NOW, 1) }, NOW)
    expect(age.ageSource).toBe('create-time')
    expect(age.ageSeconds).toBe(3600)
    expect(age.note).toMatch(/disagree; aged by the younger \(CreateTime\)/)
  })

  it('takes the younger name timestamp and says so when CreateTime is much older', () => {
    const age = deriveAge({ name: packerName(3600, NOW), createTime: hoursBefore(NOW, 48) }, NOW)
    expect(age.ageSource).toBe('name')
    expect(age.ageSeconds).toBe(3600)
    expect(age.note).toMatch(/aged by the younger \(name\)/)
  })

  it('notes a disagreement only beyond the tolerance', () => {
    const createTime = hoursBefore(NOW, 3)
    const within = 3 * 3600 + AGE_DISAGREEMENT_TOLERANCE_SECONDS
    const beyond = within + 1
    expect(deriveAge({ name: packerName(within, NOW), createTime }, NOW).note).toBeUndefined()
    expect(deriveAge({ name: packerName(beyond, NOW), createTime }, NOW).note).toBeDefined()
  })

  it('is never older than either clock says', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (nameAge, createAge) => {
        const age = deriveAge(
          { name: packerName(nameAge, NOW), createTime: new Date(NOW.getTime() - createAge * 1000) },
          NOW
        )
        expect(age.ageSeconds).toBe(Math.min(nameAge, createAge))
      })
    )
  })
})

describe('matching', () => {
  it.each([
    ['packer_abc', ['packer_*'], true],
    ['Packer_abc', ['packer_*'], false],
    ['ci-key-1', ['packer_*', 'ci-key-?'], true],
    ['ci-key-10', ['packer_*', 'ci-key-?'], false],
    ['anything', [], true]
  ])('%s against %j: %s', (name, patterns, expected) => {
    expect(matchesAnyPattern(name, patterns)).toBe(expected)
  })

  it('needs every tag filter to match, values by wildcard', () => {
    const tags = new Map([
      ['github-run-id', '1234'],
      ['team', 'images']
    ])
    expect(matchesTags(tags, [], 'case-sensitive')).toBe(true)
    expect(matchesTags(tags, [{ key: 'github-run-id', value: '12*' }], 'case-sensitive')).toBe(true)
    expect(
      matchesTags(
        tags,
        [
          { key: 'github-run-id', value: '1234' },
          { key: 'team', value: 'img' }
        ],
        'case-sensitive'
      )
    ).toBe(false)
    expect(matchesTags(tags, [{ key: 'missing', value: '*' }], 'case-sensitive')).toBe(false)
  })
})

describe('tag keys by the service’s case rule (EC2 exact, IAM ignoring case)', () => {
  const tags = new Map([
    ['Team', 'Images'],
    ['Packer-Sweeper:Keep', '']
  ])

  it('matchesTags: keys exactly for EC2, ignoring case for IAM; values by wildcard, case-sensitive either way', () => {
    expect(matchesTags(tags, [{ key: 'team', value: 'Images' }], 'case-sensitive')).toBe(false)
    expect(matchesTags(tags, [{ key: 'Team', value: 'Images' }], 'case-sensitive')).toBe(true)
    expect(matchesTags(tags, [{ key: 'team', value: 'Images' }], 'case-insensitive')).toBe(true)
    expect(matchesTags(tags, [{ key: 'TEAM', value: 'Im*' }], 'case-insensitive')).toBe(true)
    expect(matchesTags(tags, [{ key: 'team', value: 'images' }], 'case-insensitive')).toBe(false)
  })

  it('isExcluded: the exclude-tag key exactly for EC2, in any casing for IAM; an empty one excludes nothing', () => {
    expect(isExcluded(tags, ['packer-sweeper:keep'], 'case-sensitive')).toBe(false)
    expect(isExcluded(tags, ['Packer-Sweeper:Keep'], 'case-sensitive')).toBe(true)
    expect(isExcluded(tags, ['packer-sweeper:keep'], 'case-insensitive')).toBe(true)
    expect(isExcluded(tags, ['PACKER-SWEEPER:KEEP'], 'case-insensitive')).toBe(true)
    expect(isExcluded(tags, [''], 'case-insensitive')).toBe(false)
  })
})

describe('judgeCandidate', () => {
  const stale = { createdAt: hoursBefore(NOW, 3), ageSource: 'create-time' as const, ageSeconds: 3 * 3600 }
  const fresh = { createdAt: hoursBefore(NOW, 1), ageSource: 'create-time' as const, ageSeconds: 3600 }
  const keep = new Map([['packer-sweeper:keep', '']])

  it('leaves fresh resources out', () => {
    expect(judgeCandidate(candidate(), fresh, RULES)).toEqual({ verdict: 'fresh' })
    expect(judgeCandidate(candidate({ tags: keep }), fresh, RULES)).toEqual({ verdict: 'fresh' })
  })

  it('skips the exclude-tag, also over an unknown age', () => {
    expect(judgeCandidate(candidate({ tags: keep }), stale, RULES)).toEqual({
      verdict: 'skip',
      reason: 'carries the packer-sweeper:keep tag'
    })
    expect(judgeCandidate(candidate({ tags: keep }), { ageSource: 'unknown' }, RULES)).toEqual({
      verdict: 'skip',
      reason: 'carries the packer-sweeper:keep tag'
    })
  })

  it('skips an unknown age', () => {
    expect(judgeCandidate(candidate(), { ageSource: 'unknown' }, RULES)).toEqual({
      verdict: 'skip',
      reason: 'age unknown'
    })
  })

  it('sends stale ones on to the usage check; max-age 0 takes every age', () => {
    expect(judgeCandidate(candidate(), stale, RULES)).toEqual({ verdict: 'check-usage' })
    expect(judgeCandidate(candidate(), { ...fresh, ageSeconds: 0 }, { ...RULES, maxAgeSeconds: 0 })).toEqual({
      verdict: 'check-usage'
    })
  })

  it("skips what the kind's own rule only reports, after the exclude-tag and an unknown age; fresh ones stay out", () => {
    const rules = {
      ...RULES,
      onlyReported: (judged: Candidate) => (judged.name === 'prod-bastion' ? 'not Packer’s' : undefined)
    }
    const bastion = candidate({ id: 'prod-bastion', name: 'prod-bastion' })
    expect(judgeCandidate(bastion, stale, rules)).toEqual({ verdict: 'skip', reason: 'not Packer’s' })
    expect(judgeCandidate(candidate(), stale, rules)).toEqual({ verdict: 'check-usage' })
    expect(judgeCandidate(bastion, fresh, rules)).toEqual({ verdict: 'fresh' })
    expect(judgeCandidate({ ...bastion, tags: keep }, stale, rules)).toEqual({
      verdict: 'skip',
      reason: 'carries the packer-sweeper:keep tag'
    })
    expect(judgeCandidate(bastion, { ageSource: 'unknown' }, rules)).toEqual({ verdict: 'skip', reason: 'age unknown' })
  })

  it('ignores the exclude-tag when the input is empty', () => {
    expect(judgeCandidate(candidate({ tags: new Map([['', '']]) }), stale, { ...RULES, excludeTag: [] })).toEqual({
      verdict: 'check-usage'
    })
    expect(judgeCandidate(candidate({ tags: new Map([['', '']]) }), stale, { ...RULES, excludeTag: [''] })).toEqual({
      verdict: 'check-usage'
    })
  })

  it('skips a resource carrying any of several exclude-tag keys, naming the key it carries', () => {
    const rules = { ...RULES, excludeTag: ['packer-sweeper:keep', 'do-not-delete'] }
    expect(judgeCandidate(candidate({ tags: new Map([['do-not-delete', 'true']]) }), stale, rules)).toEqual({
      verdict: 'skip',
      reason: 'carries the do-not-delete tag'
    })
    expect(judgeCandidate(candidate({ tags: keep }), stale, rules)).toEqual({
      verdict: 'skip',
      reason: 'carries the packer-sweeper:keep tag'
    })
    expect(judgeCandidate(candidate({ tags: new Map([['keep', '']]) }), stale, rules)).toEqual({
      verdict: 'check-usage'
    })
  })
})

describe('excludedBy and isExcluded', () => {
  const keys = ['packer-sweeper:keep', 'do-not-delete']

  it.each<[string, [string, string][], string | undefined]>([
    ['the first key', [['packer-sweeper:keep', '']], 'packer-sweeper:keep'],
    ['the second key', [['do-not-delete', 'yes']], 'do-not-delete'],
    [
      'both: the first listed',
      [
        ['do-not-delete', ''],
        ['packer-sweeper:keep', '']
      ],
      'packer-sweeper:keep'
    ],
    ['a key only as a value', [['note', 'do-not-delete']], undefined],
    ['a key in another case (EC2 tag keys are case-sensitive)', [['Do-Not-Delete', '']], undefined],
    ['no tags', [], undefined]
  ])('%s → %s', (_title, tags, expected) => {
    expect(excludedBy(new Map(tags), keys, 'case-sensitive')).toBe(expected)
    expect(isExcluded(new Map(tags), keys, 'case-sensitive')).toBe(expected !== undefined)
  })
})

describe('keyPairOnlyReported: only packer_<uuid>, or a custom name opted in with a concrete tags line it carries', () => {
  const UUID_NAME = packerName(30 * 24 * 3600, NOW)
  const PLATFORM: TagFilter = { key: 'team', value: 'platform' }
  const key = (name: string, tags: Record<string, string> = {}) => ({ name, tags: new Map(Object.entries(tags)) })
  const inputs = (tags: TagFilter[], optIn: boolean) => ({ tags, 'delete-custom-key-pairs': optIn })
  const NOT_PACKERS = /^not Packer's temporary key-pair name packer_<uuid>; set delete-custom-key-pairs/

  it("Packer's own name is never held back by this rule, opted in or not", () => {
    expect(keyPairOnlyReported(key(UUID_NAME), inputs([], false))).toBeUndefined()
    expect(keyPairOnlyReported(key(UUID_NAME, { team: 'platform' }), inputs([PLATFORM], true))).toBeUndefined()
  })

  it.each([
    ['prod-bastion with the team tag', key('prod-bastion', { team: 'platform' }), [PLATFORM]],
    ['packer_shared', key('packer_shared'), []],
    ['an uppercase UUID', key(UUID_NAME.toUpperCase().replace('PACKER_', 'packer_')), []],
    ['a UUID one digit short', key(UUID_NAME.slice(0, -1)), []]
  ])('without delete-custom-key-pairs, %s is only reported, with the reason', (_what, keyPair, tags) => {
    expect(keyPairOnlyReported(keyPair, inputs(tags, false))).toMatch(NOT_PACKERS)
  })

  it('with delete-custom-key-pairs, a custom name carrying every tags line, one of them concrete, may be deleted', () => {
    expect(keyPairOnlyReported(key('prod-bastion', { team: 'platform' }), inputs([PLATFORM], true))).toBeUndefined()
    expect(
      keyPairOnlyReported(
        key('ci-temp', { team: 'platform', Name: 'x' }),
        inputs([{ key: 'Name', value: '*' }, PLATFORM], true)
      )
    ).toBeUndefined()
    expect(
      keyPairOnlyReported(key('ci-temp', { team: 'platform' }), inputs([{ key: 'team', value: 'plat*' }], true))
    ).toBeUndefined()
  })

  it.each<[string, ReturnType<typeof key>, TagFilter[]]>([
    ['no tags lines', key('prod-bastion', { team: 'platform' }), []],
    ['only wildcard values', key('prod-bastion', { team: 'platform' }), [{ key: 'team', value: '*' }]],
    ['the concrete tag missing', key('prod-bastion', { team: 'data' }), [PLATFORM]],
    ['the concrete tag absent', key('prod-bastion'), [PLATFORM]],
    ['one line not matching', key('ci-temp', { team: 'platform' }), [PLATFORM, { key: 'build', value: '*' }]]
  ])('with delete-custom-key-pairs but %s, a custom name is still only reported', (_what, keyPair, tags) => {
    expect(keyPairOnlyReported(keyPair, inputs(tags, true))).toMatch(
      /^not Packer's temporary key-pair name packer_<uuid>, and delete-custom-key-pairs deletes only/
    )
  })
})

describe('judgeUsage', () => {
  const terminating = new Set(['i-1', 'i-2'])
  const on = (...ids: string[]) => ids.map((instanceId) => ({ instanceId, region: 'eu-west-1' }))

  it.each([
    ['nothing uses it', undefined, { verdict: 'orphan', dependsOn: [] }],
    [
      'only instances this run terminates',
      { instances: on('i-2', 'i-1', 'i-2'), others: [] },
      { verdict: 'orphan', dependsOn: on('i-1', 'i-2') }
    ],
    ['an instance that stays', { instances: on('i-1', 'i-3'), others: [] }, { verdict: 'in-use' }],
    [
      'another group references it',
      { instances: [], others: ['group sg-1 (its rules reference it)'] },
      { verdict: 'in-use' }
    ]
  ])('%s', (_what, usage, expected) => {
    expect(judgeUsage(usage, terminating)).toEqual(expected)
  })

  it('lists what remains once instances are gone', () => {
    expect(
      remainingUses(
        { instances: on('i-1', 'i-3'), others: ['eni-1 (not attached to an instance)'] },
        new Set(['i-1']),
        (user) => `instance ${user.instanceId}`
      )
    ).toEqual(['instance i-3', 'eni-1 (not attached to an instance)'])
  })
})
