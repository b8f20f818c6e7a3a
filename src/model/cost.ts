/**
 * What the stale builders cost (estimate-cost): pure arithmetic over the findings and the prices
 * pricing.ts looked up, and the words the summary and the notification show it with. Every
 * figure is an estimate at list price in USD: On-Demand Linux for On-Demand builders, the
 * current spot price for spot builders, compute only (no EBS, no data transfer, no discounts).
 */
import { byRegionThenId, countOf, oneLine } from './format.js'
import type { InstanceFinding, StorageCost } from './types.js'

export type { StorageCost } from './types.js'

/** AWS's month for monthly rates: 730 hours (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730

/** How a builder is billed for compute, and so where its price comes from. */
export type PriceSource = 'on-demand' | 'spot'

/** One price asked for in a run: per instance type and region, and per Availability Zone for spot. */
export interface PriceKey {
  region: string
  instanceType: string
  source: PriceSource
  /** Spot only: spot prices differ per zone. */
  availabilityZone?: string
}

/** One rate the estimate used, with the instances it priced. */
export interface RateUsed extends PriceKey {
  /** USD per hour; null = price unknown. */
  usdPerHour: number | null
  instances: number
}

/** The figures of one region, or of the whole run. USD amounts cover the priced instances only. */
export interface CostFigures {
  /** Stale builders that were running when the sweep found them (the ones billed for compute). */
  running: number
  /** Of those, how many have no price. */
  priceUnknown: number
  /** Stale builders found stopped or stopping: not billed for compute (their volumes still are). */
  stopped: number
  /** Hours the running builders had run, launch time to now, all of them. */
  instanceHours: number
  /** What those hours cost, priced builders only. */
  usdSoFar: number
  /** USD per hour of the running builders this run stopped or terminated. */
  usdPerHourStopped: number
  /** The same, per month of 730 hours. */
  usdPerMonthStopped: number
  /** USD per hour of the running builders still running after the run (reported, skipped, failed, dry run). */
  usdPerHourStillRunning: number
}

/** `report.cost`: present only with estimate-cost. */
export interface CostReport extends CostFigures {
  currency: 'USD'
  /** Always an estimate: list price, Linux, compute only. */
  basis: 'list-price-estimate'
  /** The moment the hours were counted to (ISO 8601). */
  asOf: string
  regions: (CostFigures & { region: string })[]
  rates: RateUsed[]
  /** Why some prices are unknown, one line per cause (the one warning of the run says the same). */
  unknown: string[]
}

/** What a price lookup found: a price, or why there is none. */
export type PriceLookup = { usdPerHour: number } | { unknown: string }

/** Outcomes after which a builder that was running is no longer billed for compute. */
const STOPPING_OUTCOMES = new Set(['stopped', 'terminated'])

type Priced = Pick<InstanceFinding, 'region' | 'state' | 'instanceType' | 'lifecycle' | 'availabilityZone'>

const isRunning = (finding: Priced) => finding.state === 'running'
const isStopped = (finding: InstanceFinding) => finding.state === 'stopped' || finding.state === 'stopping'

/** The price a builder needs: spot builders by zone (undefined zone: the lookup says unknown). */
export function priceKeyOf(
  finding: Pick<InstanceFinding, 'region' | 'instanceType' | 'lifecycle' | 'availabilityZone'>
): PriceKey {
  if (finding.lifecycle === 'spot')
    return {
      region: finding.region,
      instanceType: finding.instanceType,
      source: 'spot',
      availabilityZone: finding.availabilityZone
    }
  return { region: finding.region, instanceType: finding.instanceType, source: 'on-demand' }
}

/** The key as a string, for maps: `on-demand/us-east-1/t3.micro`, `spot/us-east-1/us-east-1a/t3.micro`. */
export function priceKeyId(key: PriceKey): string {
  return key.source === 'spot'
    ? `spot/${key.region}/${key.availabilityZone ?? '?'}/${key.instanceType}`
    : `on-demand/${key.region}/${key.instanceType}`
}

/** The distinct prices the running builders need: what pricing.ts asks for, once each. */
export function priceKeysFor(findings: readonly Priced[]): PriceKey[] {
  const keys = new Map<string, PriceKey>()
  for (const finding of findings.filter(isRunning)) {
    const key = priceKeyOf(finding)
    keys.set(priceKeyId(key), key)
  }
  return [...keys.values()]
}

/** Money and hours as stored in the report: no float noise (0.30000000000000004), six decimals. */
const exact = (value: number) => Math.round(value * 1e6) / 1e6

function emptyFigures(): CostFigures {
  return {
    running: 0,
    priceUnknown: 0,
    stopped: 0,
    instanceHours: 0,
    usdSoFar: 0,
    usdPerHourStopped: 0,
    usdPerMonthStopped: 0,
    usdPerHourStillRunning: 0
  }
}

function addFinding(figures: CostFigures, finding: InstanceFinding, price: number | undefined, now: Date): void {
  if (isStopped(finding)) {
    figures.stopped += 1
    return
  }
  if (!isRunning(finding)) return
  figures.running += 1
  const hours = Math.max(0, now.getTime() - Date.parse(finding.launchTime)) / 3_600_000
  figures.instanceHours += Number.isFinite(hours) ? hours : 0
  if (price === undefined) {
    figures.priceUnknown += 1
    return
  }
  figures.usdSoFar += Number.isFinite(hours) ? hours * price : 0
  if (STOPPING_OUTCOMES.has(finding.outcome)) figures.usdPerHourStopped += price
  else figures.usdPerHourStillRunning += price
}

function rounded(figures: CostFigures): CostFigures {
  return {
    running: figures.running,
    priceUnknown: figures.priceUnknown,
    stopped: figures.stopped,
    instanceHours: exact(figures.instanceHours),
    usdSoFar: exact(figures.usdSoFar),
    usdPerHourStopped: exact(figures.usdPerHourStopped),
    usdPerMonthStopped: exact(figures.usdPerHourStopped * HOURS_PER_MONTH),
    usdPerHourStillRunning: exact(figures.usdPerHourStillRunning)
  }
}

/**
 * The cost report for these findings with these prices (keyed by priceKeyId), counting hours to
 * `now`. Pure. Regions are in the order of the findings' regions, sorted.
 */
export function computeCost(
  findings: readonly InstanceFinding[],
  prices: ReadonlyMap<string, PriceLookup>,
  now: Date
): CostReport {
  const total = emptyFigures()
  const regions = new Map<string, CostFigures>()
  const rates = new Map<string, RateUsed>()
  const unknown = new Set<string>()
  for (const finding of [...findings].sort(byRegionThenId)) {
    if (!isRunning(finding) && !isStopped(finding)) continue
    const key = priceKeyOf(finding)
    const lookup = isRunning(finding) ? prices.get(priceKeyId(key)) : undefined
    const price = lookup && 'usdPerHour' in lookup ? lookup.usdPerHour : undefined
    if (isRunning(finding)) {
      const rate = rates.get(priceKeyId(key)) ?? { ...key, usdPerHour: price ?? null, instances: 0 }
      rate.instances += 1
      rates.set(priceKeyId(key), rate)
      if (price === undefined)
        unknown.add(lookup && 'unknown' in lookup ? lookup.unknown : `no price was looked up for ${describeKey(key)}`)
    }
    const region = regions.get(finding.region) ?? emptyFigures()
    regions.set(finding.region, region)
    addFinding(region, finding, price, now)
    addFinding(total, finding, price, now)
  }
  return {
    currency: 'USD',
    basis: 'list-price-estimate',
    asOf: now.toISOString(),
    ...rounded(total),
    regions: [...regions].map(([region, figures]) => ({ region, ...rounded(figures) })),
    rates: [...rates.values()],
    unknown: [...unknown]
  }
}

/** `t3.micro in us-east-1 (On-Demand)`, `t3.micro in us-east-1a (spot)`. */
export function describeKey(key: PriceKey): string {
  return key.source === 'spot'
    ? `${key.instanceType} in ${key.availabilityZone ?? `${key.region} (zone unknown)`} (spot)`
    : `${key.instanceType} in ${key.region} (On-Demand)`
}

// ---- EBS storage ----

/** One region's EBS storage list prices (Price List `AmazonEC2`, families Storage and Storage Snapshot). */
export interface StoragePrices {
  region: string
  /** USD per provisioned GB-month, by volume type as EC2 names it (`volumeApiName`: gp3, io2 …). */
  volumeUsdPerGbMonth: Readonly<Record<string, number>>
  /** USD per GB-month of a standard-tier snapshot; undefined = no price. */
  snapshotUsdPerGbMonth?: number
  /** Why the region has no prices (the lookup was refused or failed); absent when it was answered. */
  unknown?: string
}

const NOT_LOOKED_UP = 'no EBS prices were looked up'

/**
 * What a volume costs to keep per month: its provisioned size at its type's GB-month price. IOPS
 * and throughput provisioned above a type's baseline are billed apart and not included.
 */
export function volumeMonthlyCost(sizeGiB: number, volumeType: string, prices: StoragePrices | undefined): StorageCost {
  if (prices === undefined) return { unknown: NOT_LOOKED_UP }
  if (prices.unknown !== undefined) return { unknown: prices.unknown }
  // Own keys only: a type named like an Object member (constructor) is not a price.
  const price = Object.hasOwn(prices.volumeUsdPerGbMonth, volumeType)
    ? prices.volumeUsdPerGbMonth[volumeType]
    : undefined
  if (price === undefined) return { unknown: `no list price for ${volumeType} volumes in ${prices.region}` }
  return { usdPerMonth: exact(sizeGiB * price) }
}

/**
 * At most what a snapshot costs per month: snapshots bill the (incremental) data they store, which
 * the API does not give, and never more than their volume's size, so the size at the standard
 * tier's price is an upper bound.
 */
export function snapshotMonthlyCost(sizeGiB: number, prices: StoragePrices | undefined): StorageCost {
  if (prices === undefined) return { unknown: NOT_LOOKED_UP }
  if (prices.unknown !== undefined) return { unknown: prices.unknown }
  if (prices.snapshotUsdPerGbMonth === undefined) return { unknown: `no list price for snapshots in ${prices.region}` }
  return { usdPerMonth: exact(sizeGiB * prices.snapshotUsdPerGbMonth) }
}

/** Why no figure can be had at these prices at all; undefined when they are there. */
function pricesMissing(prices: StoragePrices | undefined): StorageCost | undefined {
  if (prices === undefined) return { unknown: NOT_LOOKED_UP }
  if (prices.unknown !== undefined) return { unknown: prices.unknown }
  return undefined
}

/**
 * At most what an image's snapshots cost per month: each snapshot's upper bound (snapshotMonthlyCost),
 * summed. Unknown while a size is (a snapshot of unknown size has no bound); an image without
 * snapshots costs nothing.
 */
export function imageMonthlyCost(
  snapshots: readonly { id: string; sizeGiB?: number }[],
  prices: StoragePrices | undefined
): StorageCost {
  if (snapshots.length === 0) return { usdPerMonth: 0 }
  const missing = pricesMissing(prices)
  if (missing) return missing
  let usdPerMonth = 0
  for (const snapshot of snapshots) {
    if (snapshot.sizeGiB === undefined) return { unknown: `the size of ${snapshot.id} is unknown` }
    const cost = snapshotMonthlyCost(snapshot.sizeGiB, prices)
    if ('unknown' in cost) return cost
    usdPerMonth += cost.usdPerMonth
  }
  return { usdPerMonth: exact(usdPerMonth) }
}

/** What a builder's volume costs to keep per month (volumeMonthlyCost); unknown when its size or type was not read. */
export function builderVolumeMonthlyCost(
  volume: { sizeGiB?: number; volumeType?: string },
  prices: StoragePrices | undefined
): StorageCost {
  const missing = pricesMissing(prices)
  if (missing) return missing
  if (volume.sizeGiB === undefined || volume.volumeType === undefined)
    return { unknown: 'its size and type were not read' }
  return volumeMonthlyCost(volume.sizeGiB, volume.volumeType, prices)
}

/** A kind's storage, as the cost text says it: what is kept, and whether its figures are upper bounds. */
export interface StorageWords {
  /** What its resources keep billed: `the images' snapshots`. */
  what: string
  singular: string
  plural: string
  /** True when a figure is at most the cost (snapshots bill the data they store, which the API does not give). */
  upperBound: boolean
}

/** The priced resources of one side of the run: how many, and what they cost per month together. */
export interface StorageSum {
  count: number
  usdPerMonth: number
}

/** One kind's EBS storage figures over the run's findings (estimate-cost). */
export interface StorageTotal extends StorageWords {
  /** Priced and still there after the run (every outcome but deleted: reported, skipped, dry run, failed). */
  kept: StorageSum
  /** Priced and deleted by this run. */
  removed: StorageSum
  /** Resources without a price. */
  unknown: number
  /** Why, one line per cause. */
  reasons: string[]
}

/** The figures of one kind's findings, each with its outcome and its monthly cost. Pure. */
export function storageTotal(
  words: StorageWords,
  findings: readonly { outcome: string; monthlyCost: StorageCost }[]
): StorageTotal {
  const kept = { count: 0, usdPerMonth: 0 }
  const removed = { count: 0, usdPerMonth: 0 }
  const reasons = new Set<string>()
  let unknown = 0
  for (const { outcome, monthlyCost } of findings) {
    if ('unknown' in monthlyCost) {
      unknown += 1
      reasons.add(monthlyCost.unknown)
      continue
    }
    const side = outcome === 'deleted' ? removed : kept
    side.count += 1
    side.usdPerMonth += monthlyCost.usdPerMonth
  }
  return {
    ...words,
    kept: { count: kept.count, usdPerMonth: exact(kept.usdPerMonth) },
    removed: { count: removed.count, usdPerMonth: exact(removed.usdPerMonth) },
    unknown,
    reasons: [...reasons]
  }
}

// ---- words ----

/** `$1.23`; amounts under a dollar keep four decimals so an hourly rate of a small builder is not `$0.01`. */
export function formatUsd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 1) return `$${amount.toFixed(4)}`
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}

/** `12.5`: hours to one decimal. */
export function formatHours(hours: number): string {
  return hours.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })
}

export const COST_BASIS_NOTE =
  'Estimates in USD at list price: On-Demand Linux, spot builders at the current spot price; the builders’ figures are compute only (no EBS volumes, no discounts or savings plans).'

/** How costLines writes its own words (`text`) and what AWS said about an unknown price (`data`): as they are by default. */
interface CostLineRender {
  text: (words: string) => string
  data: (value: string) => string
}
const AS_IS: CostLineRender = { text: (words) => words, data: (value) => value }

/** One line per figure: the notification's lines (plain text) and the summary's list items (rendered by `render`). */
export function costLines(
  cost: CostFigures,
  unknown: readonly string[] = [],
  render: CostLineRender = AS_IS
): string[] {
  const { text, data } = render
  const lines: string[] = []
  if (cost.running > 0) {
    const priced = cost.running - cost.priceUnknown
    const soFar = priced > 0 ? `: about ${formatUsd(cost.usdSoFar)} so far` : ''
    const ofPriced = cost.priceUnknown > 0 && priced > 0 ? ` (${priced} priced)` : ''
    lines.push(
      `${countOf(cost.running, 'running builder')} had run ${formatHours(cost.instanceHours)} instance-hours${soFar}${ofPriced}`
    )
  }
  // The run stopped or terminated them (one action a run): words that are true of both.
  if (cost.usdPerHourStopped > 0)
    lines.push(
      `No longer running after this run: ${formatUsd(cost.usdPerHourStopped)} per hour (about ${formatUsd(cost.usdPerMonthStopped)} a month)`
    )
  if (cost.usdPerHourStillRunning > 0)
    lines.push(
      `Still running: ${formatUsd(cost.usdPerHourStillRunning)} per hour (about ${formatUsd(cost.usdPerHourStillRunning * HOURS_PER_MONTH)} a month)`
    )
  if (cost.stopped > 0) lines.push(`${countOf(cost.stopped, 'builder')} found stopped: not billed for compute`)
  if (lines.length === 0 && cost.priceUnknown === 0) lines.push('No running or stopped builders to price')
  const rendered = lines.map((line) => text(line))
  if (cost.priceUnknown > 0)
    rendered.push(
      `${text(`Price unknown for ${countOf(cost.priceUnknown, 'builder')}`)}${unknown.length > 0 ? `: ${unknown.map((reason) => data(reason)).join('; ')}` : ''}`
    )
  return rendered
}

export const STORAGE_BASIS_NOTE =
  'EBS storage at list price per GB-month: a snapshot at its source volume’s size at the standard tier, an upper bound (snapshots bill the data they store, which the API does not give); a volume at its provisioned size, without IOPS or throughput above its type’s baseline.'

/** `the images' snapshots up to $0.80 a month (2 images)`. */
function storagePart(total: StorageTotal, sum: StorageSum): string {
  return `${total.what} ${total.upperBound ? 'up to ' : ''}${formatUsd(sum.usdPerMonth)} a month (${countOf(sum.count, total.singular, total.plural)})`
}

/**
 * The EBS storage lines: what stays billed after the run, what the run removed, and what has no
 * price and why; none without figures. Rendered like costLines.
 */
export function storageCostLines(totals: readonly StorageTotal[], render: CostLineRender = AS_IS): string[] {
  const { text, data } = render
  const lines: string[] = []
  const kept = totals.filter((total) => total.kept.count > 0)
  if (kept.length > 0)
    lines.push(
      text(`EBS storage still billed after this run: ${kept.map((total) => storagePart(total, total.kept)).join('; ')}`)
    )
  const removed = totals.filter((total) => total.removed.count > 0)
  if (removed.length > 0)
    lines.push(
      text(`EBS storage this run removed: ${removed.map((total) => storagePart(total, total.removed)).join('; ')}`)
    )
  const unknown = totals.filter((total) => total.unknown > 0)
  if (unknown.length > 0) {
    const counts = unknown.map((total) => countOf(total.unknown, total.singular, total.plural)).join(', ')
    const reasons = [...new Set(unknown.flatMap((total) => total.reasons))]
    lines.push(`${text(`Storage price unknown for ${counts}`)}: ${reasons.map((reason) => data(reason)).join('; ')}`)
  }
  return lines
}

/** True when some kind's findings were priced (or could not be): the storage lines and their note are due. */
const hasStorage = (totals: readonly StorageTotal[]) =>
  totals.some((total) => total.kept.count + total.removed.count + total.unknown > 0)

/**
 * The run's one warning about prices it could not have (the builders' and the storage's), after
 * `Cost estimate: `; undefined when every price was had.
 */
export function unknownPricesWarning(cost: CostReport, storage: readonly StorageTotal[] = []): string | undefined {
  const unknown = storage.filter((total) => total.unknown > 0)
  const parts = [
    ...(cost.priceUnknown > 0
      ? [
          `price unknown for ${countOf(cost.priceUnknown, 'running builder')}, left out of the figures: ${cost.unknown.join('; ')}`
        ]
      : []),
    ...(unknown.length > 0
      ? [
          `EBS storage price unknown for ${unknown.map((total) => countOf(total.unknown, total.singular, total.plural)).join(', ')}, left out of the figures: ${[...new Set(unknown.flatMap((total) => total.reasons))].join('; ')}`
        ]
      : [])
  ]
  return parts.length > 0 ? `Cost estimate: ${parts.join('. ')}` : undefined
}

/** The notification's words: what AWS said about a price stays on its own line, whatever it holds. */
const PLAIN_TEXT: CostLineRender = { text: (words) => words, data: (value) => oneLine(value) }

/** The notification's paragraph, or none without a cost report: one line in notificationText spreads it. */
export function costParagraphs(cost: CostReport | undefined, storage: readonly StorageTotal[] = []): string[] {
  if (!cost) return []
  return [
    [
      'What the leftovers cost (estimate):',
      ...costLines(cost, cost.unknown, PLAIN_TEXT).map((line) => `* ${line}`),
      ...storageCostLines(storage, PLAIN_TEXT).map((line) => `* ${line}`),
      COST_BASIS_NOTE,
      ...(hasStorage(storage) ? [STORAGE_BASIS_NOTE] : [])
    ].join('\n')
  ]
}

const COST_HEADERS = [
  'Region',
  'Running',
  'Instance-hours',
  'Cost so far',
  'No longer running',
  'Still running',
  'Found stopped',
  'Price unknown'
]

/**
 * The job summary's "What the leftovers cost" section as one line of HTML, or '' without a cost
 * report. `escape` is the summary's own escaping and `literal` its rendering of data from AWS
 * (region names, why a price is unknown), passed in so this module does not import the summary;
 * every value goes through one of them.
 */
export function costSummaryHtml(
  cost: CostReport | undefined,
  escape: (text: string) => string,
  literal: (value: string) => string,
  storage: readonly StorageTotal[] = []
): string {
  if (!cost) return ''
  const perHour = (amount: number) => (amount > 0 ? `${formatUsd(amount)}/h` : '—')
  const row = (region: string, figures: CostFigures) => [
    region,
    ...[
      String(figures.running),
      formatHours(figures.instanceHours),
      figures.running > figures.priceUnknown ? formatUsd(figures.usdSoFar) : '—',
      perHour(figures.usdPerHourStopped),
      perHour(figures.usdPerHourStillRunning),
      String(figures.stopped),
      String(figures.priceUnknown)
    ].map((cell) => escape(cell))
  ]
  const rows = [
    ...cost.regions.map((region) => row(literal(region.region), region)),
    ...(cost.regions.length > 1 ? [row(escape('All regions'), cost)] : [])
  ]
  const cells = (cellsOfRow: string[], tag: 'th' | 'td') =>
    `<tr>${cellsOfRow.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`
  const table =
    rows.length > 0
      ? `<table>${cells(
          COST_HEADERS.map((header) => escape(header)),
          'th'
        )}${rows.map((r) => cells(r, 'td')).join('')}</table>`
      : ''
  const render = { text: escape, data: literal }
  const items = [...costLines(cost, cost.unknown, render), ...storageCostLines(storage, render)].map(
    (line) => `<li>${line}</li>`
  )
  const notes = [COST_BASIS_NOTE, ...(hasStorage(storage) ? [STORAGE_BASIS_NOTE] : [])]
  return `<h3>What the leftovers cost</h3><ul>${items.join('')}</ul>${table}${notes.map((note) => `<p><i>${escape(note)}</i></p>`).join('')}`
}
