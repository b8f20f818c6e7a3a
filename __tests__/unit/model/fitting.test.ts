import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { largestFitting } from '../../../src/model/fitting.js'

describe('largestFitting', () => {
  it('finds the largest count that fits, whatever the hint, asking about few counts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.nat(), fc.nat(), (limit, cut, hint) => {
        const threshold = Math.min(limit, cut)
        const asked: number[] = []
        const found = largestFitting(limit, (count) => (asked.push(count), count <= threshold), hint)
        expect(found).toBe(threshold)
        // Bracketing doubles its steps, then bisects: logarithmic in the limit.
        expect(asked.length).toBeLessThanOrEqual(4 * Math.ceil(Math.log2(limit + 2)) + 2)
      })
    )
  })

  it('never asks beyond the limit or below zero', () => {
    const asked: number[] = []
    largestFitting(10, (count) => (asked.push(count), count <= 3), 50)
    expect(asked.every((count) => count >= 0 && count <= 10)).toBe(true)
  })
})
