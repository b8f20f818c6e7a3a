import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { buildStartFromName, FUTURE_SKEW_SECONDS } from '../../../src/orphans/packer-names.js'
import { NOW } from '../../../__fixtures__/support.js'

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
    expect(buildStartFromName(name(seconds + FUTURE_SKEW_SECONDS), NOW)).toEqual(new Date((seconds + FUTURE_SKEW_SECONDS) * 1000))
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
