/**
 * estimate-cost's wiring (src/report/cost-estimate.ts) with Pricing behind aws-sdk-client-mock:
 * the storage prices are asked once per region that holds a priced kind's resources, as soon as
 * the sweep has surveyed (not when the report is written), never for a run without such resources;
 * each image and volume gets its monthly cost, and a refused lookup makes the cost unknown with its
 * reason and one warning, never a failed run.
 */
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { EC2Client } from '@aws-sdk/client-ec2'
import { GetProductsCommand, PricingClient, PricingServiceException } from '@aws-sdk/client-pricing'
import { mockClient } from 'aws-sdk-client-mock'
import * as core from '../../../__fixtures__/core.js'
import { imageLeftover, instance, orphan, report, volumeLeftover } from '../../../__fixtures__/report.js'
import { NOW, record } from '../../../__fixtures__/support.js'
import type { FindingsByKind } from '../../../src/engine/kind.js'
import { KIND_NAMES, type Kind } from '../../../src/kinds/names.js'
import type { Finding, ImageFinding, StorageCost, VolumeFinding } from '../../../src/model/types.js'

jest.unstable_mockModule('@actions/core', () => core)
const { costEstimate, storageRegions, storageTotals } = await import('../../../src/report/cost-estimate.js')
const { KIND_MODULES } = await import('../../../src/kinds/registry.js')

const pricing = mockClient(PricingClient)
const deps = () => ({
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
  ec2For: (region: string) => new EC2Client({ region }),
  now: NOW
})

/** A Price List entry of one EBS product, as GetProducts returns it: a JSON string. */
function entry(family: string, attributes: Record<string, string>, usd: string): string {
  return JSON.stringify({
    product: { productFamily: family, attributes: { servicecode: 'AmazonEC2', ...attributes }, sku: 'SKU' },
    terms: {
      OnDemand: { 'SKU.T': { priceDimensions: { 'SKU.T.D': { unit: 'GB-Mo', pricePerUnit: { USD: usd } } } } }
    }
  })
}

type Filters = { Filters?: { Field?: string; Value?: string }[] }
const filterOf = (input: Filters, field: string) => input.Filters?.find((filter) => filter.Field === field)?.Value

/** What the mock was asked, as `family/region` (compute prices as `instanceType/region`). */
const asked = () =>
  pricing.commandCalls(GetProductsCommand).map((call) => {
    const input = call.args[0].input as Filters
    return `${filterOf(input, 'productFamily') ?? filterOf(input, 'instanceType')}/${filterOf(input, 'regionCode')}`
  })

beforeEach(() => {
  pricing.reset()
  jest.clearAllMocks()
  pricing.on(GetProductsCommand).callsFake((input: Filters) => {
    const family = filterOf(input, 'productFamily')
    if (family === 'Storage')
      return { PriceList: [entry('Storage', { volumeApiName: 'gp3', usagetype: 'EBS:VolumeUsage.gp3' }, '0.08')] }
    if (family === 'Storage Snapshot')
      return { PriceList: [entry('Storage Snapshot', { usagetype: 'EBS:SnapshotUsage' }, '0.05')] }
    return { PriceList: [] }
  })
})

/** What the sweep's plans hold when it has surveyed, by kind. */
function planned(findings: Partial<Record<Kind, Finding[]>>): FindingsByKind {
  return new Map(
    KIND_NAMES.flatMap((kind) => {
      const list = findings[kind]
      return list ? [[kind, list] as const] : []
    })
  )
}

const imageIn = (region: string, id: string, sizes: (number | undefined)[], outcome: Finding['outcome'] = 'skipped') =>
  imageLeftover({
    id,
    region,
    outcome,
    image: {
      snapshots: sizes.map((sizeGiB, index) =>
        sizeGiB === undefined ? { id: `snap-${index}` } : { id: `snap-${index}`, sizeGiB }
      )
    }
  })

const imagesOf = (whole: { images: ImageFinding[] }) => whole.images.map((finding) => finding.image.monthlyCost)
const volumesOf = (whole: { volumes: VolumeFinding[] }) => whole.volumes.map((finding) => finding.volume.monthlyCost)

describe('costEstimate', () => {
  it('asks each region that holds images or volumes for its storage prices once, as soon as the sweep has surveyed', async () => {
    const estimate = costEstimate(KIND_MODULES, deps)
    const images = [imageIn('eu-west-1', 'ami-1', [8, 20]), imageIn('us-east-1', 'ami-2', [8])]
    const volumes = [volumeLeftover({ region: 'eu-west-1' })]
    estimate.start([], () => planned({ images, volumes, 'key-pairs': [orphan({ region: 'ap-south-1' })] }))
    // The lookups are on their way before the report is written: they overlap the act phase.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(asked().sort()).toEqual([
      'Storage Snapshot/eu-west-1',
      'Storage Snapshot/us-east-1',
      'Storage/eu-west-1',
      'Storage/us-east-1'
    ])

    const whole = report({ images, volumes, instances: [instance({ state: 'stopped' })] })
    await estimate.addTo(whole)
    expect(asked()).toHaveLength(4)
    expect(imagesOf(whole)).toEqual([{ usdPerMonth: 1.4 }, { usdPerMonth: 0.4 }])
    expect(volumesOf(whole)).toEqual([{ usdPerMonth: 1.6 }])
    expect(whole.cost).toMatchObject({ stopped: 1, running: 0 })
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('asks nothing for storage when no priced kind holds anything, and prices nothing', async () => {
    const estimate = costEstimate(KIND_MODULES, deps)
    estimate.start([], () => planned({ 'key-pairs': [orphan()] }))
    const whole = report({ keyPairs: [orphan()] })
    await estimate.addTo(whole)
    expect(asked()).toEqual([])
    expect(whole.cost).toBeDefined()
    expect(storageTotals(KIND_MODULES, whole)).toEqual([])
  })

  it('a region that holds a resource only in the final findings has no prices: its cost says none were looked up', async () => {
    const estimate = costEstimate(KIND_MODULES, deps)
    estimate.start([], () => planned({}))
    const whole = report({ volumes: [volumeLeftover({ region: 'eu-north-1' })] })
    await estimate.addTo(whole)
    expect(volumesOf(whole)).toEqual([{ unknown: 'no EBS prices were looked up' }])
  })

  it('refused prices: every cost unknown with the reason naming the permission, one warning, no rejection', async () => {
    pricing.reset()
    pricing.on(GetProductsCommand).rejects(
      new PricingServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not authorized'
      })
    )
    const images = [imageIn('eu-west-1', 'ami-1', [8])]
    const volumes = [volumeLeftover({ region: 'eu-west-1' }), volumeLeftover({ id: 'vol-2', region: 'eu-west-1' })]
    const estimate = costEstimate(KIND_MODULES, deps)
    estimate.start([], () => planned({ images, volumes }))
    const whole = report({ images, volumes })
    await estimate.addTo(whole)
    for (const cost of [...imagesOf(whole), ...volumesOf(whole)])
      expect(cost).toEqual({ unknown: expect.stringMatching(/AccessDeniedException.*pricing:GetProducts/) })
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0]?.[0]).toMatch(
      /^Cost estimate: EBS storage price unknown for 1 image, 2 volumes, left out of the figures: AccessDeniedException/
    )
  })

  it('one warning for the builders’ and the storage’s unknown prices together', async () => {
    pricing.reset()
    pricing.on(GetProductsCommand).rejects(
      new PricingServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'slow down'
      })
    )
    const volumes = [volumeLeftover({ region: 'us-east-1' })]
    const estimate = costEstimate(KIND_MODULES, deps)
    estimate.start([record({ region: 'us-east-1', instanceType: 't3.micro', state: 'running' })], () =>
      planned({ volumes })
    )
    await estimate.addTo(report({ instances: [instance({ region: 'us-east-1', state: 'running' })], volumes }))
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0]?.[0]).toMatch(
      /^Cost estimate: price unknown for 1 running builder, left out of the figures: ThrottlingException.*\. EBS storage price unknown for 1 volume, left out of the figures: ThrottlingException/
    )
  })

  it('does nothing when the sweep never surveyed: no cost, no lookups', async () => {
    const estimate = costEstimate(KIND_MODULES, deps)
    const whole = report({ images: [imageIn('eu-west-1', 'ami-1', [8])] })
    await estimate.addTo(whole)
    expect(whole.cost).toBeUndefined()
    expect(imagesOf(whole)).toEqual([undefined])
    expect(asked()).toEqual([])
  })

  it('prices the builders as before, beside the storage', async () => {
    const estimate = costEstimate(KIND_MODULES, deps)
    const stale = [record({ region: 'us-east-1', instanceType: 't3.micro', state: 'running' })]
    estimate.start(stale, () => planned({}))
    await estimate.addTo(report({ instances: [instance({ region: 'us-east-1' })] }))
    expect(asked()).toEqual(['t3.micro/us-east-1'])
  })
})

describe('storageRegions', () => {
  it('the distinct regions of the priced kinds’ resources, sorted; other kinds’ regions not', () => {
    expect(
      storageRegions(
        KIND_MODULES,
        planned({
          images: [imageIn('us-east-1', 'ami-1', [8]), imageIn('eu-west-1', 'ami-2', [8])],
          volumes: [volumeLeftover({ region: 'us-east-1' })],
          'key-pairs': [orphan({ region: 'ap-south-1' })]
        })
      )
    ).toEqual(['eu-west-1', 'us-east-1'])
  })
})

describe('storageTotals', () => {
  it('per priced kind in the kinds’ order, kept apart from removed; an image of unknown size has no bound', () => {
    const costing = (finding: ImageFinding, monthlyCost: StorageCost): ImageFinding => ({
      ...finding,
      image: { ...finding.image, monthlyCost }
    })
    const whole = report({
      images: [
        costing(imageIn('eu-west-1', 'ami-1', [8]), { usdPerMonth: 0.4 }),
        costing(imageIn('eu-west-1', 'ami-2', [8], 'deleted'), { usdPerMonth: 0.4 }),
        costing(imageIn('eu-west-1', 'ami-3', [undefined]), { unknown: 'the size of snap-0 is unknown' })
      ],
      volumes: [volumeLeftover({ volume: { monthlyCost: { usdPerMonth: 1.6 } } })]
    })
    expect(storageTotals(KIND_MODULES, whole)).toEqual([
      {
        what: 'the images’ snapshots',
        singular: 'image',
        plural: 'images',
        upperBound: true,
        kept: { count: 1, usdPerMonth: 0.4 },
        removed: { count: 1, usdPerMonth: 0.4 },
        unknown: 1,
        reasons: ['the size of snap-0 is unknown']
      },
      {
        what: 'the builders’ volumes',
        singular: 'volume',
        plural: 'volumes',
        upperBound: false,
        kept: { count: 1, usdPerMonth: 1.6 },
        removed: { count: 0, usdPerMonth: 0 },
        unknown: 0,
        reasons: []
      }
    ])
  })
})
