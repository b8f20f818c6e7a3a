import type { DescribeInstancesCommandInput, EC2Client } from '@aws-sdk/client-ec2'
import { instanceStates } from './builders.js'
import { createWaiter, WaiterState } from '@smithy/core/client'
import { errorCode, errorMessage } from '../aws/errors.js'
import { chunk } from '../aws/batches.js'
import type { PhaseSignals } from './run-control.js'

export interface TerminationWait {
  /** The whole wait is bounded: what has not terminated by then is reported as still in use. */
  maxWaitSeconds: number
  /** The first poll is immediate; later ones back off from this to maxDelaySeconds. */
  minDelaySeconds: number
  maxDelaySeconds: number
}

/** Five minutes covers an EC2 termination; 2 s between early polls lets a fast endpoint finish fast. */
export const DEFAULT_TERMINATION_WAIT: TerminationWait = {
  maxWaitSeconds: 300,
  minDelaySeconds: 2,
  maxDelaySeconds: 15
}

/** How long before the phase's deadline the wait gives up: room to read the states once and delete. */
export const WAIT_MARGIN_SECONDS = 5

/** Instance IDs per waiter: each poll is one DescribeInstances with these IDs. */
const WAIT_BATCH = 100

export interface TerminationResult {
  terminated: Set<string>
  /** For each instance that did not reach `terminated`: why, in words for a reason. */
  notTerminated: Map<string, string>
  /** Why the last read of the states failed, when it did. */
  probeError?: unknown
}

/** Reads the state of each of `ids` (`terminated` for one that is gone). */
export type StateProbe = (ids: readonly string[], abortSignal?: AbortSignal) => Promise<ReadonlyMap<string, string>>

/**
 * Waits, with the SDK's waiter machinery, until `instanceIds` are terminated. Unlike the stock
 * InstanceTerminated waiter, an instance still `pending` or `stopping` (EC2's reads lag the
 * TerminateInstances answer, and a killed build may be caught mid-stop) means "keep polling",
 * not "give up": only the deadline ends the wait. Afterwards the instances' states are read once
 * so the ones that did terminate still free what they held.
 */
export type WaitSignals = Partial<Pick<PhaseSignals, 'abortSignal' | 'deadlineAt' | 'readBackSignal'>> & {
  /**
   * How each poll reads the states, when not by ID in batches of 100: one listing of the region's
   * live instances answers for every ID at once (and for what the leftovers' recheck needs).
   */
  probe?: StateProbe
}

export async function waitForTermination(
  client: EC2Client,
  instanceIds: readonly string[],
  wait: TerminationWait,
  signals: WaitSignals = {}
): Promise<TerminationResult> {
  const result: TerminationResult = { terminated: new Set(), notTerminated: new Map() }
  const { abortSignal } = signals
  const probe: StateProbe = signals.probe ?? ((ids, signal) => instanceStates(client, ids, signal))
  const untilDeadline =
    signals.deadlineAt === undefined ? Infinity : (signals.deadlineAt - Date.now()) / 1000 - WAIT_MARGIN_SECONDS
  const maxWaitTime = Math.min(wait.maxWaitSeconds, untilDeadline)
  const waiterConfig = {
    client,
    maxWaitTime,
    minDelay: wait.minDelaySeconds,
    maxDelay: wait.maxDelaySeconds,
    ...(abortSignal ? { abortSignal } : {})
  }
  await Promise.all(
    chunk([...new Set(instanceIds)], signals.probe ? Infinity : WAIT_BATCH).map(async (batch) => {
      // Too little time left for a wait: the states are read once.
      const outcome =
        maxWaitTime <= wait.minDelaySeconds
          ? { state: WaiterState.TIMEOUT }
          : await createWaiter(waiterConfig, { InstanceIds: batch }, (_client, input) =>
              allTerminated(probe, input, abortSignal)
            ).catch((error: unknown) => ({
              state: WaiterState.FAILURE,
              reason: error
            }))
      if (outcome.state === WaiterState.SUCCESS) batch.forEach((id) => result.terminated.add(id))
      else await sortByState(probe, batch, result, signals.readBackSignal?.())
    })
  )
  return result
}

/** The waiter's acceptor: success once every instance reads `terminated`; anything else polls again. */
async function allTerminated(
  probe: StateProbe,
  input: DescribeInstancesCommandInput,
  abortSignal: AbortSignal | undefined
): Promise<{ state: WaiterState; reason?: unknown }> {
  try {
    const states = await probe(input.InstanceIds ?? [], abortSignal)
    const done = (input.InstanceIds ?? []).every((id) => states.get(id) === 'terminated')
    return { state: done ? WaiterState.SUCCESS : WaiterState.RETRY, reason: Object.fromEntries(states) }
  } catch (error) {
    // Right after launch or termination EC2 may not know an ID yet: that is worth another look.
    if (errorCode(error) === 'InvalidInstanceID.NotFound') return { state: WaiterState.RETRY, reason: error }
    return { state: WaiterState.FAILURE, reason: error }
  }
}

async function sortByState(
  probe: StateProbe,
  batch: string[],
  result: TerminationResult,
  abortSignal: AbortSignal | undefined
): Promise<void> {
  let states: ReadonlyMap<string, string>
  try {
    states = await probe(batch, abortSignal)
  } catch (error) {
    result.probeError = error
    batch.forEach((id) => result.notTerminated.set(id, `state of ${id} unknown after the wait: ${errorMessage(error)}`))
    return
  }
  for (const id of batch) {
    const state = states.get(id)
    if (state === 'terminated') result.terminated.add(id)
    else result.notTerminated.set(id, `${id} did not reach terminated within the wait (state ${state ?? 'unknown'})`)
  }
}
