/**
 * The sandbox's wildcard matcher against EC2's filter value semantics (EC2 API reference,
 * "Filtering": `*` zero or more characters, `?` exactly one, `\` escapes, case-sensitive), with
 * examples and properties written from those rules, never from the action's src/wildcard.ts.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { wildcard } from '../../sandbox/index.js'

/** Every character taken literally: `\` before each code point. */
const escaped = (text: string) => Array.from(text, (c) => `\\${c}`).join('')
/** Code points that are not wildcard syntax. */
const plain = fc.string({ unit: 'binary' }).map((s) => s.replace(/[*?\\]/g, ''))

describe('wildcard: EC2 filter values', () => {
  it.each([
    // `*` is zero or more characters
    ['packer_*', 'packer_', true],
    ['packer_*', 'packer_abc', true],
    ['packer_*', 'packer', false],
    ['packer_*', 'xpacker_1', false],
    ['*', '', true],
    ['**', '', true],
    ['*', 'line1\nline2', true],
    ['*_build', 'nightly_build', true],
    ['a*b*c', 'a-x-b-y-c', true],
    ['a*b*c', 'acb', false],
    ['*a*', 'bab', true],
    // `?` is exactly one character
    ['packer_?', 'packer_1', true],
    ['packer_?', 'packer_ab', false],
    ['packer_??', 'packer_ab', true],
    ['?', '', false],
    ['?', '\n', true],
    ['?*', '', false],
    ['*?', 'x', true],
    // `\` takes the next character literally (the AWS documentation's example: \*amazon\?\\)
    ['\\*amazon\\?\\\\', '*amazon?\\', true],
    ['\\*amazon\\?\\\\', 'xamazonx\\', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a\\?', 'ax', false],
    ['\\a', 'a', true],
    ['back\\\\*', 'back\\slash', true],
    ['a\\', 'a\\', true],
    // case-sensitive
    ['packer_*', 'Packer_abc', false],
    ['PACKER', 'packer', false],
    // nothing else is special (no regular expressions, no character classes)
    ['a.c', 'abc', false],
    ['a.c', 'a.c', true],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['(x|y)+', '(x|y)+', true],
    ['^$', '^$', true],
    // anchored at both ends
    ['packer', 'packer_1', false],
    ['packer', 'my-packer', false],
    // one character is one Unicode code point, also outside the Basic Multilingual Plane
    ['?', '🙂', true],
    ['??', '🙂', false],
    ['team-?', 'team-é', true],
    ['*🙂', 'build 🙂', true],
    ['\\🙂', '🙂', true],
    ['?', 'e\u0301', false],
    ['??', 'e\u0301', true]
  ])('%j matches %j: %s', (pattern, value, expected) => {
    expect(wildcard(pattern)(value)).toBe(expected)
  })

  it('an escaped text matches that text and nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (text, other) => {
        expect(wildcard(escaped(text))(text)).toBe(true)
        expect(wildcard(escaped(text))(other)).toBe(text === other)
      })
    )
  })

  it('n question marks match exactly the values of n code points', () => {
    fc.assert(
      fc.property(fc.nat({ max: 6 }), fc.string({ unit: 'binary', maxLength: 8 }), (n, value) => {
        expect(wildcard('?'.repeat(n))(value)).toBe(Array.from(value).length === n)
      })
    )
  })

  it('*text* matches exactly the values that contain text; text* those that start with it', () => {
    fc.assert(
      fc.property(plain, fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (text, before, after) => {
        expect(wildcard(`*${text}*`)(before + text + after)).toBe(true)
        expect(wildcard(`*${text}*`)(before + after)).toBe((before + after).includes(text))
        expect(wildcard(`${text}*`)(before + after)).toBe((before + after).startsWith(text))
      })
    )
  })

  it('stays fast with many stars and no match', () => {
    const started = Date.now()
    expect(wildcard(`${'*a'.repeat(30)}*b`)('a'.repeat(2000))).toBe(false)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
