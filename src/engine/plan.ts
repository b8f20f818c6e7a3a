import { ageSeconds } from '../model/aws-data.js'
import { formatAge } from '../model/format.js'
import type { InstanceRecord, Inputs, Outcome } from '../model/types.js'
import { isConcreteTag } from '../model/wildcard.js'

/**
 * max-age's default: Packer builds commonly take this long, the AMI wait included. A max-age
 * below it, unscoped by tags, may take a live build for stale: the inputs warn (inputs.ts), and
 * so does the plan, naming the youngest builder it would act on.
 */
export const TYPICAL_BUILD_SECONDS = 2 * 3600

/** Older than max-age; max-age 0 takes every matching resource, for post-build cleanup of one run. */
export function isStale(age: number, maxAgeSeconds: number): boolean {
  return maxAgeSeconds === 0 || age > maxAgeSeconds
}

/** What the sweep does with one stale instance before any call is made. */
export type InstanceDecision =
  /** Call StopInstances/TerminateInstances (with DryRun in dry-run); the answer gives the outcome. */
  | { call: true }
  /** No call: the outcome is known already. */
  | { call: false; outcome: Outcome; reason?: string }

export function decideInstance(instance: InstanceRecord, inputs: Pick<Inputs, 'action' | 'dry-run'>): InstanceDecision {
  if (instance.excludedBy !== undefined)
    return { call: false, outcome: 'skipped', reason: `carries the ${instance.excludedBy} tag` }
  if (inputs.action === 'notify') return { call: false, outcome: 'notified' }
  if (inputs.action === 'stop' && (instance.state === 'stopped' || instance.state === 'stopping')) {
    // Stopping a stopped instance is a no-op, not a failure: nothing to call, nothing this run changed.
    return { call: false, outcome: 'notified', reason: `already ${instance.state}` }
  }
  return { call: true }
}

/**
 * With a max-age under the default and no tags scoping the sweep to one job, the builder this
 * region's plan would stop or terminate that is youngest: named, so that a live build cut short
 * is found from the log. Undefined when there is nothing to say.
 */
export function youngBuilderWarning(
  toChange: readonly InstanceRecord[],
  inputs: Pick<Inputs, 'max-age' | 'tags' | 'action'>,
  now: Date
): string | undefined {
  const maxAge = inputs['max-age']
  if (maxAge >= TYPICAL_BUILD_SECONDS || inputs.tags.some(isConcreteTag) || toChange.length === 0) return undefined
  const youngest = toChange.reduce((younger, record) =>
    Date.parse(record.launchTime) > Date.parse(younger.launchTime) ? record : younger
  )
  const verb = inputs.action === 'stop' ? 'stop' : 'terminate'
  return (
    `max-age ${formatAge(maxAge)} is under the ${formatAge(TYPICAL_BUILD_SECONDS)} default: ${youngest.id} in ${youngest.region}, ` +
    `the youngest builder to ${verb}, is ${formatAge(ageSeconds(youngest.launchTime, now))} old. ` +
    'If that is a live build, it is cut short: max-age must exceed your longest build, the AMI wait included.'
  )
}

export interface PlannedChanges {
  instances: number
  /** Instances plus every key pair, security group and launch template the run would delete. */
  total: number
}

/**
 * The blast-radius caps. Checked on the whole plan, across regions, before the first mutating
 * call (dry-run included, so a dry run predicts the real one): over a cap, nothing is changed.
 */
export function capProblems(
  planned: PlannedChanges,
  inputs: Pick<Inputs, 'action' | 'max-instances' | 'max-resources'>
): string[] {
  const verb = inputs.action === 'stop' ? 'stopped' : 'terminated'
  const problems: string[] = []
  const instanceCap = inputs['max-instances']
  if (instanceCap > 0 && planned.instances > instanceCap) {
    problems.push(
      `max-instances: ${planned.instances} instances would be ${verb}, more than the cap of ${instanceCap}; nothing was changed. ` +
        'Check the report, then raise max-instances (0 = no cap) or narrow regions, tags or key-name.'
    )
  }
  const resourceCap = inputs['max-resources']
  if (resourceCap > 0 && planned.total > resourceCap) {
    problems.push(
      `max-resources: ${planned.total} resources would be ${verb} or deleted, more than the cap of ${resourceCap}; nothing was changed. ` +
        'Check the report, then raise max-resources (0 = no cap) or narrow resources, regions, tags or key-name.'
    )
  }
  return problems
}
