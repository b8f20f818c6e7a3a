import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { tagMatcher, wildcardMatcher, wildcardToRegExp } from '../../../src/model/wildcard.js'

describe('wildcardToRegExp: EC2 filter wildcards', () => {
  it.each([
    // `*` is zero or more characters
    ['packer_*', 'packer_', true],
    ['packer_*', 'packer_6745a1b2-9c1f-4f1e-8d4e-0123456789ab', true],
    ['packer_*', 'packer', false],
    ['packer_*', 'xpacker_1', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['*_build', 'nightly_build', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'a-x-b-y-c', true],
    ['a*b*c', 'acb', false],
    ['packer_*', 'packer_line1\nline2', true],
    // `?` is exactly one character
    ['packer_?', 'packer_1', true],
    ['packer_?', 'packer_', false],
    ['packer_?', 'packer_12', false],
    ['???', 'abc', true],
    ['???', 'ab', false],
    ['?', '\n', true],
    // `\` escapes the next character
    ['packer\\*', 'packer*', true],
    ['packer\\*', 'packer_1', false],
    ['what\\?', 'what?', true],
    ['what\\?', 'whatx', false],
    ['back\\\\slash', 'back\\slash', true],
    ['back\\\\*', 'back\\anything', true],
    ['\\a', 'a', true],
    // case-sensitive
    ['packer_*', 'Packer_1', false],
    ['PACKER', 'packer', false],
    ['Packer Builder', 'Packer Builder', true],
    // regex metacharacters in a pattern are literal
    ['a.b', 'a.b', true],
    ['a.b', 'axb', false],
    ['a+', 'aa', false],
    ['a+', 'a+', true],
    ['(x|y)', 'x', false],
    ['(x|y)', '(x|y)', true],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['^start$', '^start$', true],
    ['{1,2}', '{1,2}', true],
    ['a/b-c', 'a/b-c', true],
    ['$HOME', '$HOME', true],
    ['team-*.example.com', 'team-a.example.com', true],
    ['team-*.example.com', 'team-a_example_com', false],
    // anchored at both ends
    ['packer', 'packer_1', false],
    ['packer', 'my-packer', false]
  ])('%j matches %j: %s', (pattern, value, expected) => {
    expect(wildcardToRegExp(pattern).test(value)).toBe(expected)
  })

  it('a pattern without wildcards matches exactly itself', () => {
    const plain = fc.string({ unit: 'binary' }).filter((text) => !/[*?\\]/.test(text))
    fc.assert(
      fc.property(plain, fc.string({ unit: 'binary' }), (pattern, other) => {
        const expression = wildcardToRegExp(pattern)
        expect(expression.test(pattern)).toBe(true)
        expect(expression.test(other)).toBe(other === pattern)
      })
    )
  })

  it('an escaped pattern matches exactly the text it escapes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (text, other) => {
        const escaped = text.replace(/[*?\\]/g, '\\$&')
        const expression = wildcardToRegExp(escaped)
        expect(expression.test(text)).toBe(true)
        expect(expression.test(other)).toBe(other === text)
      })
    )
  })

  it('`*` matches any text around a fixed part', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        (middle, before, after) => {
          const escaped = middle.replace(/[*?\\]/g, '\\$&')
          expect(wildcardToRegExp(`*${escaped}*`).test(`${before}${middle}${after}`)).toBe(true)
        }
      )
    )
  })
})

describe('wildcardMatcher: values of one filter are ORed', () => {
  it.each([
    [['packer_*'], 'packer_1', true],
    [['packer_*', 'builder-?'], 'builder-7', true],
    [['packer_*', 'builder-?'], 'builder-77', false],
    [['packer_*', 'builder-?'], 'other', false],
    [['exact'], 'exact', true],
    [[], 'packer_1', false]
  ])('%j against %j: %s', (patterns, value, expected) => {
    expect(wildcardMatcher(patterns)(value)).toBe(expected)
  })

  it.each([[['*']], [['packer_*']], [[]]])('an absent value (no key pair) never matches %j', (patterns) => {
    expect(wildcardMatcher(patterns)(undefined)).toBe(false)
  })

  it('an empty value matches only a pattern that allows nothing', () => {
    expect(wildcardMatcher(['*'])('')).toBe(true)
    expect(wildcardMatcher(['?'])('')).toBe(false)
  })
})

describe('tagMatcher: tag filters are ANDed', () => {
  const tags = new Map([
    ['github-run-id', '1234'],
    ['team', 'platform'],
    ['Name', 'Packer Builder']
  ])

  it.each([
    ['no filters match anything', [], true],
    ['one exact match', [{ key: 'github-run-id', value: '1234' }], true],
    ['one wildcard match', [{ key: 'team', value: 'plat*' }], true],
    ['one `?` match', [{ key: 'github-run-id', value: '12?4' }], true],
    [
      'all of several',
      [
        { key: 'github-run-id', value: '1234' },
        { key: 'team', value: '*' }
      ],
      true
    ],
    [
      'one of several fails',
      [
        { key: 'github-run-id', value: '1234' },
        { key: 'team', value: 'data' }
      ],
      false
    ],
    ['value mismatch', [{ key: 'github-run-id', value: '12345' }], false],
    ['missing key, even with *', [{ key: 'owner', value: '*' }], false],
    ['key is case-sensitive', [{ key: 'Team', value: 'platform' }], false],
    ['value is case-sensitive', [{ key: 'team', value: 'Platform' }], false],
    ['value with a space', [{ key: 'Name', value: 'Packer Builder' }], true]
  ])('%s', (_title, filters, expected) => {
    expect(tagMatcher(filters)(tags)).toBe(expected)
  })

  it('an empty tag value matches `*`', () => {
    expect(tagMatcher([{ key: 'empty', value: '*' }])(new Map([['empty', '']]))).toBe(true)
  })
})

describe('characters outside the Basic Multilingual Plane', () => {
  it('count as one character for ?', () => {
    expect(wildcardMatcher(['team-?'])('team-🚀')).toBe(true)
    expect(wildcardMatcher(['team-??'])('team-🚀')).toBe(false)
    expect(wildcardMatcher(['\\🚀*'])('🚀 launch')).toBe(true)
  })
})
