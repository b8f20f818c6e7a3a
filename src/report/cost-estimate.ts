/**
 * estimate-cost, from the sweep's first look to the report: every price is looked up while the
 * run acts (the builders' compute prices, and the EBS storage prices of each region that holds a
 * priced kind's resources, once each), then the report gets its cost and each image's or volume's
 * finding its monthly cost. Never fails the run: a price that cannot be had is unknown, with its
 * reason and one warning. The kinds are a parameter (main.ts hands it the registry's), so this
 * knows no kind by name: a kind is priced through its declaration's `storageCost`.
 */
import * as core from '@actions/core'
import { lookUpPricesFor, lookUpStoragePrices, type CostDeps } from '../aws/pricing.js'
import type { FindingsByKind, KindModule } from '../engine/kind.js'
import {
  computeCost,
  storageTotal,
  unknownPricesWarning,
  type PriceLookup,
  type StoragePrices,
  type StorageTotal
} from '../model/cost.js'
import type { InstanceRecord, StorageCost } from '../model/types.js'
import { builderFindings, findingsOf, updateFindings } from './lists.js'
import type { Report } from './types.js'

export interface CostEstimate {
  /**
   * The sweep's `surveyed` event: starts every lookup at once, the storage prices for the regions
   * of the leftovers the plans hold (none when no priced kind holds any).
   */
  start(stale: readonly InstanceRecord[], leftovers: () => FindingsByKind): void
  /** Sets `report.cost` and every priced finding's monthly cost; nothing when the lookups never started. */
  addTo(report: Report): Promise<void>
}

/** The lookups one run started. */
interface Lookups {
  builders: Promise<ReadonlyMap<string, PriceLookup>>
  storage: Promise<ReadonlyMap<string, StoragePrices>>
  now: Date
}

/**
 * The run's cost estimate. `deps` is asked once, when the lookups start, so their deadline runs
 * from then.
 */
export function costEstimate(kinds: readonly KindModule[], deps: () => CostDeps): CostEstimate {
  let lookups: Lookups | undefined
  return {
    start(stale, leftovers) {
      const lookupDeps = deps()
      const regions = storageRegions(kinds, leftovers())
      lookups = {
        builders: lookUpPricesFor(stale, lookupDeps),
        storage: regions.length > 0 ? lookUpStoragePrices(regions, lookupDeps) : Promise.resolve(new Map()),
        now: lookupDeps.now
      }
    },
    async addTo(report) {
      if (!lookups) return
      const cost = computeCost(builderFindings(report), await lookups.builders, lookups.now)
      report.cost = cost
      const prices = await lookups.storage
      for (const kind of kinds) {
        const storage = kind.storageCost
        if (storage) updateFindings(report, kind.name, (finding) => storage.priced(finding, prices.get(finding.region)))
      }
      // One warning for every price the run could not have, builders' and storage's alike.
      const warning = unknownPricesWarning(cost, storageTotals(kinds, report))
      if (warning) core.warning(warning)
    }
  }
}

/** The regions whose storage prices the leftovers need: where the priced kinds' resources are. */
export function storageRegions(kinds: readonly KindModule[], leftovers: FindingsByKind): string[] {
  const regions = kinds.flatMap((kind) =>
    kind.storageCost ? (leftovers.get(kind.name) ?? []).map((finding) => finding.region) : []
  )
  return [...new Set(regions)].sort()
}

/** Each priced kind's storage figures over the report's findings, in the kinds' order; none before pricing. Pure. */
export function storageTotals(kinds: readonly KindModule[], report: Report): StorageTotal[] {
  return kinds.flatMap((kind) => {
    const storage = kind.storageCost
    if (!storage) return []
    const priced = findingsOf(report, kind.name).flatMap((finding) => {
      const monthlyCost: StorageCost | undefined = storage.monthlyCost(finding)
      return monthlyCost ? [{ outcome: finding.outcome, monthlyCost }] : []
    })
    if (priced.length === 0) return []
    const { what, upperBound } = storage
    const { singular, plural } = kind.nouns
    return [storageTotal({ what, upperBound, singular, plural }, priced)]
  })
}
