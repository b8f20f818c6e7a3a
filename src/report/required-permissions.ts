/**
 * The permission oracle: the IAM actions a run with given settings calls, derived from the
 * declarations of the kinds it is handed (each kind's `permissions`, and what account-wide kinds
 * ask of instances elsewhere) and the run's extras (regions, SNS, prices). It takes the kinds as a
 * parameter and imports no registry: its callers hand it the registry's KIND_MODULES.
 *
 * Used by the deploy generator (scripts/generate/deploy.ts, through `npm run docs`: the IAM actions
 * of deploy/iam-policy.json, deploy/cloudformation.yml and deploy/terraform/main.tf) and by the
 * permission tests (__tests__/unit/report/required-permissions.test.ts; __tests__/repo/deploy.test.ts,
 * which renders every mode of the shipped policies against it; __tests__/e2e/permissions.test.ts,
 * which compares it with the calls a sweep of the sandbox makes).
 */
import { instancePassQueries, isAccountLeftoverKind, selectedKinds, type KindModule } from '../engine/kind.js'
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
 * The IAM actions a run with these settings calls (the role's, not the trust policy's), sorted;
 * `kindModules` are every kind (the registry's KIND_MODULES), `needs.resources` selects among them.
 * Dry-run needs the same ones: EC2 checks them with DryRun (IAM has no DryRun: a dry run makes no
 * IAM write call, so it proves none of the IAM removals).
 */
export function requiredPermissions(kindModules: readonly KindModule[], needs: PermissionNeeds): Permission[] {
  const granted = new Set<Permission>()
  const kinds = selectedKinds(kindModules, needs.resources)
  for (const { permissions } of kinds) {
    permissions.read.forEach((permission) => granted.add(permission))
    if (needs.action !== 'notify') permissions[needs.action].forEach((permission) => granted.add(permission))
  }
  // The swept regions' listings answer what account-wide kinds ask of instances; with `regions: all`
  // they cover every enabled region, otherwise the rest are asked.
  const listingsCoverAll = needs.allRegions && instancePassQueries(kinds).length > 0
  for (const kind of kinds.filter(isAccountLeftoverKind))
    if (kind.instanceUse && !listingsCoverAll) granted.add(kind.instanceUse.elsewhere)
  if (needs.allRegions) granted.add(PERMISSION.describeRegions)
  if (needs.notify) granted.add(PERMISSION.publish)
  if (needs.estimateCost)
    [PERMISSION.getProducts, PERMISSION.describeSpotPriceHistory].forEach((permission) => granted.add(permission))
  return [...granted].sort()
}
