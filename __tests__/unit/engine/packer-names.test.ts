import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  buildStartFromName,
  FUTURE_SKEW_SECONDS,
  isPackerTemporaryName,
  PACKER_TEMPORARY_NAME_PATTERN
} from '../../../src/engine/packer-names.js'
import { wildcardMatcher } from '../../../src/model/wildcard.js'
import { NOW, packerName } from '../../../__fixtures__/support.js'

const NOW_HEX = (NOW.getTime() / 1000).toString(16) // 69a429b0

describe('buildStartFromName', () => {
  it.each([
    ['packer_6745a1b2-0a1b-2c3d-4e5f-0123456789ab', '2024-11-26T10:23:46.000Z'],
    ['packer_52e3f0c0-0000-0000-0000-000000000000', '2014-01-25T17:13:36.000Z'],
    ['packer_50e22700-0000-0000-0000-000000000000', '2013-01-01T00:00:00.000Z'],
    [`packer_${NOW_HEX}-0000-0000-0000-000000000000`, NOW.toISOString()]
  ])('%s started at %s', (name, expected) => {
    expect(buildStartFromName(name, NOW)?.toISOString()).toBe(expected)
  })

  it.each([
    ['uppercase hex (Go writes lowercase)', 'packer_6745A1B2-0a1b-2c3d-4e5f-0123456789ab'],
    ['uppercase elsewhere', 'packer_6745a1b2-0A1B-2c3d-4e5f-0123456789ab'],
    ['seven leading digits', 'packer_745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['nine leading digits', 'packer_06745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['short last group', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789a'],
    ['no dashes', 'packer_6745a1b20a1b2c3d4e5f0123456789ab'],
    ['not hex', 'packer_6745a1bz-0a1b-2c3d-4e5f-0123456789ab'],
    ['hyphen prefix (an IAM role, not a key)', 'packer-6745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['a suffix', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789ab-old'],
    ["a user's own key", 'packer_something'],
    ['bare prefix', 'packer_'],
    ['empty', ''],
    ['before Packer existed (1970)', 'packer_00000001-0000-0000-0000-000000000000'],
    ['one second before 2013', 'packer_50e226ff-0000-0000-0000-000000000000'],
    ['far future', 'packer_ffffffff-0000-0000-0000-000000000000'],
    ['one hour ahead', `packer_${(NOW.getTime() / 1000 + 3600).toString(16)}-0000-0000-0000-000000000000`]
  ])('rejects %s: %s', (_what, name) => {
    expect(buildStartFromName(name, NOW)).toBeUndefined()
  })

  it('accepts a build start a little ahead of this clock (skew), not beyond the skew', () => {
    const seconds = NOW.getTime() / 1000
    const name = (at: number) => `packer_${at.toString(16)}-0000-0000-0000-000000000000`
    expect(buildStartFromName(name(seconds + FUTURE_SKEW_SECONDS), NOW)).toEqual(
      new Date((seconds + FUTURE_SKEW_SECONDS) * 1000)
    )
    expect(buildStartFromName(name(seconds + FUTURE_SKEW_SECONDS + 1), NOW)).toBeUndefined()
  })

  it('reads back any plausible build start Packer could have written', () => {
    const earliest = Date.parse('2013-01-01T00:00:00Z') / 1000
    fc.assert(
      fc.property(
        fc.integer({ min: earliest, max: NOW.getTime() / 1000 }),
        fc.stringMatching(/^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        (seconds, tail) => {
          const name = `packer_${seconds.toString(16).padStart(8, '0')}-${tail}`
          expect(buildStartFromName(name, NOW)?.getTime()).toBe(seconds * 1000)
        }
      )
    )
  })
})

describe("Packer's temporary name packer_<uuid>", () => {
  const HEX = '0123456789abcdef'
  const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length })
  const uuidName = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => `packer_${parts.join('-')}`)
  const byPattern = wildcardMatcher([PACKER_TEMPORARY_NAME_PATTERN])

  it('is the EC2 pattern packer_ then 8-4-4-4-12 characters', () => {
    expect(PACKER_TEMPORARY_NAME_PATTERN).toBe('packer_????????-????-????-????-????????????')
  })

  it.each([
    ['a build of now', packerName(3600, NOW)],
    ['a build of 2024', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['a start Packer could not have written, still its shape', 'packer_ffffffff-0000-0000-0000-000000000000']
  ])('accepts %s: %s', (_what, name) => {
    expect(isPackerTemporaryName(name)).toBe(true)
    expect(byPattern(name)).toBe(true)
  })

  it.each([
    ["a user's own key", 'packer_shared'],
    ['uppercase hex (Go writes lowercase)', 'packer_6745A1B2-0a1b-2c3d-4e5f-0123456789ab'],
    ['not hex', 'packer_6745a1bz-0a1b-2c3d-4e5f-0123456789ab'],
    ['dashes moved', 'packer_6745a1b2-0a1b2-c3d-4e5f-0123456789ab'],
    ['a suffix', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789ab-old'],
    ['short last group', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789a'],
    ['hyphen prefix (an IAM role, not a key)', 'packer-6745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['another prefix', 'xpacker_6745a1b2-0a1b-2c3d-4e5f-0123456789ab'],
    ['a line break after it', 'packer_6745a1b2-0a1b-2c3d-4e5f-0123456789ab\n'],
    ['a bastion key', 'prod-bastion'],
    ['empty', '']
  ])('rejects %s: %j', (_what, name) => {
    expect(isPackerTemporaryName(name)).toBe(false)
  })

  it('every name Packer writes passes both the EC2 pattern (server-side) and the exact check', () => {
    fc.assert(
      fc.property(uuidName, (name) => {
        expect(isPackerTemporaryName(name)).toBe(true)
        expect(byPattern(name)).toBe(true)
      })
    )
  })

  it('the exact check is never wider than the EC2 pattern: what it accepts, the pattern matches', () => {
    const near = fc.oneof(
      uuidName,
      uuidName.map((name) => name.toUpperCase()),
      uuidName.map((name) => name.replace('packer_', 'Packer_')),
      fc
        .tuple(uuidName, fc.nat({ max: 40 }), fc.string({ maxLength: 2 }))
        .map(([name, at, text]) => name.slice(0, at) + text + name.slice(at + 1)),
      fc.string({ maxLength: 50 })
    )
    fc.assert(
      fc.property(near, (name) => {
        if (isPackerTemporaryName(name)) expect(byPattern(name)).toBe(true)
        expect(isPackerTemporaryName(name)).toBe(
          /^packer_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(name)
        )
      })
    )
  })
})
