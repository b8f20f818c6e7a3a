/**
 * The IAM actions a run with given settings calls, derived from the kinds' own declarations
 * (kinds/registry.ts) and the run's extras (regions, SNS, prices). The deploy policies are tested
 * against this.
 */
import { instancePassQueries, isAccountLeftoverKind, selectedKinds } from '../engine/kind.js'
import { KIND_MODULES } from '../kinds/registry.js'
import { PERMISSION, type Permission } from '../model/permissions.js'
import type { ResourceKind, SweepAction } from '../model/types.js'

export interface PermissionNeeds {
  action: SweepAction
  resources: readonly ResourceKind[]
  /**
   * True when `regions: all`, which needs DescribeRegions. (A listed region the bundled SDK does not
   * know is looked up with it once, before the sweep: an exception for regions newer than the
   * release, and typos, rather than a mode; a sweep of known regions never calls it.)
   */
  allRegions: boolean
  /** True when `sns-topic-arn` is set. */
  notify: boolean
  /** True when `estimate-cost` is on: list prices and spot prices. */
  estimateCost?: boolean
}

/**
 * The IAM actions a run with these settings calls (the role's, not the trust policy's), sorted.
 * Dry-run needs the same ones: EC2 checks them with DryRun (IAM has no DryRun: a dry run makes no
 * IAM write call, so it proves none of the IAM removals).
 */
export function requiredPermissions(needs: PermissionNeeds): Permission[] {
  const granted = new Set<Permission>()
  const kinds = selectedKinds(KIND_MODULES, needs.resources)
  for (const { permissions } of kinds) {
    permissions.read.forEach((permission) => granted.add(permission))
    if (needs.action !== 'notify') permissions[needs.action].forEach((permission) => granted.add(permission))
  }
  // The swept regions' listings answer what account-wide kinds ask of instances; with `regions: all`
  // they cover every enabled region, otherwise the rest are asked.
  const listingsCoverAll = needs.allRegions && instancePassQueries(kinds).length > 0
  for (const kind of kinds.filter(isAccountLeftoverKind)) if (kind.instanceUse && !listingsCoverAll) granted.add(kind.instanceUse.elsewhere)
  if (needs.allRegions) granted.add(PERMISSION.describeRegions)
  if (needs.notify) granted.add(PERMISSION.publish)
  if (needs.estimateCost) [PERMISSION.getProducts, PERMISSION.describeSpotPriceHistory].forEach((permission) => granted.add(permission))
  return [...granted].sort()
}
