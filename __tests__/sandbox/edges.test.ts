/**
 * Silent, slow and delayed answers, through the real SDK clients: what a client's timeout, abort
 * and retries see when one region or service stops answering, and how `calls` records it. Timing
 * assertions are lower bounds only (a loaded machine only makes things slower).
 */
import {
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances
} from '@aws-sdk/client-ec2'
import { PublishCommand } from '@aws-sdk/client-sns'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  DEFAULT_TOPIC_ARN,
  startSandbox,
  type CallRecord,
  type Sandbox,
  type SandboxOptions
} from '../../sandbox/index.js'
import { ec2, errorOf, sns } from './sdk.js'

const FLEET: SandboxOptions['fleet'] = {
  'us-east-1': { instances: [{ id: 'i-00000001' }, { id: 'i-00000002' }] },
  'eu-west-1': { instances: [{ id: 'i-00000003' }] }
}
/** A client that gives up on a call after 300 ms and tries twice. */
const IMPATIENT = { requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true }, maxAttempts: 2 }

let s: Sandbox
beforeEach(async () => {
  s = await startSandbox({ fleet: FLEET })
})
afterEach(() => s.close())

async function restart(options: SandboxOptions): Promise<void> {
  await s.close()
  s = await startSandbox({ fleet: FLEET, ...options })
}

/** Waits (without a deadline of its own: jest's timeout is the limit) until `ready` holds. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await new Promise((resolve) => setTimeout(resolve, 10))
}

const held = (c: CallRecord) => (c.answeredAt as number) - c.receivedAt

describe('silence', () => {
  it('a silenced region times the client out, after its retries, while another region answers', async () => {
    s.faults.silence({ region: 'eu-west-1' })
    const [silent, answered] = await Promise.all([
      errorOf(ec2(s, 'eu-west-1', IMPATIENT).send(new DescribeInstancesCommand({}))),
      ec2(s, 'us-east-1', IMPATIENT).send(new DescribeInstancesCommand({}))
    ])
    expect(silent.name).toBe('TimeoutError')
    expect(answered.Reservations).toHaveLength(2)
    const tries = s.callsOf('DescribeInstances', 'eu-west-1')
    expect(tries.map((c) => [c.status, c.outcome])).toEqual([
      [0, 'silenced'],
      [0, 'silenced']
    ])
    expect(s.callsOf('DescribeInstances', 'us-east-1').map((c) => [c.status, c.outcome])).toEqual([[200, 'answered']])
    // The client hung up on each silenced call once its timeout passed; the sandbox saw it go.
    await until(() => tries.every((c) => c.closedAt !== undefined))
  })

  it('silences one service: SNS hangs, EC2 answers', async () => {
    s.faults.silence({ service: 'sns' })
    expect(
      await errorOf(
        sns(s, 'us-east-1', IMPATIENT).send(new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Message: 'x' }))
      )
    ).toMatchObject({
      name: 'TimeoutError'
    })
    await ec2(s, 'us-east-1', IMPATIENT).send(new DescribeRegionsCommand({}))
    expect(s.published).toEqual([])
    expect(s.calls.map((c) => [c.action, c.outcome])).toEqual([
      ['Publish', 'silenced'],
      ['Publish', 'silenced'],
      ['DescribeRegions', 'answered']
    ])
  })

  it('afterProcessing: the change is made, the answer never comes, the retry is answered', async () => {
    s.faults.silence({ action: 'TerminateInstances', count: 1, afterProcessing: true })
    const out = await ec2(s, 'us-east-1', IMPATIENT).send(
      new TerminateInstancesCommand({ InstanceIds: ['i-00000001'] })
    )
    // The retry finds the instance already terminated: EC2 answers the repeat as a success.
    expect(out.TerminatingInstances?.[0]?.PreviousState?.Name).toBe('terminated')
    expect(s.fleet.instance('i-00000001')?.history).toEqual(['running', 'shutting-down', 'terminated'])
    expect(s.callsOf('TerminateInstances').map((c) => c.outcome)).toEqual(['silenced', 'answered'])
  })

  it('an AbortController ends a silent call; close() ends the ones nobody ends', async () => {
    s.faults.silence({ action: 'DescribeInstances' })
    const abort = new AbortController()
    const aborted = errorOf(ec2(s).send(new DescribeInstancesCommand({}), { abortSignal: abort.signal }))
    await until(() => s.calls.length === 1)
    abort.abort()
    expect((await aborted).name).toBe('AbortError')
    await until(() => s.calls[0]?.closedAt !== undefined)

    // No timeout, no abort: only close() ends this one, and it does not wait for an answer.
    const forever = errorOf(ec2(s).send(new DescribeInstancesCommand({})))
    await until(() => s.calls.length === 2)
    await s.close()
    expect((await forever).message).toMatch(/socket hang up|ECONNRESET/)
    expect(s.calls[1]).toMatchObject({ outcome: 'silenced', status: 0 })
    expect(s.calls[1]?.closedAt).toBeDefined()
  })

  it('clear() ends silence for new calls', async () => {
    s.faults.silence({ region: 'us-east-1' })
    s.faults.clear()
    await ec2(s).send(new DescribeInstancesCommand({}))
    expect(s.calls[0]?.outcome).toBe('answered')
  })
})

describe('slow', () => {
  it('delays the matching calls before they are processed; others are not delayed', async () => {
    s.faults.slow({ region: 'eu-west-1', delayMs: 400 })
    s.faults.slow({ action: 'DescribeInstances', count: 1, delayMs: 100 })
    await ec2(s, 'eu-west-1').send(new DescribeInstancesCommand({}))
    await ec2(s, 'eu-west-1').send(new DescribeInstancesCommand({}))
    await ec2(s, 'us-east-1').send(new DescribeRegionsCommand({}))
    const [first, second, other] = s.calls as [CallRecord, CallRecord, CallRecord]
    // Delays of matching rules add up; a counted rule runs out.
    expect([first.delayMs, second.delayMs, other.delayMs]).toEqual([500, 400, 0])
    // Node's timers may fire up to a millisecond before performance.now() says the delay is over.
    expect(held(first)).toBeGreaterThanOrEqual(499)
    expect(held(second)).toBeGreaterThanOrEqual(399)
  })

  it('a slow call still meets the other faults, and a client that gives up first leaves it processed', async () => {
    s.faults.slow({ action: 'TerminateInstances', delayMs: 600 })
    const client = ec2(s, 'us-east-1', { requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } })
    expect((await errorOf(client.send(new TerminateInstancesCommand({ InstanceIds: ['i-00000002'] })))).name).toBe(
      'TimeoutError'
    )
    await until(() => s.calls[0]?.outcome !== 'pending')
    expect(s.calls[0]).toMatchObject({ outcome: 'client-closed', status: 0 })
    expect(s.fleet.instance('i-00000002')?.state).toBe('terminated')

    s.faults.throttle({ action: 'TerminateInstances', count: 1 })
    expect(await errorOf(ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000001'] })))).toMatchObject({
      name: 'RequestLimitExceeded',
      status: 503
    })
    expect(held(s.calls[1] as CallRecord)).toBeGreaterThanOrEqual(600)
  })
})

describe('holdUntilInFlight', () => {
  it('answers the selected calls only once that many are in flight, all together; other calls pass', async () => {
    await restart({
      holdUntilInFlight: { matches: (c) => c.action === 'DescribeRegions', count: 4, maxHoldMs: 60_000 }
    })
    const client = ec2(s)
    await client.send(new DescribeInstancesCommand({}))
    await Promise.all(Array.from({ length: 4 }, () => client.send(new DescribeRegionsCommand({}))))
    const held = s.calls.filter((c) => c.action === 'DescribeRegions')
    const firstAnswer = Math.min(...held.map((c) => c.answeredAt as number))
    for (const c of held) expect(c.receivedAt).toBeLessThan(firstAnswer)
  })

  it('answers after maxHoldMs when fewer arrive together, so a call sent after an answer shows', async () => {
    await restart({ holdUntilInFlight: { matches: (c) => c.action === 'DescribeRegions', count: 3, maxHoldMs: 50 } })
    const client = ec2(s)
    await Promise.all([client.send(new DescribeRegionsCommand({})), client.send(new DescribeRegionsCommand({}))])
    await client.send(new DescribeRegionsCommand({}))
    const [first, , third] = s.calls
    expect(third?.receivedAt).toBeGreaterThan(first?.answeredAt as number)
  })
})

describe('requestDelayMs', () => {
  it('holds every call that long before processing; a client’s sequential round trips add up', async () => {
    const D = 300
    await restart({ requestDelayMs: D, fleet: { 'us-east-1': { instances: Array.from({ length: 12 }, () => ({})) } } })
    const started = performance.now()
    let pages = 0
    for await (const _page of paginateDescribeInstances({ client: ec2(s), pageSize: 5 }, { MaxResults: 5 })) pages++
    const wall = performance.now() - started
    expect(pages).toBe(3)
    expect(s.calls.map((c) => c.delayMs)).toEqual([D, D, D])
    for (const c of s.calls) expect(held(c)).toBeGreaterThanOrEqual(D)
    // Sequential: each page is asked for after the previous one was answered.
    for (let n = 1; n < s.calls.length; n++)
      expect((s.calls[n] as CallRecord).receivedAt).toBeGreaterThanOrEqual(
        (s.calls[n - 1] as CallRecord).answeredAt as number
      )
    expect(wall).toBeGreaterThanOrEqual(3 * D)
  })

  it('delays concurrent calls concurrently (a timer per call, not a queue)', async () => {
    await restart({ requestDelayMs: 1000 })
    const client = ec2(s)
    await Promise.all(Array.from({ length: 6 }, () => client.send(new DescribeRegionsCommand({}))))
    expect(s.calls).toHaveLength(6)
    const firstAnswer = Math.min(...s.calls.map((c) => c.answeredAt as number))
    // Every call was already in the sandbox before the first answer went out.
    for (const c of s.calls) expect(c.receivedAt).toBeLessThan(firstAnswer)
  })

  it('close() cancels calls still being held', async () => {
    await restart({ requestDelayMs: 60_000 })
    const held = errorOf(ec2(s).send(new DescribeInstancesCommand({})))
    await until(() => s.calls.length === 1)
    await s.close()
    expect((await held).message).toMatch(/socket hang up|ECONNRESET/)
    expect(s.calls[0]?.outcome).toBe('pending')
  })
})
