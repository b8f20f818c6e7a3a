/**
 * The price lookups of estimate-cost against mocked AWS clients: GetProducts parsed in its real
 * shape (PriceList entries are JSON strings), one request per type and region (per zone for
 * spot), the newest spot price, and "price unknown" with one warning when pricing is denied or
 * throttled.
 */
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { DescribeSpotPriceHistoryCommand, EC2Client } from '@aws-sdk/client-ec2'
import { GetProductsCommand, PricingClient, PricingServiceException } from '@aws-sdk/client-pricing'
import { mockClient } from 'aws-sdk-client-mock'
import * as core from '../../../__fixtures__/core.js'
import { instance } from '../../../__fixtures__/report.js'
import type { InstanceFinding } from '../../../src/model/types.js'
import { instanceId, hoursBefore, NOW } from '../../../__fixtures__/support.js'

jest.unstable_mockModule('@actions/core', () => core)
const { currentSpotPrice, estimateCost, getProductsInput, hourlyPriceFromPriceList, PRICING_REGION } =
  await import('../../../src/aws/pricing.js')

/** A PriceList entry as GetProducts returns it: the product, OnDemand and Reserved terms, as a JSON string. */
function priceListEntry(instanceType: string, regionCode: string, usd: string): string {
  const sku = `SKU${instanceType.replace(/\W/g, '').toUpperCase()}${regionCode.replace(/\W/g, '').toUpperCase()}`
  return JSON.stringify({
    product: {
      productFamily: 'Compute Instance',
      attributes: {
        instanceType,
        regionCode,
        operatingSystem: 'Linux',
        tenancy: 'Shared',
        preInstalledSw: 'NA',
        capacitystatus: 'Used',
        licenseModel: 'No License required',
        usagetype: `BoxUsage:${instanceType}`,
        operation: 'RunInstances',
        servicecode: 'AmazonEC2'
      },
      sku
    },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [`${sku}.JRTCKXETXF`]: {
          priceDimensions: {
            [`${sku}.JRTCKXETXF.6YS6EN2CT7`]: {
              unit: 'Hrs',
              endRange: 'Inf',
              description: `$${usd} per On Demand Linux ${instanceType} Instance Hour`,
              appliesTo: [],
              rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT7`,
              beginRange: '0',
              pricePerUnit: { USD: usd }
            }
          },
          sku,
          effectiveDate: '2026-02-01T00:00:00Z',
          offerTermCode: 'JRTCKXETXF',
          termAttributes: {}
        }
      },
      Reserved: {
        [`${sku}.4NA7Y494T4`]: {
          priceDimensions: { [`${sku}.4NA7Y494T4.6YS6EN2CT7`]: { unit: 'Hrs', pricePerUnit: { USD: '0.0010000000' } } },
          termAttributes: { LeaseContractLength: '1yr', PurchaseOption: 'No Upfront' }
        }
      }
    },
    version: '20260201000000',
    publicationDate: '2026-02-01T00:00:00Z'
  })
}

const LIST_PRICES: Record<string, string> = {
  'us-east-1/t3.medium': '0.0416000000',
  'us-east-1/m5.large': '0.0960000000',
  'eu-west-1/t3.medium': '0.0456000000'
}

const pricing = mockClient(PricingClient)
const ec2 = mockClient(EC2Client)
const clients = new Map<string, EC2Client>()
const ec2For = (region: string): EC2Client => {
  let client = clients.get(region)
  if (!client)
    clients.set(
      region,
      (client = new EC2Client({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }))
    )
  return client
}
const deps = { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, ec2For, now: NOW }

function filterValue(input: { Filters?: { Field?: string; Value?: string }[] }, field: string): string | undefined {
  return input.Filters?.find((filter) => filter.Field === field)?.Value
}

beforeEach(() => {
  pricing.reset()
  ec2.reset()
  jest.clearAllMocks()
  pricing.on(GetProductsCommand).callsFake((input: { Filters?: { Field?: string; Value?: string }[] }) => {
    const price = LIST_PRICES[`${filterValue(input, 'regionCode')}/${filterValue(input, 'instanceType')}`]
    return {
      FormatVersion: 'aws_v1',
      PriceList: price
        ? [priceListEntry(filterValue(input, 'instanceType') ?? '', filterValue(input, 'regionCode') ?? '', price)]
        : []
    }
  })
  ec2
    .on(DescribeSpotPriceHistoryCommand)
    .callsFake((input: { AvailabilityZone?: string; InstanceTypes?: string[] }) => ({
      // Oldest first: the newest entry is the current price, wherever it is in the list.
      SpotPriceHistory: [
        {
          AvailabilityZone: input.AvailabilityZone,
          InstanceType: input.InstanceTypes?.[0],
          ProductDescription: 'Linux/UNIX',
          SpotPrice: '0.050000',
          Timestamp: new Date('2026-03-01T08:00:00Z')
        },
        {
          AvailabilityZone: input.AvailabilityZone,
          InstanceType: input.InstanceTypes?.[0],
          ProductDescription: 'Linux/UNIX',
          SpotPrice: '0.035000',
          Timestamp: new Date('2026-03-01T11:00:00Z')
        }
      ]
    }))
})

/** Four t3.medium in two regions, two m5.large, two spot m5.large in two zones, one stopped builder. */
function fleet(): InstanceFinding[] {
  const running = (n: number, region: string, instanceType: string, extra: Partial<InstanceFinding> = {}) =>
    instance({
      id: instanceId(n),
      region,
      instanceType,
      launchTime: hoursBefore(NOW, 4).toISOString(),
      state: 'running',
      outcome: 'terminated',
      ...extra
    })
  return [
    running(1, 'us-east-1', 't3.medium'),
    running(2, 'us-east-1', 't3.medium'),
    running(3, 'us-east-1', 't3.medium', { outcome: 'notified' }),
    running(4, 'eu-west-1', 't3.medium'),
    running(5, 'us-east-1', 'm5.large'),
    running(6, 'us-east-1', 'm5.large'),
    running(7, 'us-east-1', 'm5.large', { lifecycle: 'spot', availabilityZone: 'us-east-1a' }),
    running(8, 'us-east-1', 'm5.large', { lifecycle: 'spot', availabilityZone: 'us-east-1b' }),
    running(9, 'us-east-1', 'm5.large', { lifecycle: 'spot', availabilityZone: 'us-east-1b' }),
    instance({
      id: instanceId(10),
      region: 'us-east-1',
      instanceType: 'c5.xlarge',
      state: 'stopped',
      launchTime: hoursBefore(NOW, 30).toISOString()
    })
  ]
}

describe('hourlyPriceFromPriceList', () => {
  it('reads the OnDemand Hrs price of the real shape, not the Reserved one', () => {
    expect(hourlyPriceFromPriceList([priceListEntry('t3.micro', 'us-east-1', '0.0104000000')])).toBe(0.0104)
  })

  it('prefers the BoxUsage product, skips zero prices, and says undefined for nothing', () => {
    const other = JSON.parse(priceListEntry('t3.micro', 'us-east-1', '0.5000000000')) as {
      product: { attributes: Record<string, string> }
    }
    other.product.attributes.usagetype = 'DedicatedUsage:t3.micro'
    expect(
      hourlyPriceFromPriceList([JSON.stringify(other), priceListEntry('t3.micro', 'us-east-1', '0.0104000000')])
    ).toBe(0.0104)
    expect(hourlyPriceFromPriceList([priceListEntry('t3.micro', 'us-east-1', '0.0000000000')])).toBeUndefined()
    expect(hourlyPriceFromPriceList([])).toBeUndefined()
    expect(hourlyPriceFromPriceList(undefined)).toBeUndefined()
    expect(hourlyPriceFromPriceList(['not json'])).toBeUndefined()
    // The SDK's LazyJsonString: a String object, not a primitive.
    expect(hourlyPriceFromPriceList([new String(priceListEntry('t3.micro', 'us-east-1', '0.0104000000'))])).toBe(0.0104)
  })
})

describe('currentSpotPrice', () => {
  it('is the newest entry', () => {
    expect(
      currentSpotPrice([
        { SpotPrice: '0.04', Timestamp: new Date('2026-03-01T10:00:00Z') },
        { SpotPrice: '0.03', Timestamp: new Date('2026-03-01T11:00:00Z') },
        { SpotPrice: '0.05', Timestamp: new Date('2026-03-01T09:00:00Z') }
      ])
    ).toBe(0.03)
    expect(currentSpotPrice([])).toBeUndefined()
  })
})

describe('getProductsInput', () => {
  it('asks for On-Demand Linux, shared tenancy, no pre-installed software, used capacity', () => {
    expect(getProductsInput('t3.micro', 'eu-west-1')).toMatchObject({
      ServiceCode: 'AmazonEC2',
      Filters: [
        { Type: 'TERM_MATCH', Field: 'instanceType', Value: 't3.micro' },
        { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'eu-west-1' },
        { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
        { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
        { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
        { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' }
      ]
    })
  })
})

describe('estimateCost', () => {
  it('asks once per type and region (per zone for spot), never per instance, and prices spot builders at the spot price', async () => {
    const cost = await estimateCost(fleet(), deps)
    const asked = pricing
      .commandCalls(GetProductsCommand)
      .map(
        (call) => `${filterValue(call.args[0].input, 'regionCode')}/${filterValue(call.args[0].input, 'instanceType')}`
      )
    expect(asked.sort()).toEqual(['eu-west-1/t3.medium', 'us-east-1/m5.large', 'us-east-1/t3.medium'])
    const spot = ec2.commandCalls(DescribeSpotPriceHistoryCommand).map((call) => call.args[0].input)
    expect(spot.map((input) => input.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b'])
    for (const input of spot)
      expect(input).toMatchObject({ InstanceTypes: ['m5.large'], ProductDescriptions: ['Linux/UNIX'], StartTime: NOW })
    // (3 × 0.0416 + 0.0456 + 2 × 0.096 + 3 × 0.035 spot) × 4 hours; one t3.medium (0.0416/h) only reported.
    expect(cost).toMatchObject({
      running: 9,
      priceUnknown: 0,
      stopped: 1,
      instanceHours: 36,
      usdSoFar: 1.8696,
      usdPerHourStopped: 0.4258,
      usdPerHourStillRunning: 0.0416
    })
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('asks the Pricing endpoint in us-east-1', async () => {
    await estimateCost([fleet()[0] as InstanceFinding], deps)
    const [call] = pricing.commandCalls(GetProductsCommand)
    expect(PRICING_REGION).toBe('us-east-1')
    expect(await (call?.thisValue as PricingClient).config.region()).toBe('us-east-1')
  })

  it('denied GetProducts: the On-Demand builders are "price unknown", spot ones still priced, one warning that names the permission', async () => {
    pricing.on(GetProductsCommand).rejects(
      new PricingServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User is not authorized to perform: pricing:GetProducts'
      })
    )
    const cost = await estimateCost(fleet(), deps)
    expect(cost).toMatchObject({ running: 9, priceUnknown: 6, usdPerHourStopped: 0.105 })
    expect(cost.unknown).toHaveLength(1)
    expect(cost.unknown[0]).toContain('missing IAM permission pricing:GetProducts')
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(String(core.warning.mock.calls[0]?.[0])).toMatch(
      /price unknown for 6 running builders.*AccessDeniedException/
    )
    // Still asked once per key, not once per instance.
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(3)
  })

  it('throttled after the SDK retries, and denied spot prices: price unknown with one warning', async () => {
    pricing.on(GetProductsCommand).rejects(
      new PricingServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'Rate exceeded'
      })
    )
    ec2
      .on(DescribeSpotPriceHistoryCommand)
      .rejects(
        Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation' })
      )
    const cost = await estimateCost(fleet(), deps)
    expect(cost).toMatchObject({ running: 9, priceUnknown: 9, usdSoFar: 0, instanceHours: 36 })
    expect(cost.unknown.sort()).toEqual([
      expect.stringMatching(/^ThrottlingException: Rate exceeded/),
      expect.stringMatching(/^UnauthorizedOperation: .*missing IAM permission ec2:DescribeSpotPriceHistory/)
    ])
    expect(core.warning).toHaveBeenCalledTimes(1)
  })

  it('no list price for the type: unknown; a region outside the aws partition is never asked', async () => {
    const cost = await estimateCost(
      [
        instance({ region: 'us-east-1', instanceType: 'x9.huge', state: 'running' }),
        instance({ id: instanceId(2), region: 'cn-north-1', instanceType: 't3.micro', state: 'running' })
      ],
      deps
    )
    expect(cost.priceUnknown).toBe(2)
    expect(cost.unknown).toEqual([
      'no USD list price for cn-north-1 (outside the aws partition)',
      'no list price for x9.huge in us-east-1 (On-Demand)'
    ])
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(1)
    expect(core.warning).toHaveBeenCalledTimes(1)
  })

  it('nothing running: no request at all, no warning', async () => {
    const cost = await estimateCost([instance({ state: 'stopped' })], deps)
    expect(cost).toMatchObject({ running: 0, stopped: 1 })
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(0)
    expect(ec2.commandCalls(DescribeSpotPriceHistoryCommand)).toHaveLength(0)
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('passes the abort signal to every request', async () => {
    const controller = new AbortController()
    await estimateCost(fleet(), { ...deps, abortSignal: controller.signal })
    for (const call of [
      ...pricing.commandCalls(GetProductsCommand),
      ...ec2.commandCalls(DescribeSpotPriceHistoryCommand)
    ]) {
      expect((call.args as unknown[])[1]).toEqual({ abortSignal: controller.signal })
    }
  })
})
