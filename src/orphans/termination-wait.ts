import { type EC2Client, paginateDescribeInstances, waitUntilInstanceTerminated } from '@aws-sdk/client-ec2'
import { errorMessage } from '../aws-errors.js'
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
 * Waits with the SDK's InstanceTerminated waiter until `instanceIds` are terminated. When a
 * waiter gives up (time out, an instance stuck in `stopping`), the instances' states are read once
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
      try {
        await waitUntilInstanceTerminated(waiterConfig, { InstanceIds: batch })
        batch.forEach((id) => result.terminated.add(id))
      } catch {
        await sortByState(client, batch, result)
      }
    })
  )
  return result
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
