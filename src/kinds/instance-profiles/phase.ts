/**
 * The global phase of a run for IAM leftovers, beside the regional ones: read while the regions
 * are surveyed, judged once the run knows which builders it terminates, carried out after the
 * regions acted. Its failures are run errors (IAM has no region to fail).
 */
import { formatAwsError } from '../../model/format.js'
import { clientConfig } from '../../aws/clients.js'
import { resolveRegions } from '../../aws/regions.js'
import { regionDeadline } from '../../engine/run-control.js'
import type { IamFinding } from './rules.js'
import type { AccountScope } from '../../engine/kind.js'
import {
  checkInstanceProfileUsers,
  discoverInstanceProfiles,
  judgeInstanceProfiles,
  plannedInstanceProfileChanges,
  sweepInstanceProfiles,
  type InstanceProfileContext,
  type InstanceProfilePlan
} from './sweep.js'

/** What the phase needs of the run: an account-wide kind's scope. */
export type InstanceProfilePhaseDeps = AccountScope

export interface InstanceProfilePhase {
  /** The plan, read-only; `terminating` is every builder ID this run will terminate, in any region. */
  plan(terminating: Promise<ReadonlySet<string>>): Promise<InstanceProfilePlan>
  changes(plan: InstanceProfilePlan): number
  /** Carries the plan out (terminate) or reports it (notify, stop). */
  settle(plan: InstanceProfilePlan, terminated: ReadonlySet<string>): Promise<IamFinding[]>
  errors: string[]
  dispose(): void
}

export async function startInstanceProfilePhase(deps: InstanceProfilePhaseDeps): Promise<InstanceProfilePhase> {
  const { inputs, control } = deps
  const timeoutMs = inputs['region-timeout'] * 1000
  // Loaded only when the kind is swept: other runs never pay for the IAM client.
  const { IAMClient } = await import('@aws-sdk/client-iam')
  const iam = new IAMClient(clientConfig({ region: deps.home, credentials: deps.credentials }))
  const errors: string[] = []
  const context = (abortSignal: AbortSignal, enabledRegions: readonly string[]): InstanceProfileContext => ({
    iam,
    enabledRegions,
    ec2For: deps.ec2For,
    instancesIn: deps.instancesIn,
    inputs,
    now: deps.now,
    abortSignal,
    cancelled: control.cancelled,
    readBackSignal: deps.readBackSignal,
    onSettled: (finding) => deps.onSettled([finding])
  })
  let enabledRegions: readonly string[] = deps.regions
  return {
    errors,
    async plan(terminating) {
      const deadline = regionDeadline(timeoutMs, control)
      // Also aborted when the plan is known to touch nothing: no read is left running behind it.
      const nothing = new AbortController()
      const abortSignal = AbortSignal.any([deadline, nothing.signal])
      // Discovery needs neither the region list nor the builders this run terminates: it starts at once.
      const discovering = discoverInstanceProfiles(context(abortSignal, enabledRegions))
      try {
        if (inputs.regions !== 'all') enabledRegions = await resolveRegions({ regions: 'all' }, deps.ec2For(deps.home), abortSignal)
      } catch (error) {
        nothing.abort()
        errors.push(
          `IAM instance profiles: which regions to check for instances using them is unknown, so none was touched: ${error instanceof Error ? error.message : String(error)}`
        )
        return { planned: [], errors: [] }
      }
      const reading = await checkInstanceProfileUsers(context(abortSignal, enabledRegions), await discovering)
      if (deadline.aborted) {
        errors.push(`IAM instance profiles were not read within region-timeout: nothing of them was acted on`)
        return { planned: [], errors: [] }
      }
      // Only the judgement needs the builders this run terminates.
      const plan = judgeInstanceProfiles(reading, await terminating, inputs)
      errors.push(...plan.errors.map((error) => `IAM instance profiles: ${formatAwsError(error)}`))
      return plan
    },
    changes: (plan) => plannedInstanceProfileChanges(plan, inputs),
    async settle(plan, terminated) {
      const deadlineAt = Date.now() + timeoutMs
      return sweepInstanceProfiles({ ...context(regionDeadline(timeoutMs, control), enabledRegions), deadlineAt }, plan, terminated)
    },
    dispose: () => iam.destroy()
  }
}
