/** The sandbox's prices through the real PricingClient and EC2Client: GetProducts, DescribeSpotPriceHistory and their faults. */
import { DescribeSpotPriceHistoryCommand } from '@aws-sdk/client-ec2'
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  getProductsInput,
  hourlyPriceFromPriceList,
  currentSpotPrice,
  storagePriceInputs,
  storagePricesFromPriceLists
} from '../../src/aws/pricing.js'
import { snapshotMonthlyCost, volumeMonthlyCost } from '../../src/model/cost.js'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2, errorOf, FAKE_CREDENTIALS } from './sdk.js'

let s: Sandbox
let pricing: PricingClient
beforeEach(async () => {
  s = await startSandbox({ regions: ['eu-west-1'] })
  pricing = new PricingClient({ endpoint: s.url, region: 'us-east-1', credentials: FAKE_CREDENTIALS, maxAttempts: 1 })
})
afterEach(async () => {
  pricing.destroy()
  await s.close()
})

describe('GetProducts', () => {
  it('answers the matching product as a JSON string in the real shape, and records the call', async () => {
    const out = await pricing.send(new GetProductsCommand(getProductsInput('m5.large', 'eu-west-1')))
    // A JSON string on the wire; the SDK hands each entry over as a String object.
    const list = out.PriceList as unknown as unknown[]
    expect(list).toHaveLength(1)
    const entry = JSON.parse(String(list[0])) as { product: { attributes: Record<string, string> } }
    expect(entry.product.attributes).toMatchObject({
      instanceType: 'm5.large',
      regionCode: 'eu-west-1',
      operatingSystem: 'Linux',
      tenancy: 'Shared'
    })
    expect(hourlyPriceFromPriceList(out.PriceList)).toBe(0.107)
    // The Pricing endpoint's region is us-east-1, also when the account only enabled eu-west-1.
    expect(s.callsOf('GetProducts')).toMatchObject([{ service: 'pricing', region: 'us-east-1', status: 200 }])
    expect(JSON.parse(s.callsOf('GetProducts')[0]?.params.Filters ?? '[]')).toContainEqual({
      Type: 'TERM_MATCH',
      Field: 'instanceType',
      Value: 'm5.large'
    })
  })

  it('an unknown type or region has no product', async () => {
    const out = await pricing.send(new GetProductsCommand(getProductsInput('x9.huge', 'us-east-1')))
    expect(out.PriceList).toEqual([])
  })

  it('deny and throttle', async () => {
    s.faults.deny({ action: 'GetProducts' })
    expect(
      await errorOf(pricing.send(new GetProductsCommand(getProductsInput('t3.micro', 'us-east-1'))))
    ).toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining('pricing:GetProducts'),
      status: 403
    })
    s.faults.clear()
    s.faults.throttle({ action: 'GetProducts', count: 1 })
    expect(
      await errorOf(pricing.send(new GetProductsCommand(getProductsInput('t3.micro', 'us-east-1'))))
    ).toMatchObject({
      name: 'ThrottlingException',
      status: 503
    })
    expect(
      hourlyPriceFromPriceList(
        (await pricing.send(new GetProductsCommand(getProductsInput('t3.micro', 'us-east-1')))).PriceList
      )
    ).toBe(0.0104)
  })
})

describe('GetProducts for EBS storage', () => {
  it('answers the Storage family of a region: every volume type, by volumeApiName and usagetype', async () => {
    const [storage, snapshots] = storagePriceInputs('eu-west-1')
    const volumes = await pricing.send(new GetProductsCommand(storage!))
    const entries = (volumes.PriceList as unknown as unknown[]).map(
      (entry) => JSON.parse(String(entry)) as { product: { productFamily: string; attributes: Record<string, string> } }
    )
    expect(entries.map(({ product }) => product.productFamily)).toEqual(Array(7).fill('Storage'))
    expect(entries.map(({ product }) => [product.attributes.volumeApiName, product.attributes.usagetype])).toEqual([
      ['gp2', 'EU-EBS:VolumeUsage.gp2'],
      ['gp3', 'EU-EBS:VolumeUsage.gp3'],
      ['io1', 'EU-EBS:VolumeUsage.piops'],
      ['io2', 'EU-EBS:VolumeUsage.io2'],
      ['st1', 'EU-EBS:VolumeUsage.st1'],
      ['sc1', 'EU-EBS:VolumeUsage.sc1'],
      ['standard', 'EU-EBS:VolumeUsage']
    ])
    const snapshotList = (await pricing.send(new GetProductsCommand(snapshots!))).PriceList
    const prices = storagePricesFromPriceLists('eu-west-1', volumes.PriceList, snapshotList)
    expect(prices.volumeUsdPerGbMonth).toEqual({
      gp2: 0.11,
      gp3: 0.088,
      io1: 0.138,
      io2: 0.138,
      st1: 0.05,
      sc1: 0.0168,
      standard: 0.055
    })
    expect(volumeMonthlyCost(100, 'gp3', prices)).toEqual({ usdPerMonth: 8.8 })
    expect(snapshotMonthlyCost(8, prices)).toEqual({ usdPerMonth: 0.4 })
  })
})

describe('DescribeSpotPriceHistory', () => {
  it('answers the history of a type in a zone; the newest entry is the current price', async () => {
    const out = await ec2(s, 'eu-west-1').send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ['m5.large'],
        ProductDescriptions: ['Linux/UNIX'],
        AvailabilityZone: 'eu-west-1b',
        StartTime: new Date()
      })
    )
    expect(out.SpotPriceHistory).toHaveLength(2)
    expect(
      out.SpotPriceHistory?.every(
        (entry) => entry.AvailabilityZone === 'eu-west-1b' && entry.InstanceType === 'm5.large'
      )
    ).toBe(true)
    expect(currentSpotPrice(out.SpotPriceHistory ?? [])).toBe(0.04378)
  })

  it('is denied like any EC2 action', async () => {
    s.faults.deny({ action: 'DescribeSpotPriceHistory' })
    const denied = await errorOf(
      ec2(s, 'eu-west-1').send(
        new DescribeSpotPriceHistoryCommand({ InstanceTypes: ['m5.large'], AvailabilityZone: 'eu-west-1a' })
      )
    )
    expect(denied).toMatchObject({
      name: 'UnauthorizedOperation',
      message: expect.stringContaining('ec2:DescribeSpotPriceHistory')
    })
  })
})
