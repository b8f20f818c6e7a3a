import { describe, expect, it } from '@jest/globals'
import { snapshotMonthlyCost, volumeMonthlyCost, type StoragePrices } from '../../../src/model/cost.js'

const PRICES: StoragePrices = {
  region: 'us-east-1',
  volumeUsdPerGbMonth: { gp2: 0.1, gp3: 0.08, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05 },
  snapshotUsdPerGbMonth: 0.05
}

describe('volumeMonthlyCost', () => {
  it.each<[number, string, number]>([
    [8, 'gp3', 0.64],
    [100, 'gp2', 10],
    [500, 'st1', 22.5],
    [3, 'io1', 0.375]
  ])('%d GiB of %s: provisioned GB-months at the type price', (size, type, usd) => {
    expect(volumeMonthlyCost(size, type, PRICES)).toEqual({ usdPerMonth: usd })
  })

  it('a type without a price, or no prices for the region: unknown, with the reason', () => {
    expect(volumeMonthlyCost(8, 'gp9', PRICES)).toEqual({ unknown: 'no list price for gp9 volumes in us-east-1' })
    expect(volumeMonthlyCost(8, 'gp3', undefined)).toEqual({ unknown: 'no EBS prices were looked up' })
    expect(
      volumeMonthlyCost(8, 'gp3', { region: 'eu-west-1', volumeUsdPerGbMonth: {}, unknown: 'AccessDenied' })
    ).toEqual({ unknown: 'AccessDenied' })
  })

  it('a type named like an Object member is not a price', () => {
    expect(volumeMonthlyCost(8, 'constructor', PRICES)).toEqual({
      unknown: 'no list price for constructor volumes in us-east-1'
    })
  })
})

describe('snapshotMonthlyCost', () => {
  it("is the upper bound: the source volume's size at the standard tier's GB-month price", () => {
    expect(snapshotMonthlyCost(20, PRICES)).toEqual({ usdPerMonth: 1 })
    expect(snapshotMonthlyCost(8, PRICES)).toEqual({ usdPerMonth: 0.4 })
  })

  it('unknown when there is no snapshot price', () => {
    expect(snapshotMonthlyCost(8, { ...PRICES, snapshotUsdPerGbMonth: undefined })).toEqual({
      unknown: 'no list price for snapshots in us-east-1'
    })
    expect(snapshotMonthlyCost(8, undefined)).toEqual({ unknown: 'no EBS prices were looked up' })
  })
})
