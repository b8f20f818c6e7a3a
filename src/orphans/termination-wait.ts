import { type DescribeInstancesCommandInput, type EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2'
import { createWaiter, WaiterState } from '@smithy/core/client'
import { errorCode, errorMessage } from '../aws-errors.js'
import { chunk } from '../batches.js'

export interface TerminationWait {
  /** The whole wait is bounded: what has not terminated by then is reported as still in use. */
  maxWaitSeconds: number
  /** The first poll is immediate; later ones back off from this to maxDelaySeconds. */
  minDelaySeconds: number
  maxDelaySeconds: number
}

/** Five minutes covers an EC2 termination; 2 s between early polls lets a fast endpoint finish fast. */
export const DEFAULT_TERMINATION_WAIT: TerminationWait = { maxWaitSeconds: 300, minDelaySeconds: 2, maxDelaySeconds: 15 }

/** Instance IDs per waiter: each poll is one DescribeInstances with these IDs. */
const WAIT_BATCH = 100

export interface TerminationResult {
  terminated: Set<string>
  /** For each instance that did not reach `terminated`: why, in words for a reason. */
  notTerminated: Map<string, string>
}

/**
 * Waits, with the SDK's waiter machinery, until `instanceIds` are terminated. Unlike the stock
 * InstanceTerminated waiter, an instance still `pending` or `stopping` (EC2's reads lag the
 * TerminateInstances answer, and a killed build may be caught mid-stop) means "keep polling",
 * not "give up": only the deadline ends the wait. Afterwards the instances' states are read once
 * so the ones that did terminate still free what they held.
 */
export async function waitForTermination(
  client: EC2Client,
  instanceIds: readonly string[],
  wait: TerminationWait
): Promise<TerminationResult> {
  const result: TerminationResult = { terminated: new Set(), notTerminated: new Map() }
  const waiterConfig = {
    client,
    maxWaitTime: wait.maxWaitSeconds,
    minDelay: wait.minDelaySeconds,
    maxDelay: wait.maxDelaySeconds
  }
  await Promise.all(
    chunk([...new Set(instanceIds)], WAIT_BATCH).map(async (batch) => {
      const outcome = await createWaiter(waiterConfig, { InstanceIds: batch }, allTerminated)
      if (outcome.state === WaiterState.SUCCESS) batch.forEach((id) => result.terminated.add(id))
      else await sortByState(client, batch, result)
    })
  )
  return result
}

/** The waiter's acceptor: success once every instance reads `terminated`; anything else polls again. */
async function allTerminated(client: EC2Client, input: DescribeInstancesCommandInput): Promise<{ state: WaiterState; reason?: unknown }> {
  try {
    const states = new Map<string, string>()
    for await (const page of paginateDescribeInstances({ client }, input)) {
      for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        if (instance.InstanceId) states.set(instance.InstanceId, instance.State?.Name ?? 'unknown')
      }
    }
    const done = (input.InstanceIds ?? []).every((id) => states.get(id) === 'terminated')
    return { state: done ? WaiterState.SUCCESS : WaiterState.RETRY, reason: Object.fromEntries(states) }
  } catch (error) {
    // Right after launch or termination EC2 may not know an ID yet: that is worth another look.
    if (errorCode(error) === 'InvalidInstanceID.NotFound') return { state: WaiterState.RETRY, reason: error }
    return { state: WaiterState.FAILURE, reason: error }
  }
}

async function sortByState(
  client: EC2Client,
  batch: string[],
  result: TerminationResult
): Promise<void> {
  const states = new Map<string, string>()
  try {
    for await (const page of paginateDescribeInstances({ client }, { InstanceIds: batch })) {
      for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        if (instance.InstanceId) states.set(instance.InstanceId, instance.State?.Name ?? 'unknown')
      }
    }
  } catch (error) {
    batch.forEach((id) => result.notTerminated.set(id, `state of ${id} unknown after the wait: ${errorMessage(error)}`))
    return
  }
  for (const id of batch) {
    const state = states.get(id)
    if (state === 'terminated') result.terminated.add(id)
    else result.notTerminated.set(id, `${id} did not reach terminated within the wait (state ${state ?? 'unknown'})`)
  }
}
