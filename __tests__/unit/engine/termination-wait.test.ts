import { describe, expect, it } from '@jest/globals'
import { DescribeInstancesCommand, EC2Client, type InstanceStateName } from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { WAIT_MARGIN_SECONDS, waitForTermination } from '../../../src/engine/termination-wait.js'
import { ec2Error } from '../../../__fixtures__/support.js'

const ec2 = mockClient(EC2Client)
const client = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } })
const QUICK = { maxWaitSeconds: 5, minDelaySeconds: 0.01, maxDelaySeconds: 0.02 }

function states(...pairs: [string, InstanceStateName][]) {
  return { Reservations: [{ Instances: pairs.map(([InstanceId, Name]) => ({ InstanceId, State: { Name } })) }] }
}

describe('waitForTermination', () => {
  it('keeps polling while builders are still pending, stopping or shutting down', async () => {
    ec2.reset()
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(states(['i-1', 'pending'], ['i-2', 'stopping']))
      .resolvesOnce(states(['i-1', 'shutting-down'], ['i-2', 'shutting-down']))
      .resolves(states(['i-1', 'terminated'], ['i-2', 'terminated']))
    const result = await waitForTermination(client, ['i-1', 'i-2'], QUICK)
    expect([...result.terminated].sort()).toEqual(['i-1', 'i-2'])
    expect(result.notTerminated.size).toBe(0)
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 3)
  })

  it('looks again when EC2 does not know an ID yet', async () => {
    ec2.reset()
    ec2
      .on(DescribeInstancesCommand)
      .rejectsOnce(ec2Error('InvalidInstanceID.NotFound', "The instance ID 'i-1' does not exist"))
      .resolves(states(['i-1', 'terminated']))
    const result = await waitForTermination(client, ['i-1'], QUICK)
    expect([...result.terminated]).toEqual(['i-1'])
  })

  it('reports what did not terminate by the deadline, and frees what did', async () => {
    ec2.reset()
    ec2.on(DescribeInstancesCommand).resolves(states(['i-1', 'terminated'], ['i-2', 'stopping']))
    const result = await waitForTermination(client, ['i-1', 'i-2'], {
      maxWaitSeconds: 0.2,
      minDelaySeconds: 0.01,
      maxDelaySeconds: 0.02
    })
    expect([...result.terminated]).toEqual(['i-1'])
    expect(result.notTerminated.get('i-2')).toMatch(/i-2 did not reach terminated within the wait \(state stopping\)/)
  })

  it('stops at once on an error that polling cannot cure', async () => {
    ec2.reset()
    ec2
      .on(DescribeInstancesCommand)
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    const result = await waitForTermination(client, ['i-1'], QUICK)
    expect(result.terminated.size).toBe(0)
    expect(result.notTerminated.get('i-1')).toMatch(/state of i-1 unknown after the wait: You are not authorized/)
  })

  it('with a probe, reads every ID at once through it each poll (one listing, not one call per 100 IDs)', async () => {
    ec2.reset()
    const ids = Array.from({ length: 250 }, (_, n) => `i-${n}`)
    const polls: number[] = []
    const probe = async (asked: readonly string[]) => {
      polls.push(asked.length)
      return new Map(asked.map((id) => [id, polls.length < 2 ? 'shutting-down' : 'terminated']))
    }
    const result = await waitForTermination(client, ids, QUICK, { probe })
    expect(result.terminated.size).toBe(250)
    expect(polls).toEqual([250, 250])
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0)
  })

  it('with a probe that fails, says why the states are unknown and keeps the error', async () => {
    const denied = ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')
    const result = await waitForTermination(client, ['i-1'], QUICK, { probe: () => Promise.reject(denied) })
    expect(result.notTerminated.get('i-1')).toMatch(/state of i-1 unknown after the wait/)
    expect(result.probeError).toBe(denied)
  })

  it("gives up by itself before the phase's deadline, so no poll's sleep outlives it and what it freed can still be deleted", async () => {
    ec2.reset()
    ec2.on(DescribeInstancesCommand).resolves(states(['i-1', 'shutting-down']))
    // A five-minute wait with 15 s between late polls, but the deadline is the margin plus 1.5 s away:
    // without the deadline this would run for minutes; nothing aborts it.
    const deadlineAt = Date.now() + (WAIT_MARGIN_SECONDS + 1.5) * 1000
    const result = await waitForTermination(
      client,
      ['i-1'],
      { maxWaitSeconds: 300, minDelaySeconds: 0.2, maxDelaySeconds: 15 },
      { deadlineAt }
    )
    expect(result.notTerminated.get('i-1')).toMatch(/did not reach terminated within the wait \(state shutting-down\)/)
    expect(Date.now()).toBeLessThan(deadlineAt)
  })

  it('reads the states once when the deadline leaves no time to wait', async () => {
    ec2.reset()
    ec2.on(DescribeInstancesCommand).resolves(states(['i-1', 'terminated']))
    const result = await waitForTermination(client, ['i-1'], QUICK, { deadlineAt: Date.now() + 1000 })
    expect([...result.terminated]).toEqual(['i-1'])
    expect(ec2).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
  })
})
