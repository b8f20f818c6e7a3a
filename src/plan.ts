import type { InstanceRecord, Inputs, Outcome } from './types.js'

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

export function decideInstance(instance: InstanceRecord, inputs: Pick<Inputs, 'action' | 'dry-run' | 'exclude-tag'>): InstanceDecision {
  if (instance.excluded) return { call: false, outcome: 'skipped', reason: `carries the ${inputs['exclude-tag']} tag` }
  if (inputs.action === 'notify') return { call: false, outcome: 'notified' }
  if (inputs.action === 'stop' && (instance.state === 'stopped' || instance.state === 'stopping')) {
    // Stopping a stopped instance is a no-op, not a failure: nothing to call, nothing this run changed.
    return { call: false, outcome: 'notified', reason: `already ${instance.state}` }
  }
  return { call: true }
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
export function capProblems(planned: PlannedChanges, inputs: Pick<Inputs, 'action' | 'max-instances' | 'max-resources'>): string[] {
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
