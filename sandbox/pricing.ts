/**
 * Prices in the sandbox account, for estimate-cost:
 * - the AWS Price List Query API's GetProducts, awsJson1_1 protocol (POST, `X-Amz-Target:
 *   AWSPriceListService.GetProducts`, JSON body and answer; `PriceList` entries are JSON strings in
 *   the shape the real API returns), answered for the types and regions of SANDBOX_LIST_PRICES;
 * - EC2's DescribeSpotPriceHistory (ec2 query protocol, XML), from SANDBOX_SPOT_PRICES.
 * Faults (deny, throttle, fail, drop) apply to both, matched by action and `service: 'pricing'`.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Ec2Handler } from './ec2.js'
import { faultError, type Faults } from './faults.js'
import type { CallRecord } from './types.js'
import { AwsFault, el, filtersParam, items, listParam } from './wire.js'

/** On-Demand Linux list prices, USD per hour (us-east-1 and eu-west-1 as AWS lists them in 2026). */
export const SANDBOX_LIST_PRICES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'us-east-1': { 't3.micro': 0.0104, 't3.medium': 0.0416, 'm5.large': 0.096, 'c5.xlarge': 0.17 },
  'us-west-2': { 't3.micro': 0.0104, 't3.medium': 0.0416, 'm5.large': 0.096, 'c5.xlarge': 0.17 },
  'eu-west-1': { 't3.micro': 0.0114, 't3.medium': 0.0456, 'm5.large': 0.107, 'c5.xlarge': 0.192 }
}

/**
 * Current spot prices per region and type, USD per hour; zone `b` is 10% dearer than the others so
 * that per-zone prices show. The history also holds an older, higher entry (×1.5, 3 hours back).
 */
export const SANDBOX_SPOT_PRICES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'us-east-1': { 't3.micro': 0.0032, 't3.medium': 0.0125, 'm5.large': 0.035, 'c5.xlarge': 0.0654 },
  'us-west-2': { 't3.micro': 0.0031, 't3.medium': 0.0121, 'm5.large': 0.0338, 'c5.xlarge': 0.0631 },
  'eu-west-1': { 't3.micro': 0.0036, 't3.medium': 0.0142, 'm5.large': 0.0398, 'c5.xlarge': 0.0705 }
}

/**
 * EBS storage list prices, USD per GB-month (2026): volumes by type (`volumeApiName`), and the
 * standard-tier snapshot (`snapshot`).
 */
export const SANDBOX_STORAGE_PRICES: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'us-east-1': { gp2: 0.1, gp3: 0.08, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05, snapshot: 0.05 },
  'us-west-2': { gp2: 0.1, gp3: 0.08, io1: 0.125, io2: 0.125, st1: 0.045, sc1: 0.015, standard: 0.05, snapshot: 0.05 },
  'eu-west-1': {
    gp2: 0.11,
    gp3: 0.088,
    io1: 0.138,
    io2: 0.138,
    st1: 0.05,
    sc1: 0.0168,
    standard: 0.055,
    snapshot: 0.05
  }
}

/** The prefix of a region's usage types in the price list: none in us-east-1. */
const USAGE_PREFIX: Record<string, string> = { 'us-east-1': '', 'us-west-2': 'USW2-', 'eu-west-1': 'EU-' }

/** How the price list names a volume type (`volumeType`) and its usage type (io1 is `piops`, magnetic has no suffix). */
const VOLUME_PRODUCTS: Record<string, { volumeType: string; storageMedia: string; usage: string }> = {
  gp2: { volumeType: 'General Purpose', storageMedia: 'SSD-backed', usage: 'EBS:VolumeUsage.gp2' },
  gp3: { volumeType: 'General Purpose', storageMedia: 'SSD-backed', usage: 'EBS:VolumeUsage.gp3' },
  io1: { volumeType: 'Provisioned IOPS', storageMedia: 'SSD-backed', usage: 'EBS:VolumeUsage.piops' },
  io2: { volumeType: 'Provisioned IOPS', storageMedia: 'SSD-backed', usage: 'EBS:VolumeUsage.io2' },
  st1: { volumeType: 'Throughput Optimized HDD', storageMedia: 'HDD-backed', usage: 'EBS:VolumeUsage.st1' },
  sc1: { volumeType: 'Cold HDD', storageMedia: 'HDD-backed', usage: 'EBS:VolumeUsage.sc1' },
  standard: { volumeType: 'Magnetic', storageMedia: 'HDD-backed', usage: 'EBS:VolumeUsage' }
}

/** One Storage or Storage Snapshot entry as the real GetProducts answers it: a GB-Mo OnDemand price. */
export function storagePriceListEntry(region: string, type: string, usdPerGbMonth: number): string {
  const code = sku(region, `ebs-${type}`)
  const onDemand = `${code}.JRTCKXETXF`
  const prefix = USAGE_PREFIX[region] ?? ''
  const common = {
    servicecode: 'AmazonEC2',
    location: LOCATIONS[region] ?? region,
    locationType: 'AWS Region',
    regionCode: region,
    servicename: 'Amazon Elastic Compute Cloud'
  }
  const product = VOLUME_PRODUCTS[type]
  const [productFamily, attributes] = product
    ? [
        'Storage',
        {
          ...common,
          storageMedia: product.storageMedia,
          volumeType: product.volumeType,
          volumeApiName: type,
          usagetype: `${prefix}${product.usage}`,
          operation: ''
        }
      ]
    : [
        'Storage Snapshot',
        { ...common, storageMedia: 'Amazon S3', usagetype: `${prefix}EBS:SnapshotUsage`, operation: '' }
      ]
  return JSON.stringify({
    product: { productFamily, attributes, sku: code },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [onDemand]: {
          priceDimensions: {
            [`${onDemand}.6YS6EN2CT7`]: {
              unit: 'GB-Mo',
              endRange: 'Inf',
              description: `$${usdPerGbMonth} per GB-month of ${product ? `${type} provisioned storage` : 'snapshot data stored'}`,
              appliesTo: [],
              rateCode: `${onDemand}.6YS6EN2CT7`,
              beginRange: '0',
              pricePerUnit: { USD: usdPerGbMonth.toFixed(10) }
            }
          },
          sku: code,
          effectiveDate: '2026-02-01T00:00:00Z',
          offerTermCode: 'JRTCKXETXF',
          termAttributes: {}
        }
      }
    },
    version: '20260201000000',
    publicationDate: '2026-02-01T00:00:00Z'
  })
}

/** The current spot price of a type in a zone, or undefined. */
export function sandboxSpotPrice(availabilityZone: string, instanceType: string): number | undefined {
  const base = SANDBOX_SPOT_PRICES[availabilityZone.slice(0, -1)]?.[instanceType]
  if (base === undefined) return undefined
  return availabilityZone.endsWith('b') ? Math.round(base * 1.1 * 1e6) / 1e6 : base
}

/** The `Location` attribute the real price list carries beside `regionCode`. */
const LOCATIONS: Record<string, string> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-west-2': 'US West (Oregon)',
  'eu-west-1': 'EU (Ireland)'
}

function sku(region: string, instanceType: string): string {
  return Buffer.from(`${region}/${instanceType}`).toString('hex').slice(0, 16).toUpperCase()
}

/** One PriceList entry as the real GetProducts answers it (a JSON string): product, OnDemand and Reserved terms. */
export function priceListEntry(region: string, instanceType: string, usdPerHour: number): string {
  const code = sku(region, instanceType)
  const onDemand = `${code}.JRTCKXETXF`
  const reserved = `${code}.4NA7Y494T4`
  const attributes = {
    servicecode: 'AmazonEC2',
    location: LOCATIONS[region] ?? region,
    locationType: 'AWS Region',
    regionCode: region,
    instanceType,
    instanceFamily: 'General purpose',
    operatingSystem: 'Linux',
    tenancy: 'Shared',
    preInstalledSw: 'NA',
    capacitystatus: 'Used',
    licenseModel: 'No License required',
    usagetype: `${region === 'us-east-1' ? '' : 'EU-'}BoxUsage:${instanceType}`,
    operation: 'RunInstances',
    servicename: 'Amazon Elastic Compute Cloud'
  }
  return JSON.stringify({
    product: { productFamily: 'Compute Instance', attributes, sku: code },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [onDemand]: {
          priceDimensions: {
            [`${onDemand}.6YS6EN2CT7`]: {
              unit: 'Hrs',
              endRange: 'Inf',
              description: `$${usdPerHour} per On Demand Linux ${instanceType} Instance Hour`,
              appliesTo: [],
              rateCode: `${onDemand}.6YS6EN2CT7`,
              beginRange: '0',
              pricePerUnit: { USD: usdPerHour.toFixed(10) }
            }
          },
          sku: code,
          effectiveDate: '2026-02-01T00:00:00Z',
          offerTermCode: 'JRTCKXETXF',
          termAttributes: {}
        }
      },
      Reserved: {
        [reserved]: {
          priceDimensions: {
            [`${reserved}.6YS6EN2CT7`]: {
              unit: 'Hrs',
              description: 'Linux/UNIX (Amazon VPC), reserved',
              pricePerUnit: { USD: (usdPerHour * 0.6).toFixed(10) }
            }
          },
          sku: code,
          effectiveDate: '2026-02-01T00:00:00Z',
          offerTermCode: '4NA7Y494T4',
          termAttributes: { LeaseContractLength: '1yr', OfferingClass: 'standard', PurchaseOption: 'No Upfront' }
        }
      }
    },
    version: '20260201000000',
    publicationDate: '2026-02-01T00:00:00Z'
  })
}

interface GetProductsRequest {
  ServiceCode?: string
  Filters?: { Type?: string; Field?: string; Value?: string }[]
  FormatVersion?: string
  MaxResults?: number
}

/** GetProducts: every product matching all TERM_MATCH filters (field names case-insensitive, as AWS does). */
export function getProducts(request: GetProductsRequest): { FormatVersion: string; PriceList: string[] } {
  if (request.ServiceCode !== 'AmazonEC2') return { FormatVersion: 'aws_v1', PriceList: [] }
  const products = [
    ...Object.entries(SANDBOX_LIST_PRICES).flatMap(([region, prices]) =>
      Object.entries(prices).map(([instanceType, price]) => priceListEntry(region, instanceType, price))
    ),
    ...Object.entries(SANDBOX_STORAGE_PRICES).flatMap(([region, prices]) =>
      Object.entries(prices).map(([type, price]) => storagePriceListEntry(region, type, price))
    )
  ]
  const entries: string[] = []
  for (const entry of products) {
    const { product } = JSON.parse(entry) as { product: { productFamily: string; attributes: Record<string, string> } }
    // productFamily sits beside the attributes in an entry, and is filtered on like one.
    const fields = { ...product.attributes, productFamily: product.productFamily }
    const byLowerName = new Map(Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value]))
    const matches = (request.Filters ?? []).every((filter) => {
      if (filter.Type !== 'TERM_MATCH')
        throw new AwsFault('InvalidParameterException', `Invalid filter type ${filter.Type}`)
      return byLowerName.get((filter.Field ?? '').toLowerCase()) === filter.Value
    })
    if (matches) entries.push(entry)
  }
  return { FormatVersion: request.FormatVersion ?? 'aws_v1', PriceList: entries.slice(0, request.MaxResults ?? 100) }
}

/** DescribeSpotPriceHistory: newest last (clients must pick by timestamp), filtered like EC2. */
export const describeSpotPriceHistory: Ec2Handler = (ctx) => {
  const types = listParam(ctx.params, 'InstanceType')
  const products = listParam(ctx.params, 'ProductDescription')
  const zone = ctx.params.AvailabilityZone
  const filters = filtersParam(ctx.params)
  if (filters.length > 0)
    throw new AwsFault(
      'InvalidParameterValue',
      'The sandbox answers DescribeSpotPriceHistory by its parameters, not filters'
    )
  if (zone && !zone.startsWith(ctx.region))
    throw new AwsFault('InvalidParameterValue', `Invalid availability zone: [${zone}]`)
  const now = Date.now()
  const rows: { zone: string; type: string; price: number; at: Date }[] = []
  if (products.length === 0 || products.includes('Linux/UNIX')) {
    for (const type of types.length > 0 ? types : Object.keys(SANDBOX_SPOT_PRICES[ctx.region] ?? {})) {
      for (const az of zone ? [zone] : ['a', 'b', 'c'].map((letter) => `${ctx.region}${letter}`)) {
        const price = sandboxSpotPrice(az, type)
        if (price === undefined) continue
        rows.push({ zone: az, type, price: Math.round(price * 1.5 * 1e6) / 1e6, at: new Date(now - 3 * 3600_000) })
        rows.push({ zone: az, type, price, at: new Date(now - 20 * 60_000) })
      }
    }
  }
  return (
    items(
      'spotPriceHistorySet',
      rows,
      (r) =>
        el('instanceType', r.type) +
        el('productDescription', 'Linux/UNIX') +
        el('spotPrice', r.price.toFixed(6)) +
        el('timestamp', r.at.toISOString()) +
        el('availabilityZone', r.zone)
    ) + el('nextToken', '')
  )
}

/** The X-Amz-Target prefix of the Price List Query API. */
export const PRICING_TARGET = 'AWSPriceListService.'

export interface PricingRequestContext {
  req: IncomingMessage
  res: ServerResponse
  body: string
  receivedAt: number
  calls: CallRecord[]
  faults: Faults
  /** The ARN a set of credentials acts as, for AccessDenied messages. */
  principal(accessKeyId: string | undefined): string
  scope?: { accessKeyId?: string; region?: string }
}

/** Answers one awsJson1_1 request of the Price List API: records it, applies faults, answers JSON. */
export function handlePricingRequest(ctx: PricingRequestContext): void {
  const target = String(ctx.req.headers['x-amz-target'] ?? '')
  const action = target.slice(PRICING_TARGET.length)
  let request: Record<string, unknown>
  try {
    request = JSON.parse(ctx.body || '{}') as Record<string, unknown>
  } catch {
    request = {}
  }
  const params = Object.fromEntries(
    Object.entries(request).map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)])
  )
  const record: CallRecord = {
    seq: ctx.calls.length + 1,
    service: 'pricing',
    action,
    region: ctx.scope?.region,
    accessKeyId: ctx.scope?.accessKeyId,
    params,
    status: 0,
    outcome: 'pending',
    delayMs: 0,
    receivedAt: ctx.receivedAt
  }
  ctx.calls.push(record)
  const unanswered = (outcome: 'dropped' | 'silenced') => {
    record.outcome = outcome
    if (outcome === 'dropped') ctx.req.socket.destroy()
  }
  const send = (status: number, json: unknown, errorCode?: string) => {
    record.status = status
    record.outcome = 'answered'
    record.answeredAt = performance.now()
    record.errorCode = errorCode
    ctx.res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...(errorCode ? { 'x-amzn-errortype': errorCode } : {})
    })
    ctx.res.end(JSON.stringify(json))
  }
  try {
    const fault = ctx.faults.take(
      { service: 'pricing', action, region: ctx.scope?.region },
      ctx.principal(ctx.scope?.accessKeyId)
    )
    if ((fault?.kind === 'drop' || fault?.kind === 'silence') && !fault.afterProcessing)
      return unanswered(fault.kind === 'drop' ? 'dropped' : 'silenced')
    if (fault?.kind === 'error') throw faultError(fault)
    if (action !== 'GetProducts')
      throw new AwsFault('UnknownOperationException', `The action ${action} is not valid for this web service.`)
    const answer = getProducts(request as GetProductsRequest)
    if (fault?.kind === 'drop' || fault?.kind === 'silence')
      return unanswered(fault.kind === 'drop' ? 'dropped' : 'silenced')
    send(200, answer)
  } catch (error) {
    if (!(error instanceof AwsFault)) throw error
    // The Price List API names throttling ThrottlingException; EC2's RequestLimitExceeded is the sandbox's generic throttle.
    const code = error.code === 'RequestLimitExceeded' ? 'ThrottlingException' : error.code
    send(error.status, { __type: code, message: error.message }, code)
  }
}
