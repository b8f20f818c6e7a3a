/**
 * Issue 19's safety property, over generated images and inputs: an image judged removable carries
 * exactly the incomplete tag, is shared with nobody, not public, not protected, run by no live
 * instance, carries no `aws:` key and no exclusion tag (nor do its snapshots, all of them read), is available or
 * failed, older than max-age, and the action is terminate. Written here again from the issue's
 * words rather than from the rule's code.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { judgeImage, type ImageRecord, type ImageRules } from '../../../../src/kinds/images/rules.js'
import { NOW } from '../../../../__fixtures__/support.js'

const KEYS = [
  'packer-build',
  'Packer-Build',
  'packer-sweeper:keep',
  'keep',
  'aws:backup:source-resource',
  'aws:dlm:x',
  'Name'
]
const VALUES = ['incomplete', 'Incomplete', 'complete', '', 'incomplete ']
const STATES = ['pending', 'available', 'failed', 'invalid', 'transient', 'error', 'deregistered', 'disabled']
const PROTECTIONS = [
  undefined,
  'disabled',
  'enabled',
  'enabled-with-cooldown',
  'enabled-without-cooldown',
  `disabled-after ${new Date(NOW.getTime() - 3_600_000).toISOString()}`,
  `disabled-after ${new Date(NOW.getTime() + 3_600_000).toISOString()}`,
  'disabled-after never'
]

/** Mostly `good`, sometimes anything: removable images must come up often enough to test. */
const mostly = <T>(good: T, any: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: any })

const tags = fc
  .array(fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)), { maxLength: 4 })
  .map((pairs) => new Map(pairs))

const snapshot = fc.record({
  id: fc.constantFrom('snap-0c000000000000001', 'snap-0c000000000000002'),
  tags: fc.option(tags, { nil: undefined }),
  sizeGiB: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
  alsoUsedBy: fc.array(fc.constant('ami-0a000000000000002'), { maxLength: 1 })
})

const image: fc.Arbitrary<ImageRecord> = fc.record({
  id: fc.constant('ami-0a000000000000001'),
  region: fc.constant('eu-west-1'),
  name: fc.constant('web'),
  state: mostly('available', fc.constantFrom(...STATES)),
  createdAt: fc.option(
    fc.integer({ min: -3600, max: 10 * 86_400 }).map((seconds) => new Date(NOW.getTime() - seconds * 1000)),
    { nil: undefined }
  ),
  tags: mostly(new Map([['packer-build', 'incomplete']]), tags),
  origin: fc.constantFrom('builder', 'tags', 'copy'),
  public: mostly(false, fc.boolean()),
  sharedWith: mostly<readonly string[] | undefined>(
    [],
    fc.option(
      fc.array(fc.constantFrom('210987654321', 'arn:aws:organizations::1:organization/o-1'), { maxLength: 2 }),
      { nil: undefined }
    )
  ),
  deregistrationProtection: mostly<string | undefined>('disabled', fc.constantFrom(...PROTECTIONS)),
  snapshots: fc.array(snapshot, { maxLength: 3 })
})

const rules: fc.Arbitrary<ImageRules> = fc.record({
  action: mostly<ImageRules['action']>('terminate', fc.constantFrom('notify', 'stop', 'terminate')),
  maxAgeSeconds: fc.constantFrom(0, 3600, 7200, 86_400),
  excludeTag: fc.subarray(['packer-sweeper:keep', 'keep', 'Keep']),
  incompleteTag: mostly<ImageRules['incompleteTag']>(
    { key: 'packer-build', value: 'incomplete' },
    fc.option(
      fc.record({
        key: fc.constantFrom('packer-build', 'Packer-Build'),
        value: fc.constantFrom('incomplete', 'complete')
      }),
      { nil: undefined }
    )
  )
})

const users = fc.array(fc.constant('i-0f000000000000001'), { maxLength: 1 })

describe('the images removal rule', () => {
  it('removes only what the issue allows', () => {
    fc.assert(
      fc.property(image, users, rules, (record, runBy, given) => {
        const verdict = judgeImage(record, runBy, given, NOW)
        if (verdict.verdict !== 'remove') {
          expect(verdict.reason.length).toBeGreaterThan(0)
          return
        }
        const carries = (t: ReadonlyMap<string, string> | undefined, key: string) => t?.has(key) ?? false
        const { incompleteTag } = given
        expect(given.action).toBe('terminate')
        expect(incompleteTag).toBeDefined()
        expect(record.tags.get(incompleteTag?.key ?? '')).toBe(incompleteTag?.value)
        expect(record.public).toBe(false)
        expect(record.sharedWith).toEqual([])
        expect(runBy).toEqual([])
        const protection = record.deregistrationProtection ?? ''
        const until = Date.parse(protection.replace(/^disabled-after /, ''))
        expect(protection === 'disabled' || (protection.startsWith('disabled-after ') && until <= NOW.getTime())).toBe(
          true
        )
        expect([...record.tags.keys()].some((key) => key.startsWith('aws:'))).toBe(false)
        for (const key of given.excludeTag) {
          expect(carries(record.tags, key)).toBe(false)
          for (const s of record.snapshots) expect(carries(s.tags, key)).toBe(false)
        }
        // Tags unread are tags unknown: the exclusion tag may be there.
        for (const s of record.snapshots) expect(s.tags).toBeDefined()
        expect(['available', 'failed']).toContain(record.state)
        expect(record.createdAt).toBeDefined()
        const age = (NOW.getTime() - (record.createdAt?.getTime() ?? NOW.getTime())) / 1000
        if (given.maxAgeSeconds > 0) expect(age).toBeGreaterThan(given.maxAgeSeconds)
      }),
      { numRuns: 3000 }
    )
  })

  it('finds removable images among the generated ones at all', () => {
    let removable = 0
    fc.assert(
      fc.property(image, users, rules, (record, runBy, given) => {
        if (judgeImage(record, runBy, given, NOW).verdict === 'remove') removable++
      }),
      { numRuns: 3000 }
    )
    expect(removable).toBeGreaterThan(0)
  })
})
