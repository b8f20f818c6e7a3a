/**
 * Issue 19: an image is deregistered with its snapshots only on positive evidence that a build
 * never finished: the `image-incomplete-tag` Key=Value, in terminate mode, and nothing that says
 * someone else needs it. Each rule is tested alone, from one image that passes them all.
 */
import { describe, expect, it } from '@jest/globals'
import {
  candidateOrigin,
  classifyImage,
  copiesBySource,
  COPIES_NOT_SWEPT,
  copyNotes,
  imageRules,
  isCopyOf,
  judgeImage,
  type ImageRecord,
  type ImageRules
} from '../../../../src/kinds/images/rules.js'
import { hoursBefore, NOW } from '../../../../__fixtures__/support.js'

const INCOMPLETE = { key: 'packer-build', value: 'incomplete' }

/** An interrupted build's image, three hours old: removable under RULES. */
function image(patch: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: 'ami-0a000000000000001',
    region: 'eu-west-1',
    name: 'web-2026-07-01',
    state: 'available',
    createdAt: hoursBefore(NOW, 3),
    tags: new Map([['packer-build', 'incomplete']]),
    origin: 'builder',
    sourceInstanceId: 'i-0b1d0000000000001',
    public: false,
    sharedWith: [],
    deregistrationProtection: 'disabled',
    snapshots: [
      { id: 'snap-0c000000000000001', tags: new Map([['packer-build', 'incomplete']]), sizeGiB: 30, alsoUsedBy: [] }
    ],
    ...patch
  }
}

const RULES: ImageRules = {
  action: 'terminate',
  maxAgeSeconds: 7200,
  excludeTag: ['packer-sweeper:keep'],
  incompleteTag: INCOMPLETE
}

const judge = (patch: Partial<ImageRecord> = {}, rules: Partial<ImageRules> = {}, users: string[] = []) =>
  judgeImage(image(patch), users, { ...RULES, ...rules }, NOW)

describe('judgeImage', () => {
  it('removes an interrupted build’s image: the incomplete tag, available, old, unshared, unprotected, unused', () => {
    expect(judge()).toMatchObject({ verdict: 'remove', class: 'interrupted', ageSeconds: 3 * 3600 })
  })

  it('removes a failed image as well', () => {
    expect(judge({ state: 'failed' })).toMatchObject({ verdict: 'remove' })
  })

  it.each([
    [
      'an aws: tag key (AWS Backup, DLM)',
      { tags: new Map([...image().tags, ['aws:dlm:lifecycle-policy-id', 'p-1']]) },
      'aws-tag'
    ],
    ['the exclusion tag', { tags: new Map([...image().tags, ['packer-sweeper:keep', '']]) }, 'excluded'],
    [
      'the exclusion tag on a snapshot',
      {
        snapshots: [{ id: 'snap-0c000000000000001', tags: new Map([['packer-sweeper:keep', 'yes']]), alsoUsedBy: [] }]
      },
      'snapshot-excluded'
    ],
    [
      'a snapshot DescribeSnapshots did not list',
      { snapshots: [{ id: 'snap-0c000000000000001', alsoUsedBy: [] }] },
      'snapshot-unread'
    ],
    ['deregistration protection', { deregistrationProtection: 'enabled-without-cooldown' }, 'protected'],
    [
      'protection in its cooldown',
      { deregistrationProtection: `disabled-after ${hoursBefore(NOW, -1).toISOString()}` },
      'protected'
    ],
    ['no protection field', { deregistrationProtection: undefined }, 'protected'],
    ['public', { public: true }, 'public'],
    ['shared with an account', { sharedWith: ['210987654321'] }, 'shared'],
    ['launch permissions unread', { sharedWith: undefined }, 'shared'],
    ['pending', { state: 'pending' }, 'pending'],
    ['disabled', { state: 'disabled' }, 'state'],
    ['deregistered', { state: 'deregistered' }, 'state'],
    ['no creation date', { createdAt: undefined }, 'age-unknown'],
    ['younger than max-age', { createdAt: hoursBefore(NOW, 1) }, 'fresh'],
    [
      'the incomplete key with another value (tags overwrote it)',
      { tags: new Map([['packer-build', 'complete']]) },
      'not-incomplete'
    ],
    ['the incomplete tag with another key case', { tags: new Map([['Packer-Build', 'incomplete']]) }, 'not-incomplete'],
    ['no tags at all', { tags: new Map() }, 'not-incomplete']
  ])('keeps an image with %s', (_what, patch, rule) => {
    const verdict = judge(patch)
    expect(verdict).toMatchObject({ verdict: 'keep', rule })
  })

  it('keeps one a live instance runs, naming it', () => {
    expect(judge({}, {}, ['i-0f000000000000001'])).toMatchObject({
      verdict: 'keep',
      rule: 'in-use',
      reason: 'used by instance i-0f000000000000001'
    })
  })

  it('removes a protection whose cooldown has passed', () => {
    expect(judge({ deregistrationProtection: `disabled-after ${hoursBefore(NOW, 1).toISOString()}` })).toMatchObject({
      verdict: 'remove'
    })
  })

  it('only reports without image-incomplete-tag, saying how to mark builds', () => {
    const verdict = judge({}, { incompleteTag: undefined })
    expect(verdict).toMatchObject({ verdict: 'keep', rule: 'no-incomplete-tag-input', class: 'unknown' })
    if (verdict.verdict === 'keep') expect(verdict.reason).toContain('run_tags')
  })

  it.each(['notify', 'stop'] as const)('only reports in %s mode, saying terminate would remove it', (action) => {
    const verdict = judge({}, { action })
    expect(verdict).toMatchObject({ verdict: 'keep', rule: 'action' })
    if (verdict.verdict === 'keep') expect(verdict.reason).toContain('terminate')
  })

  it('reports max-age 0 as every match', () => {
    expect(judge({ createdAt: hoursBefore(NOW, 0) }, { maxAgeSeconds: 0 })).toMatchObject({ verdict: 'remove' })
  })

  it('judges by the first failing rule, in the documented order', () => {
    expect(judge({ public: true, state: 'pending', deregistrationProtection: 'enabled' })).toMatchObject({
      rule: 'protected'
    })
    expect(judge({ state: 'pending', createdAt: hoursBefore(NOW, 1) }, { action: 'notify' })).toMatchObject({
      rule: 'pending'
    })
  })

  it('notes a snapshot another image uses: AWS keeps it', () => {
    const verdict = judge({
      snapshots: [{ id: 'snap-0c000000000000001', tags: new Map(), alsoUsedBy: ['ami-0a000000000000002'] }]
    })
    expect(verdict).toMatchObject({ verdict: 'remove' })
    expect(verdict.notes).toEqual([
      'snapshot snap-0c000000000000001 is also used by ami-0a000000000000002: AWS keeps it'
    ])
  })

  it('gives every reason without nested parentheses', () => {
    const patches: Partial<ImageRecord>[] = [
      { tags: new Map([['aws:backup:source-resource', 'x']]) },
      { sharedWith: ['o-1', 'o-2'] },
      { state: 'transient' },
      { createdAt: hoursBefore(NOW, 1) }
    ]
    for (const patch of patches) {
      const verdict = judge(patch)
      if (verdict.verdict === 'keep') expect(verdict.reason).not.toMatch(/\([^)]*\(/)
    }
  })
})

describe('classifyImage', () => {
  it.each([
    ['interrupted', image(), INCOMPLETE],
    ['complete', image({ tags: new Map([['packer-build', 'complete']]) }), INCOMPLETE],
    ['hand-made', image({ tags: new Map([['Name', 'debug']]) }), INCOMPLETE],
    ['unknown', image({ tags: new Map([['Name', 'debug']]), origin: 'copy' }), INCOMPLETE],
    ['unknown', image(), undefined],
    [
      'backup',
      image({
        tags: new Map([
          ['aws:backup:source-resource', 'x'],
          ['packer-build', 'incomplete']
        ])
      }),
      INCOMPLETE
    ]
  ] as const)('%s', (expected, record, incompleteTag) => {
    expect(classifyImage(record, incompleteTag)).toBe(expected)
  })
})

describe('candidateOrigin', () => {
  const query = {
    builderIds: new Set(['i-0b1d0000000000001']),
    tags: [{ key: 'run', value: '42' }],
    isListed: (id: string) => id === 'i-0b1d0000000000002'
  }
  const tagged = new Map([['run', '42']])

  it('takes an image made from a matched builder, whatever its tags', () => {
    expect(candidateOrigin({ sourceInstanceId: 'i-0b1d0000000000001', tags: new Map() }, query)).toBe('builder')
  })

  it('takes a tagged image whose source instance is no longer listed', () => {
    expect(candidateOrigin({ sourceInstanceId: 'i-0b1d0000000000009', tags: tagged }, query)).toBe('tags')
  })

  it('leaves a tagged image whose source instance is still listed and not matched', () => {
    expect(candidateOrigin({ sourceInstanceId: 'i-0b1d0000000000002', tags: tagged }, query)).toBeUndefined()
  })

  it('takes a tagged copy, leaves a tagged image of unknown origin', () => {
    expect(candidateOrigin({ sourceImageId: 'ami-0a000000000000009', tags: tagged }, query)).toBe('tags')
    expect(candidateOrigin({ tags: tagged }, query)).toBeUndefined()
  })

  it('needs every tags line, with case-sensitive keys, and a tags input at all', () => {
    expect(
      candidateOrigin({ sourceInstanceId: 'i-0b1d0000000000009', tags: new Map([['Run', '42']]) }, query)
    ).toBeUndefined()
    expect(
      candidateOrigin({ sourceInstanceId: 'i-0b1d0000000000009', tags: tagged }, { ...query, tags: [] })
    ).toBeUndefined()
  })
})

describe('isCopyOf', () => {
  const candidates = new Map([['us-east-1', new Set(['ami-0a000000000000001'])]])

  it('needs the source ID to be a candidate of the region the copy names', () => {
    expect(isCopyOf({ sourceImageId: 'ami-0a000000000000001', sourceImageRegion: 'us-east-1' }, candidates)).toBe(true)
    expect(isCopyOf({ sourceImageId: 'ami-0a000000000000001', sourceImageRegion: 'eu-west-1' }, candidates)).toBe(false)
    expect(isCopyOf({ sourceImageId: 'ami-0a000000000000001' }, candidates)).toBe(false)
  })
})

describe('copyNotes', () => {
  it('says copies outside regions are not looked for unless every enabled region is swept', () => {
    expect(copyNotes(['us-east-1'])).toEqual([COPIES_NOT_SWEPT])
    expect(copyNotes(['us-east-1', 'eu-west-1'])).toEqual([COPIES_NOT_SWEPT])
    expect(copyNotes('all')).toEqual([])
  })
})

describe('copiesBySource', () => {
  it('links each copy to its source by ID and region', () => {
    const source = image()
    const copy = image({
      id: 'ami-0a000000000000002',
      region: 'us-east-1',
      origin: 'copy',
      sourceImageId: source.id,
      sourceImageRegion: 'eu-west-1'
    })
    const stray = image({
      id: 'ami-0a000000000000003',
      region: 'us-east-1',
      origin: 'copy',
      sourceImageId: source.id,
      sourceImageRegion: 'eu-central-1'
    })
    expect(copiesBySource([source, copy, stray])).toEqual(new Map([[source.id, [copy]]]))
  })
})

describe('imageRules', () => {
  it('takes action, max-age and exclude-tag from the inputs, and the incomplete tag when given', () => {
    const inputs = { action: 'terminate' as const, 'max-age': 7200, 'exclude-tag': ['packer-sweeper:keep'] }
    expect(imageRules(inputs, INCOMPLETE)).toEqual(RULES)
    expect(imageRules(inputs, undefined)).toEqual({
      action: 'terminate',
      maxAgeSeconds: 7200,
      excludeTag: ['packer-sweeper:keep']
    })
  })
})
