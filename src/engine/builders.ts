import {
  paginateDescribeInstances,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client
} from '@aws-sdk/client-ec2'
import { describeAwsError, errorCode, errorMessage, gotNoAnswer } from '../aws/errors.js'
import { chunk, DESCRIBE_PAGE_SIZE } from '../aws/batches.js'
import { PERMISSION } from '../model/permissions.js'
import { ageSeconds } from '../model/aws-data.js'
import { decideInstance } from './plan.js'
import type { PhaseSignals } from './run-control.js'
import type { AwsErrorInfo, InstanceFinding, InstanceRecord, Inputs, Outcome } from '../model/types.js'

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
  reason?: string
  error?: AwsErrorInfo
}

type MutatingAction = 'stop' | 'terminate'

interface ActionCall {
  outcome: Outcome
  permission: string
  /** States that mean the change was made, when an unanswered call is read back. */
  doneStates: readonly string[]
  send: (client: EC2Client, ids: string[], dryRun: boolean, abortSignal: AbortSignal | undefined) => Promise<unknown>
}

const ACTION_CALLS: Record<MutatingAction, ActionCall> = {
  stop: {
    outcome: 'stopped',
    permission: PERMISSION.stopInstances,
    doneStates: ['stopping', 'stopped'],
    send: (client, InstanceIds, DryRun, abortSignal) =>
      client.send(new StopInstancesCommand({ InstanceIds, DryRun }), { abortSignal })
  },
  terminate: {
    outcome: 'terminated',
    permission: PERMISSION.terminateInstances,
    doneStates: ['shutting-down', 'terminated'],
    // Never DisableApiTermination: a protected instance is reported as failed, not unprotected.
    send: (client, InstanceIds, DryRun, abortSignal) =>
      client.send(new TerminateInstancesCommand({ InstanceIds, DryRun }), { abortSignal })
  }
}

/** What a batch needs of its phase: the deadline of its call, and a fresh one to read back a call that got no answer. */
export type BatchSignals = Partial<Pick<PhaseSignals, 'abortSignal' | 'readBackSignal'>>

/**
 * One batch, and the rest of it again after each refusal that names its instances: at most one
 * extra call per refused instance, never one call per instance. Throttling, dropped connections
 * and silent endpoints are retried underneath by the SDK's retry strategy; a call that still got
 * no answer may or may not have taken effect, so the batch is read back and reported as EC2 says.
 */
export async function actOnBatch(
  client: EC2Client,
  action: MutatingAction,
  dryRun: boolean,
  batch: readonly string[],
  signals: BatchSignals = {}
): Promise<Map<string, ActionResult>> {
  const call = ACTION_CALLS[action]
  const results = new Map<string, ActionResult>()
  let pending = [...batch]
  while (pending.length > 0) {
    try {
      await call.send(client, pending, dryRun, signals.abortSignal)
      for (const id of pending) results.set(id, { outcome: dryRun ? 'dry-run' : call.outcome })
      return results
    } catch (error) {
      if (dryRun && errorCode(error) === 'DryRunOperation') {
        for (const id of pending) results.set(id, { outcome: 'dry-run' })
        return results
      }
      const failure = { outcome: 'failed' as const, error: describeAwsError(error, call.permission) }
      if (!dryRun && gotNoAnswer(error)) {
        // An abandoned call (a deadline or a cancellation aborted it) may still be carried out after
        // the read-back: unchanged then proves nothing. Retries that ran out on their own do.
        const abandoned = errorCode(error) === 'AbortError'
        for (const [id, result] of await readBack(
          client,
          call,
          pending,
          failure.error,
          abandoned,
          signals.readBackSignal?.()
        ))
          results.set(id, result)
        return results
      }
      const refused = refusedInstanceIds(error, pending)
      const failedNow = refused.length > 0 ? refused : pending
      for (const id of failedNow) results.set(id, failure)
      pending = refused.length > 0 ? pending.filter((id) => !refused.includes(id)) : []
    }
  }
  return results
}

/**
 * The outcome of a call that got no answer, from the instances' states: changed as asked; failed
 * (still as before) when the call's retries ran out; unknown when the call was abandoned and may
 * still take effect, or when not even the read-back answered. Never claimed done without EC2
 * saying so.
 */
async function readBack(
  client: EC2Client,
  call: ActionCall,
  ids: readonly string[],
  callError: AwsErrorInfo,
  abandoned: boolean,
  abortSignal: AbortSignal | undefined
): Promise<Map<string, ActionResult>> {
  const results = new Map<string, ActionResult>()
  let states: Map<string, string>
  try {
    states = await instanceStates(client, ids, abortSignal)
  } catch (error) {
    const reason = `the ${call.outcome === 'stopped' ? 'stop' : 'terminate'} call got no answer and the instance could not be read back (${errorMessage(error)})`
    for (const id of ids) results.set(id, { outcome: 'unknown', reason, error: callError })
    return results
  }
  for (const id of ids) {
    const state = states.get(id)
    if (state !== undefined && call.doneStates.includes(state))
      results.set(id, { outcome: call.outcome, reason: `read back as ${state} after the call got no answer` })
    else if (abandoned)
      results.set(id, {
        outcome: 'unknown',
        reason: `read back as ${state ?? 'not found'} after the call was abandoned; it may still take effect`,
        error: callError
      })
    else
      results.set(id, {
        outcome: 'failed',
        reason: `read back as ${state ?? 'not found'} after the call got no answer`,
        error: callError
      })
  }
  return results
}

/** The current state of each instance, in one DescribeInstances per 1,000 IDs. */
export async function instanceStates(
  client: EC2Client,
  ids: readonly string[],
  abortSignal?: AbortSignal
): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  for (const batch of chunk(ids, DESCRIBE_PAGE_SIZE)) {
    // InstanceIds cannot be combined with MaxResults; 1,000 IDs fit one answer.
    for await (const page of paginateDescribeInstances({ client }, { InstanceIds: batch }, { abortSignal })) {
      for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        if (instance.InstanceId) states.set(instance.InstanceId, instance.State?.Name ?? 'unknown')
      }
    }
  }
  return states
}

export function toFinding(record: InstanceRecord, now: Date, result: ActionResult): InstanceFinding {
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

export interface ActOptions extends BatchSignals {
  /** Aborted when the job is cancelled: no batch is started after it. */
  cancelled?: AbortSignal
  /** Called with each batch's findings as soon as they are known, so the log is a record even if the process is killed. */
  onSettled?: (findings: InstanceFinding[]) => void
}

/** The reason on instances whose batch was never sent because the job was cancelled. */
export const NOT_STARTED_CANCELLED = 'not acted on: the job was cancelled first'

/**
 * Acts on the stale instances of one region as the inputs say and returns each one's outcome.
 * Batches run one after another so that a region never floods its own API rate limit; regions
 * run side by side.
 */
export async function actOnInstances(
  client: EC2Client,
  stale: readonly InstanceRecord[],
  inputs: Inputs,
  now: Date,
  options: ActOptions = {}
): Promise<InstanceFinding[]> {
  const records = new Map(stale.map((record) => [record.id, record]))
  const results = new Map<string, ActionResult>()
  const toCall: string[] = []
  for (const record of stale) {
    const decision = decideInstance(record, inputs)
    if (decision.call) toCall.push(record.id)
    else results.set(record.id, decision)
  }
  const action = inputs.action
  if (action !== 'notify') {
    for (const batch of chunk(toCall, ACTION_BATCH_SIZE)) {
      const settled = options.cancelled?.aborted
        ? new Map(batch.map((id) => [id, { outcome: 'notified' as const, reason: NOT_STARTED_CANCELLED }]))
        : await actOnBatch(client, action, inputs['dry-run'], batch, options)
      for (const [id, result] of settled) results.set(id, result)
      options.onSettled?.(
        batch.map((id) => toFinding(records.get(id) as InstanceRecord, now, settled.get(id) as ActionResult))
      )
    }
  }
  return stale.map((record) => {
    const result = results.get(record.id)
    if (!result) throw new Error(`no outcome was recorded for ${record.id}`)
    return toFinding(record, now, result)
  })
}
