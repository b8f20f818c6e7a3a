import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { recordOf } from '../../../src/model/record.js'

describe('recordOf', () => {
  it('has one entry per item, keyed and valued as asked, in the items’ order', () => {
    const record = recordOf(
      ['key-pairs', 'instances'] as const,
      (kind) => kind.toUpperCase(),
      (kind) => kind.length
    )
    expect(record).toEqual({ 'KEY-PAIRS': 9, INSTANCES: 9 })
    expect(Object.keys(record)).toEqual(['KEY-PAIRS', 'INSTANCES'])
  })

  it('for any keys: every key is there with its last value, and nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.integer())), (entries) => {
        const record = recordOf(
          entries,
          ([key]) => key,
          ([, value]) => value
        )
        expect(record).toEqual(Object.fromEntries(entries))
      }),
      { seed: 18, numRuns: 200 }
    )
  })
})
