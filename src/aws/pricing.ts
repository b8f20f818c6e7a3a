/**
 * The AWS side of estimate-cost: list prices from the Price List Query API (GetProducts) for
 * On-Demand builders, the current spot price (DescribeSpotPriceHistory) for spot builders.
 * Each price is asked once per run (per type and region, per zone for spot), a few at a time.
 * Nothing here fails the sweep: a denied, throttled (after the SDK's retries) or empty answer
 * makes that price unknown, and the run gets one warning for all of them.
 */
import * as core from '@actions/core'
import { DescribeSpotPriceHistoryCommand, type EC2Client } from '@aws-sdk/client-ec2'
import type { GetProductsCommandInput } from '@aws-sdk/client-pricing'
import type { AwsCredentialIdentity } from '@smithy/types'
import { describeAwsError, errorMessage } from './errors.js'
import { clientConfig } from './clients.js'
import {
  computeCost,
  describeKey,
  priceKeyId,
  priceKeysFor,
  type CostReport,
  type PriceKey,
  type PriceLookup,
  type StoragePrices,
  unknownPricesWarning
} from '../model/cost.js'
import { formatError, shortMessage } from '../model/format.js'
import { PERMISSION } from '../model/permissions.js'
import type { InstanceFinding } from '../model/types.js'

/** The Price List Query API answers in us-east-1 (also eu-central-1 and ap-south-1) for the aws partition. */
export const PRICING_REGION = 'us-east-1'
/** Price lookups in flight at once: a handful of keys, not a flood of one API. */
export const PRICE_LOOKUP_CONCURRENCY = 4

/** Regions outside the aws partition: the public price list in USD does not cover them. */
const OTHER_PARTITION = /^(cn|us-gov|us-iso[a-z]*|eusc)-/

export interface CostDeps {
  /** Undefined = the SDK's default chain. */
  credentials?: AwsCredentialIdentity
  /** The run's EC2 client of a region (main's cache; main destroys them). */
  ec2For(region: string): EC2Client
  /** Hours are counted to this moment (main passes the start of the run, like the ages). */
  now: Date
  abortSignal?: AbortSignal
}

/** The GetProducts request for an On-Demand Linux, shared-tenancy price of one type in one region. */
export function getProductsInput(instanceType: string, region: string): GetProductsCommandInput {
  const term = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value })
  return {
    ServiceCode: 'AmazonEC2',
    FormatVersion: 'aws_v1',
    Filters: [
      term('instanceType', instanceType),
      term('regionCode', region),
      term('operatingSystem', 'Linux'),
      term('tenancy', 'Shared'),
      term('preInstalledSw', 'NA'),
      term('capacitystatus', 'Used')
    ],
    MaxResults: 10
  }
}

interface PriceListProduct {
  product?: { productFamily?: string; attributes?: Record<string, string> }
  terms?: {
    OnDemand?: Record<
      string,
      { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string> }> }
    >
  }
}

/**
 * One PriceList entry: a JSON string on the wire, which the SDK hands over as a String object
 * (its LazyJsonString), not a primitive string.
 */
function parseEntry(entry: unknown): PriceListProduct | undefined {
  try {
    if (typeof entry === 'string' || entry instanceof String) return JSON.parse(String(entry)) as PriceListProduct
    if (entry && typeof entry === 'object') return entry as PriceListProduct
  } catch {
    return undefined
  }
  return undefined
}

/**
 * The hourly On-Demand USD price in a GetProducts PriceList: the `Hrs` dimension of the OnDemand
 * terms, from the BoxUsage product when there are several. Undefined when there is none (or
 * only zero prices, which are not a price for a running instance).
 */
export function hourlyPriceFromPriceList(priceList: unknown): number | undefined {
  const entries = (Array.isArray(priceList) ? priceList : []).map(parseEntry).filter((entry) => entry !== undefined)
  const boxUsage = entries.filter((entry) => /BoxUsage/.test(entry.product?.attributes?.usagetype ?? ''))
  for (const entry of boxUsage.length > 0 ? boxUsage : entries) {
    for (const term of Object.values(entry.terms?.OnDemand ?? {})) {
      for (const dimension of Object.values(term.priceDimensions ?? {})) {
        const price = Number(dimension.pricePerUnit?.USD)
        if (dimension.unit === 'Hrs' && Number.isFinite(price) && price > 0) return price
      }
    }
  }
  return undefined
}

/** The newest entry of a spot price history (the current price), or undefined. */
export function currentSpotPrice(history: readonly { SpotPrice?: string; Timestamp?: Date }[]): number | undefined {
  let newest: { price: number; time: number } | undefined
  for (const entry of history) {
    const price = Number(entry.SpotPrice)
    const time = entry.Timestamp?.getTime() ?? 0
    if (Number.isFinite(price) && price > 0 && (!newest || time > newest.time)) newest = { price, time }
  }
  return newest?.price
}

type PricingSend = (input: GetProductsCommandInput) => Promise<{ PriceList?: unknown }>

/** The Pricing client, created on first use only: a run without On-Demand builders never loads it. */
function lazyPricing(deps: CostDeps): { send: PricingSend; destroy(): void } {
  let client: Promise<{ send: PricingSend; destroy(): void }> | undefined
  let created: { destroy(): void } | undefined
  return {
    send: async (input) => {
      client ??= import('@aws-sdk/client-pricing').then(({ PricingClient, GetProductsCommand }) => {
        const pricing = new PricingClient(clientConfig({ region: PRICING_REGION, credentials: deps.credentials }))
        created = pricing
        return {
          send: (request) => pricing.send(new GetProductsCommand(request), { abortSignal: deps.abortSignal }),
          destroy: () => pricing.destroy()
        }
      })
      return (await client).send(input)
    },
    destroy: () => created?.destroy()
  }
}

function unknownBecause(error: unknown, permission: string): PriceLookup {
  return { unknown: formatError(describeAwsError(error, permission)) }
}

async function lookUp(key: PriceKey, deps: CostDeps, pricing: PricingSend): Promise<PriceLookup> {
  if (key.instanceType === 'unknown')
    return { unknown: `EC2 did not say the instance type of a builder in ${key.region}` }
  if (key.source === 'spot') {
    if (!key.availabilityZone)
      return { unknown: `no Availability Zone for a spot ${key.instanceType} in ${key.region}` }
    try {
      const answer = await deps.ec2For(key.region).send(
        new DescribeSpotPriceHistoryCommand({
          InstanceTypes: [key.instanceType as never],
          ProductDescriptions: ['Linux/UNIX'],
          AvailabilityZone: key.availabilityZone,
          StartTime: deps.now,
          MaxResults: 10
        }),
        { abortSignal: deps.abortSignal }
      )
      const price = currentSpotPrice(answer.SpotPriceHistory ?? [])
      return price === undefined ? { unknown: `no spot price for ${describeKey(key)}` } : { usdPerHour: price }
    } catch (error) {
      return unknownBecause(error, PERMISSION.describeSpotPriceHistory)
    }
  }
  if (OTHER_PARTITION.test(key.region))
    return { unknown: `no USD list price for ${key.region} (outside the aws partition)` }
  try {
    const answer = await pricing(getProductsInput(key.instanceType, key.region))
    const price = hourlyPriceFromPriceList(answer.PriceList)
    return price === undefined ? { unknown: `no list price for ${describeKey(key)}` } : { usdPerHour: price }
  } catch (error) {
    return unknownBecause(error, PERMISSION.getProducts)
  }
}

/** Runs `work` over `items`, at most `limit` at a time, results in the order of `items`. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** Every price the running builders need, asked once each, a few at a time. */
export async function lookUpPrices(keys: readonly PriceKey[], deps: CostDeps): Promise<Map<string, PriceLookup>> {
  const pricing = lazyPricing(deps)
  try {
    const lookups = await mapBounded(keys, PRICE_LOOKUP_CONCURRENCY, (key) => lookUp(key, deps, pricing.send))
    return new Map(keys.map((key, index) => [priceKeyId(key), lookups[index] as PriceLookup]))
  } finally {
    pricing.destroy()
  }
}

/** The Price List product families of EBS storage: volumes per provisioned GB-month, snapshots per stored GB-month. */
const STORAGE_FAMILIES = ['Storage', 'Storage Snapshot'] as const

/** The GetProducts requests for one region's EBS storage prices: one per family, a region's worth in a page. */
export function storagePriceInputs(region: string): GetProductsCommandInput[] {
  return STORAGE_FAMILIES.map((family) => ({
    ServiceCode: 'AmazonEC2',
    FormatVersion: 'aws_v1',
    Filters: [
      { Type: 'TERM_MATCH' as const, Field: 'productFamily', Value: family },
      { Type: 'TERM_MATCH' as const, Field: 'regionCode', Value: region }
    ],
    MaxResults: 100
  }))
}

/** The positive OnDemand USD price per GB-month of one entry, or undefined. */
function gbMonthPrice(entry: PriceListProduct): number | undefined {
  for (const term of Object.values(entry.terms?.OnDemand ?? {})) {
    for (const dimension of Object.values(term.priceDimensions ?? {})) {
      const price = Number(dimension.pricePerUnit?.USD)
      if (dimension.unit === 'GB-Mo' && Number.isFinite(price) && price > 0) return price
    }
  }
  return undefined
}

/** The standard-tier snapshot usage type, after the region prefix some regions carry (`EU-`, `USW2-`). */
const SNAPSHOT_USAGE = /(^|-)EBS:SnapshotUsage$/

/**
 * A region's storage prices from the two PriceLists: volume types by `volumeApiName`, the
 * snapshot price from the `EBS:SnapshotUsage` product (not the archive tier's).
 */
export function storagePricesFromPriceLists(region: string, storage: unknown, snapshots: unknown): StoragePrices {
  const entries = (list: unknown) =>
    (Array.isArray(list) ? list : []).map(parseEntry).filter((entry) => entry !== undefined)
  const volumeUsdPerGbMonth: Record<string, number> = {}
  for (const entry of entries(storage)) {
    const type = entry.product?.attributes?.volumeApiName
    const price = gbMonthPrice(entry)
    if (type && price !== undefined && !Object.hasOwn(volumeUsdPerGbMonth, type)) volumeUsdPerGbMonth[type] = price
  }
  const snapshot = entries(snapshots).find((entry) => SNAPSHOT_USAGE.test(entry.product?.attributes?.usagetype ?? ''))
  return { region, volumeUsdPerGbMonth, snapshotUsdPerGbMonth: snapshot && gbMonthPrice(snapshot) }
}

async function lookUpStorage(region: string, pricing: PricingSend): Promise<StoragePrices> {
  if (OTHER_PARTITION.test(region))
    return { region, volumeUsdPerGbMonth: {}, unknown: `no USD list price for ${region} (outside the aws partition)` }
  try {
    const [storage, snapshots] = await Promise.all(storagePriceInputs(region).map((input) => pricing(input)))
    return storagePricesFromPriceLists(region, storage?.PriceList, snapshots?.PriceList)
  } catch (error) {
    return { region, volumeUsdPerGbMonth: {}, unknown: formatError(describeAwsError(error, PERMISSION.getProducts)) }
  }
}

/**
 * The EBS storage prices of the regions that hold reported volumes or snapshots: two GetProducts
 * per region, side by side, a few regions at a time. Never rejects. Main starts it beside
 * lookUpPricesFor, so it adds no sequential round trip to the builders' prices.
 */
export async function lookUpStoragePrices(
  regions: readonly string[],
  deps: CostDeps
): Promise<Map<string, StoragePrices>> {
  const distinct = [...new Set(regions)]
  const pricing = lazyPricing(deps)
  try {
    const prices = await mapBounded(distinct, PRICE_LOOKUP_CONCURRENCY / 2, (region) =>
      lookUpStorage(region, pricing.send)
    )
    return new Map(prices.map((price) => [price.region, price]))
  } catch (error) {
    const unknown = `the prices could not be looked up: ${shortMessage(errorMessage(error))}`
    return new Map(distinct.map((region) => [region, { region, volumeUsdPerGbMonth: {}, unknown }]))
  } finally {
    pricing.destroy()
  }
}

/**
 * The cost report of a sweep: prices looked up for the stale running builders, then the pure
 * arithmetic of cost.ts. Never throws; prices that could not be had are "price unknown", with
 * one warning for the run.
 */
export async function estimateCost(findings: readonly InstanceFinding[], deps: CostDeps): Promise<CostReport> {
  return costFrom(findings, await lookUpPricesFor(findings, deps), deps.now)
}

/**
 * The prices the running builders among `builders` need, each asked once; never rejects. Main
 * starts it as soon as the builders are known, so the lookups overlap the stop/terminate calls.
 */
export async function lookUpPricesFor(
  builders: Parameters<typeof priceKeysFor>[0],
  deps: CostDeps
): Promise<Map<string, PriceLookup>> {
  const keys = priceKeysFor(builders)
  try {
    return await lookUpPrices(keys, deps)
  } catch (error) {
    // A bug or a failed import: every price unknown rather than a failed sweep.
    const reason = { unknown: `the prices could not be looked up: ${shortMessage(errorMessage(error))}` }
    return new Map(keys.map((key) => [priceKeyId(key), reason]))
  }
}

/** The figures for the findings at these prices, with one warning when any price is unknown. */
export function costFrom(
  findings: readonly InstanceFinding[],
  prices: ReadonlyMap<string, PriceLookup>,
  now: Date
): CostReport {
  const cost = computeCost(findings, prices, now)
  const warning = unknownPricesWarning(cost)
  if (warning) core.warning(warning)
  return cost
}
