import { StopInstancesCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { describeAwsError, errorCode, errorMessage } from './aws-errors.js'
import { chunk } from './batches.js'
import { PERMISSION } from './permissions.js'
import { ageSeconds, decideInstance } from './plan.js'
import type { AwsErrorInfo, InstanceFinding, InstanceRecord, Inputs, Outcome } from './types.js'

/** At most this many IDs per Stop/TerminateInstances call: AWS advises small batches. */
export const ACTION_BATCH_SIZE = 100

/**
 * Refusals that name the instance at fault. The call failed for the whole batch, but only the
 * named instances are the problem: the rest are sent again without them.
 */
const REFUSALS_NAMING_INSTANCES = new Set([
  'OperationNotPermitted', // termination or stop protection
  'UnsupportedOperation', // spot or instance-store instances cannot be stopped
  'IncorrectInstanceState',
  'InvalidInstanceID.NotFound',
  'InvalidInstanceID.Malformed'
])

/** The instances of `batch` that an EC2 error message names, e.g. "The instance 'i-0abc…' may not be terminated". */
export function refusedInstanceIds(error: unknown, batch: readonly string[]): string[] {
  if (!REFUSALS_NAMING_INSTANCES.has(errorCode(error))) return []
  const named = new Set(errorMessage(error).match(/\bi-[0-9a-f]{8,17}\b/g) ?? [])
  return batch.filter((id) => named.has(id))
}

interface ActionResult {
  outcome: Outcome
  error?: AwsErrorInfo
}

type MutatingAction = 'stop' | 'terminate'

const ACTION_CALLS: Record<MutatingAction, { outcome: Outcome; permission: string; send: (client: EC2Client, ids: string[], dryRun: boolean) => Promise<unknown> }> = {
  stop: {
    outcome: 'stopped',
    permission: PERMISSION.stopInstances,
    send: (client, InstanceIds, DryRun) => client.send(new StopInstancesCommand({ InstanceIds, DryRun }))
  },
  terminate: {
    outcome: 'terminated',
    permission: PERMISSION.terminateInstances,
    // Never DisableApiTermination: a protected instance is reported as failed, not unprotected.
    send: (client, InstanceIds, DryRun) => client.send(new TerminateInstancesCommand({ InstanceIds, DryRun }))
  }
}

/**
 * One batch, and the rest of it again after each refusal that names its instances: at most one
 * extra call per refused instance, never one call per instance. Throttling and dropped
 * connections are retried underneath by the SDK's retry strategy.
 */
export async function actOnBatch(client: EC2Client, action: MutatingAction, dryRun: boolean, batch: readonly string[]): Promise<Map<string, ActionResult>> {
  const call = ACTION_CALLS[action]
  const results = new Map<string, ActionResult>()
  let pending = [...batch]
  while (pending.length > 0) {
    try {
      await call.send(client, pending, dryRun)
      for (const id of pending) results.set(id, { outcome: dryRun ? 'dry-run' : call.outcome })
      return results
    } catch (error) {
      if (dryRun && errorCode(error) === 'DryRunOperation') {
        for (const id of pending) results.set(id, { outcome: 'dry-run' })
        return results
      }
      const failure = { outcome: 'failed' as const, error: describeAwsError(error, call.permission) }
      const refused = refusedInstanceIds(error, pending)
      const failedNow = refused.length > 0 ? refused : pending
      for (const id of failedNow) results.set(id, failure)
      pending = refused.length > 0 ? pending.filter((id) => !refused.includes(id)) : []
    }
  }
  return results
}

export function toFinding(record: InstanceRecord, now: Date, result: ActionResult & { reason?: string }): InstanceFinding {
  const finding: InstanceFinding = {
    id: record.id,
    region: record.region,
    launchTime: record.launchTime,
    ageSeconds: ageSeconds(record.launchTime, now),
    state: record.state,
    outcome: result.outcome,
    instanceType: record.instanceType
  }
  if (record.keyName) finding.keyName = record.keyName
  if (record.lifecycle) finding.lifecycle = record.lifecycle
  if (record.availabilityZone) finding.availabilityZone = record.availabilityZone
  if (record.name) finding.name = record.name
  if (result.reason) finding.reason = result.reason
  if (result.error) finding.error = result.error
  return finding
}

/** The instances `actOnInstances` would call Stop/TerminateInstances for: what the caps count. */
export function instancesToChange(stale: readonly InstanceRecord[], inputs: Inputs): InstanceRecord[] {
  return stale.filter((record) => decideInstance(record, inputs).call)
}

/**
 * Acts on the stale instances of one region as the inputs say and returns each one's outcome.
 * Batches run one after another so that a region never floods its own API rate limit; regions
 * run side by side.
 */
export async function actOnInstances(client: EC2Client, stale: readonly InstanceRecord[], inputs: Inputs, now: Date): Promise<InstanceFinding[]> {
  const results = new Map<string, ActionResult & { reason?: string }>()
  const toCall: string[] = []
  for (const record of stale) {
    const decision = decideInstance(record, inputs)
    if (decision.call) toCall.push(record.id)
    else results.set(record.id, decision)
  }
  const action = inputs.action
  if (action !== 'notify') {
    for (const batch of chunk(toCall, ACTION_BATCH_SIZE)) {
      for (const [id, result] of await actOnBatch(client, action, inputs['dry-run'], batch)) results.set(id, result)
    }
  }
  return stale.map((record) => {
    const result = results.get(record.id)
    if (!result) throw new Error(`no outcome was recorded for ${record.id}`)
    return toFinding(record, now, result)
  })
}
