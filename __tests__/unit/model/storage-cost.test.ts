import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  builderVolumeMonthlyCost,
  imageMonthlyCost,
  snapshotMonthlyCost,
  storageCostLines,
  storageTotal,
  volumeMonthlyCost,
  type StoragePrices,
  type StorageWords
} from '../../../src/model/cost.js'

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

describe('imageMonthlyCost', () => {
  it("is at most the sum of its snapshots' bounds", () => {
    expect(
      imageMonthlyCost(
        [
          { id: 'snap-1', sizeGiB: 8 },
          { id: 'snap-2', sizeGiB: 20 }
        ],
        PRICES
      )
    ).toEqual({ usdPerMonth: 1.4 })
  })

  it('an image without snapshots costs nothing, whatever the prices', () => {
    expect(imageMonthlyCost([], undefined)).toEqual({ usdPerMonth: 0 })
  })

  it('unknown when a size is: no bound without it; the prices’ own reason first', () => {
    expect(imageMonthlyCost([{ id: 'snap-1', sizeGiB: 8 }, { id: 'snap-2' }], PRICES)).toEqual({
      unknown: 'the size of snap-2 is unknown'
    })
    const denied = { region: 'us-east-1', volumeUsdPerGbMonth: {}, unknown: 'AccessDeniedException' }
    expect(imageMonthlyCost([{ id: 'snap-2' }], denied)).toEqual({ unknown: 'AccessDeniedException' })
    expect(imageMonthlyCost([{ id: 'snap-1', sizeGiB: 8 }], undefined)).toEqual({
      unknown: 'no EBS prices were looked up'
    })
  })

  it('sums exactly: the total is the sum of the rounded parts, never negative (property, seed 19)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 16_384 }), { maxLength: 20 }), (sizes) => {
        const cost = imageMonthlyCost(
          sizes.map((sizeGiB, index) => ({ id: `snap-${index}`, sizeGiB })),
          PRICES
        )
        const expected = sizes.reduce((sum, size) => sum + size * 0.05, 0)
        expect('usdPerMonth' in cost && Math.abs(cost.usdPerMonth - expected) < 1e-6).toBe(true)
      }),
      { seed: 19, numRuns: 200 }
    )
  })
})

describe('builderVolumeMonthlyCost', () => {
  it('is the volume’s provisioned size at its type’s price', () => {
    expect(builderVolumeMonthlyCost({ sizeGiB: 20, volumeType: 'gp3' }, PRICES)).toEqual({ usdPerMonth: 1.6 })
  })

  it('unknown when the volume was not read, or there are no prices (their reason first)', () => {
    expect(builderVolumeMonthlyCost({}, PRICES)).toEqual({ unknown: 'its size and type were not read' })
    expect(builderVolumeMonthlyCost({}, undefined)).toEqual({ unknown: 'no EBS prices were looked up' })
  })
})

const IMAGES: StorageWords = { what: 'the images’ snapshots', singular: 'image', plural: 'images', upperBound: true }
const VOLUMES: StorageWords = {
  what: 'the builders’ volumes',
  singular: 'volume',
  plural: 'volumes',
  upperBound: false
}

describe('storageTotal', () => {
  it('keeps apart what stays billed after the run, what it deleted, and what has no price', () => {
    expect(
      storageTotal(IMAGES, [
        { outcome: 'skipped', monthlyCost: { usdPerMonth: 0.4 } },
        { outcome: 'dry-run', monthlyCost: { usdPerMonth: 0.1 } },
        { outcome: 'failed', monthlyCost: { usdPerMonth: 0.2 } },
        { outcome: 'deleted', monthlyCost: { usdPerMonth: 1 } },
        { outcome: 'notified', monthlyCost: { unknown: 'AccessDeniedException' } },
        { outcome: 'deleted', monthlyCost: { unknown: 'AccessDeniedException' } }
      ])
    ).toEqual({
      ...IMAGES,
      kept: { count: 3, usdPerMonth: 0.7 },
      removed: { count: 1, usdPerMonth: 1 },
      unknown: 2,
      reasons: ['AccessDeniedException']
    })
  })
})

describe('storageCostLines', () => {
  const images = storageTotal(IMAGES, [
    { outcome: 'skipped', monthlyCost: { usdPerMonth: 0.4 } },
    { outcome: 'skipped', monthlyCost: { usdPerMonth: 0.4 } },
    { outcome: 'deleted', monthlyCost: { usdPerMonth: 0.25 } }
  ])
  const volumes = storageTotal(VOLUMES, [
    { outcome: 'skipped', monthlyCost: { usdPerMonth: 1.6 } },
    { outcome: 'skipped', monthlyCost: { unknown: 'no list price for gp9 volumes in us-east-1' } }
  ])

  it('says what stays billed (snapshots as an upper bound), what was removed, and what has no price and why', () => {
    expect(storageCostLines([images, volumes])).toEqual([
      'EBS storage still billed after this run: the images’ snapshots up to $0.8000 a month (2 images); the builders’ volumes $1.60 a month (1 volume)',
      'EBS storage this run removed: the images’ snapshots up to $0.2500 a month (1 image)',
      'Storage price unknown for 1 volume: no list price for gp9 volumes in us-east-1'
    ])
  })

  it('nothing without figures', () => {
    expect(storageCostLines([])).toEqual([])
  })

  it('renders its own words with `text` and the reasons with `data`', () => {
    const lines = storageCostLines([volumes], { text: (words) => `T(${words})`, data: (value) => `D(${value})` })
    expect(lines).toEqual([
      'T(EBS storage still billed after this run: the builders’ volumes $1.60 a month (1 volume))',
      'T(Storage price unknown for 1 volume): D(no list price for gp9 volumes in us-east-1)'
    ])
  })
})
