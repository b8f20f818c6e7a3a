/**
 * Scale and failure on the wire: pagination and batching past 1000, throttling and dropped
 * connections, a refusal inside a batch, a region that refuses.
 */
import { describe, expect, it } from '@jest/globals'
import { generateFleet } from '../../sandbox/index.js'
import { changedIds, idsInCall, sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const { start } = sandboxPerTest()
const noCap = { 'max-instances': '0', 'max-resources': '0' }

describe('more than 1000 stale instances in one region', () => {
  it('pages with MaxResults 1000, terminates in batches of at most 100, each instance once', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-2', count: 1450, staleFraction: 1, seed: 11 }) })
    const run = await runAction({ sandbox: s, region: 'us-east-2', inputs: { action: 'terminate', ...noCap } })
    expectExit(run, 0)
    const all = sorted(s.fleet.instances('us-east-2').map((i) => i.id))
    expect(run.list('instance-ids')).toEqual(all)
    expect(run.outputs.count).toBe('1450')
    expect(run.list('acted-ids')).toEqual(all)
    expect(changedIds(s)).toEqual(all)

    const discovery = s.callsOf('DescribeInstances').filter((c) => idsInCall(c.params).length === 0)
    expect(discovery.map((c) => c.params.MaxResults)).toEqual(['1000', '1000'])
    const terminates = s.callsOf('TerminateInstances')
    expect(terminates).toHaveLength(Math.ceil(1450 / 100))
    for (const call of terminates) expect(idsInCall(call.params).length).toBeLessThanOrEqual(100)
    const terminated = terminates.flatMap((c) => idsInCall(c.params))
    expect(sorted(terminated)).toEqual(all)
  })
})

describe('throttling and flaky connections', () => {
  it('retries RequestLimitExceeded on the first calls and a dropped connection; no instance is acted on twice', async () => {
    const fleet = generateFleet({ region: 'us-east-1', count: 150, staleFraction: 1, seed: 5 })
    const s = await start({ fleet })
    s.faults
      .throttle({ action: 'DescribeInstances', count: 2 })
      .throttle({ action: 'TerminateInstances', count: 2 })
      .drop({ action: 'DescribeInstances', count: 1 })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', ...noCap } })
    expectExit(run, 0)
    const all = sorted(s.fleet.instances('us-east-1').map((i) => i.id))
    expect(run.list('acted-ids')).toEqual(all)
    expect(run.list('failed-ids')).toEqual([])
    expect(s.calls.filter((c) => c.errorCode === 'RequestLimitExceeded')).toHaveLength(4)
    // Throttled calls changed nothing; the answered ones carried every instance exactly once.
    const answered = s.callsOf('TerminateInstances').filter((c) => c.status === 200)
    const ids = answered.flatMap((c) => idsInCall(c.params))
    expect(ids).toHaveLength(new Set(ids).size)
    expect(sorted(ids)).toEqual(all)
    for (const instance of s.fleet.instances('us-east-1'))
      expect(instance.history).toEqual(['running', 'shutting-down', 'terminated'])
  })
})

describe('a protected instance inside a batch', () => {
  it('terminates the rest, reports that one failed, and fails the step', async () => {
    const fleet = generateFleet({ region: 'us-east-1', count: 12, staleFraction: 1, zones: ['us-east-1a'], seed: 8 })
    const instances = fleet['us-east-1']?.instances ?? []
    const guarded = instances[5]
    if (guarded) guarded.disableApiTermination = true
    const s = await start({ fleet })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate' } })
    const all = sorted(instances.map((i) => i.id as string))
    const rest = all.filter((id) => id !== guarded?.id)
    expectExit(run, 1)
    expect(run.list('failed-ids')).toEqual([guarded?.id])
    expect(run.list('acted-ids')).toEqual(rest)
    expect(changedIds(s)).toEqual(rest)
    expect(s.fleet.instance(guarded?.id as string)?.state).toBe('running')
    const finding = run.report?.instances.find((i) => i.id === guarded?.id)
    expect(finding).toMatchObject({
      outcome: 'failed',
      error: { code: 'OperationNotPermitted', message: expect.stringContaining('disableApiTermination') }
    })
    expect(run.log).toContain(guarded?.id)
    // Terminate never lifts protection by itself: only the calls the sweep needs were made.
    expect(new Set(s.calls.map((c) => c.action))).toEqual(new Set(['DescribeInstances', 'TerminateInstances']))
  })
})

describe('a region that refuses', () => {
  const fleet = () => ({
    ...generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 1 }),
    ...generateFleet({ region: 'eu-west-1', count: 3, staleFraction: 1, seed: 2 }),
    ...generateFleet({ region: 'ap-south-1', count: 3, staleFraction: 1, seed: 3 })
  })

  it('UnauthorizedOperation in one region: the others finish, the step fails, the report names the region and why', async () => {
    const s = await start({ fleet: fleet() })
    s.faults.deny({ region: 'eu-west-1' })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: 'us-east-1, eu-west-1\nap-south-1' }
    })
    expectExit(run, 1)
    const done = sorted([...s.fleet.instances('us-east-1'), ...s.fleet.instances('ap-south-1')].map((i) => i.id))
    expect(run.list('acted-ids')).toEqual(done)
    expect(changedIds(s)).toEqual(done)
    const region = run.report?.regions.find((r) => r.region === 'eu-west-1')
    expect(region).toMatchObject({
      status: 'failed',
      failures: [{ kind: 'instances', code: 'UnauthorizedOperation', missingPermission: 'ec2:DescribeInstances' }]
    })
    expect(
      run.report?.regions
        .filter((r) => r.status === 'ok')
        .map((r) => r.region)
        .sort()
    ).toEqual(['ap-south-1', 'us-east-1'])
    expect(run.log).toContain('eu-west-1')
    expect(run.summary).toContain('eu-west-1')
  })

  it('a disabled region named explicitly fails with AuthFailure; `regions: all` skips it', async () => {
    const s = await start({ fleet: fleet(), regions: ['us-east-1', 'eu-west-1', 'ap-south-1'] })
    s.faults.disableRegion('ap-south-1')
    const named = await runAction({ sandbox: s, inputs: { regions: 'us-east-1,ap-south-1' } })
    expectExit(named, 1)
    expect(named.report?.regions.find((r) => r.region === 'ap-south-1')).toMatchObject({
      status: 'failed',
      failures: [{ kind: 'instances', code: 'AuthFailure' }]
    })

    const all = await runAction({ sandbox: s, inputs: { regions: 'all' } })
    expectExit(all, 0)
    expect(all.report?.regions.map((r) => r.region).sort()).toEqual(['eu-west-1', 'us-east-1'])
    expect(all.list('instance-ids')).toEqual(
      sorted([...s.fleet.instances('us-east-1'), ...s.fleet.instances('eu-west-1')].map((i) => i.id))
    )
    expect(s.callsOf('DescribeRegions')).toHaveLength(1)
  })
})

describe('one kind refused in a region', () => {
  it('DescribeKeyPairs denied: the builders are terminated with their true outcome; the region is partial, naming key pairs and why', async () => {
    const fleet = {
      ...generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 21 }),
      ...generateFleet({ region: 'eu-west-1', count: 2, staleFraction: 1, seed: 22 })
    }
    const s = await start({ fleet })
    s.faults.deny({ region: 'eu-west-1', action: 'DescribeKeyPairs' })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: 'us-east-1,eu-west-1', resources: 'instances,key-pairs' }
    })
    // Something failed: the step fails at the end, after everything else was done.
    expectExit(run, 1)
    const west = sorted(s.fleet.instances('eu-west-1').map((i) => i.id))
    expect(changedIds(s)).toEqual(sorted(s.fleet.instances().map((i) => i.id)))
    for (const id of west)
      expect(run.report?.instances.find((i) => i.id === id)).toMatchObject({ outcome: 'terminated' })
    expect(run.report?.regions.find((r) => r.region === 'eu-west-1')).toEqual({
      region: 'eu-west-1',
      status: 'partial',
      matched: 2,
      fresh: 0,
      failures: [
        {
          kind: 'key-pairs',
          code: 'UnauthorizedOperation',
          message: expect.stringContaining('missing IAM permission ec2:DescribeKeyPairs'),
          missingPermission: 'ec2:DescribeKeyPairs'
        }
      ]
    })
    expect(run.report?.regions.find((r) => r.region === 'us-east-1')).toMatchObject({ status: 'ok', failures: [] })
    expect(run.summary).toMatch(
      /<li><code>eu-west-1<\/code>: partly swept: key pairs failed: <code>UnauthorizedOperation: [^<]*ec2:DescribeKeyPairs[^<]*<\/code>; instances swept<\/li>/
    )
    expect(run.summary).toMatch(
      /^<h2>packer-sweeper: 5 stale Packer instances terminated, 1 region partly swept<\/h2>/m
    )
    expect(run.log).toMatch(/^eu-west-1: partly swept: key pairs failed: UnauthorizedOperation: .*; instances swept$/m)
  })
})
