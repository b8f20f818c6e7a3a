/**
 * EBS storage prices for estimate-cost: one GetProducts per product family (Storage, Storage
 * Snapshot) per region, parsed from the real shape (productFamily beside the attributes,
 * volumeApiName, usagetype with its region prefix, GB-Mo), never failing the sweep.
 */
import { describe, expect, it } from '@jest/globals'
import { EC2Client } from '@aws-sdk/client-ec2'
import { GetProductsCommand, PricingClient, PricingServiceException } from '@aws-sdk/client-pricing'
import { mockClient } from 'aws-sdk-client-mock'
import { lookUpStoragePrices, storagePriceInputs, storagePricesFromPriceLists } from '../../../src/aws/pricing.js'
import { NOW } from '../../../__fixtures__/support.js'

function entry(family: string, attributes: Record<string, string>, usd: string, unit = 'GB-Mo'): string {
  return JSON.stringify({
    product: { productFamily: family, attributes: { servicecode: 'AmazonEC2', ...attributes }, sku: 'SKU' },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        'SKU.JRTCKXETXF': {
          priceDimensions: { 'SKU.JRTCKXETXF.6YS6EN2CT7': { unit, pricePerUnit: { USD: usd } } }
        }
      }
    }
  })
}

const volume = (api: string, usagetype: string, usd: string) =>
  entry('Storage', { volumeApiName: api, usagetype, regionCode: 'eu-west-1' }, usd)

describe('storagePriceInputs', () => {
  it('asks for the Storage and the Storage Snapshot families of one region', () => {
    expect(storagePriceInputs('eu-west-1')).toEqual([
      {
        ServiceCode: 'AmazonEC2',
        FormatVersion: 'aws_v1',
        Filters: [
          { Type: 'TERM_MATCH', Field: 'productFamily', Value: 'Storage' },
          { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' }
        ],
        MaxResults: 100
      },
      {
        ServiceCode: 'AmazonEC2',
        FormatVersion: 'aws_v1',
        Filters: [
          { Type: 'TERM_MATCH', Field: 'productFamily', Value: 'Storage Snapshot' },
          { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' }
        ],
        MaxResults: 100
      }
    ])
  })
})

describe('storagePricesFromPriceLists', () => {
  it('reads each volume type by volumeApiName and the standard-tier snapshot by usagetype, region prefix or not', () => {
    const prices = storagePricesFromPriceLists(
      'eu-west-1',
      [
        volume('gp3', 'EU-EBS:VolumeUsage.gp3', '0.0880000000'),
        volume('io1', 'EU-EBS:VolumeUsage.piops', '0.1380000000'),
        volume('standard', 'EU-EBS:VolumeUsage', '0.0550000000'),
        volume('gp2', 'EU-EBS:VolumeUsage.gp2', '0.0000000000'),
        entry('Storage', { usagetype: 'EU-EBS:VolumeUsage.x' }, '1'),
        volume('st1', 'EU-EBS:VolumeUsage.st1', '0.05')
      ],
      [
        entry('Storage Snapshot', { usagetype: 'EU-EBS:SnapshotArchiveStorage' }, '0.0125'),
        entry('Storage Snapshot', { usagetype: 'EU-EBS:SnapshotUsage' }, '0.0500000000')
      ]
    )
    expect(prices).toEqual({
      region: 'eu-west-1',
      // A zero price is no price; an entry without volumeApiName names no type.
      volumeUsdPerGbMonth: { gp3: 0.088, io1: 0.138, standard: 0.055, st1: 0.05 },
      snapshotUsdPerGbMonth: 0.05
    })
    expect(
      storagePricesFromPriceLists(
        'us-east-1',
        [],
        [entry('Storage Snapshot', { usagetype: 'EBS:SnapshotUsage' }, '0.05')]
      ).snapshotUsdPerGbMonth
    ).toBe(0.05)
  })

  it('ignores a price that is not per GB-month, and entries that are not JSON', () => {
    const prices = storagePricesFromPriceLists(
      'us-east-1',
      [entry('Storage', { volumeApiName: 'gp3', usagetype: 'EBS:VolumeUsage.gp3' }, '0.08', 'Hrs'), '{not json'],
      'not a list'
    )
    expect(prices).toEqual({ region: 'us-east-1', volumeUsdPerGbMonth: {}, snapshotUsdPerGbMonth: undefined })
  })
})

describe('lookUpStoragePrices', () => {
  const pricing = mockClient(PricingClient)
  const deps = { ec2For: () => new EC2Client({ region: 'us-east-1' }), now: NOW }

  it('two GetProducts per region, none for a region outside the aws partition, nothing without regions', async () => {
    pricing.reset()
    pricing.on(GetProductsCommand).callsFake((input: { Filters: { Field: string; Value: string }[] }) => {
      const family = input.Filters.find((filter) => filter.Field === 'productFamily')?.Value
      return {
        PriceList:
          family === 'Storage'
            ? [entry('Storage', { volumeApiName: 'gp3', usagetype: 'EBS:VolumeUsage.gp3' }, '0.08')]
            : [entry('Storage Snapshot', { usagetype: 'EBS:SnapshotUsage' }, '0.05')]
      }
    })
    const prices = await lookUpStoragePrices(['us-east-1', 'us-east-1', 'cn-north-1'], deps)
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(2)
    expect(prices.get('us-east-1')).toEqual({
      region: 'us-east-1',
      volumeUsdPerGbMonth: { gp3: 0.08 },
      snapshotUsdPerGbMonth: 0.05
    })
    expect(prices.get('cn-north-1')).toEqual({
      region: 'cn-north-1',
      volumeUsdPerGbMonth: {},
      unknown: 'no USD list price for cn-north-1 (outside the aws partition)'
    })
    pricing.reset()
    expect(await lookUpStoragePrices([], deps)).toEqual(new Map())
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(0)
  })

  it('denied: the region has no prices and says why, naming the permission; it never rejects', async () => {
    pricing.reset()
    pricing.on(GetProductsCommand).rejects(
      new PricingServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'not allowed'
      })
    )
    const prices = await lookUpStoragePrices(['eu-west-1'], deps)
    expect(prices.get('eu-west-1')).toMatchObject({ volumeUsdPerGbMonth: {} })
    expect(prices.get('eu-west-1')?.unknown).toMatch(/AccessDeniedException.*pricing:GetProducts/)
  })
})
