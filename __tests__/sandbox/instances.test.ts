/**
 * The sandbox's EC2 instance API, driven through the real SDK v3 client so that serialization,
 * XML parsing, pagination tokens and error codes round-trip exactly as the action sees them.
 */
import {
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  waitUntilInstanceTerminated,
  type Instance
} from '@aws-sdk/client-ec2'
import { afterEach, describe, expect, it } from '@jest/globals'
import { generateFleet, packerName, startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js'
import { ec2, errorOf } from './sdk.js'

let sandbox: Sandbox | undefined
afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

async function start(options: SandboxOptions): Promise<Sandbox> {
  sandbox = await startSandbox(options)
  return sandbox
}

async function describeAll(
  s: Sandbox,
  region: string,
  filters: Array<{ Name: string; Values: string[] }> = []
): Promise<Instance[]> {
  const found: Instance[] = []
  for await (const page of paginateDescribeInstances(
    { client: ec2(s, region), pageSize: 1000 },
    { Filters: filters, MaxResults: 1000 }
  )) {
    for (const r of page.Reservations ?? []) found.push(...(r.Instances ?? []))
  }
  return found
}

const ids = (list: Instance[]) => list.map((i) => i.InstanceId).sort()

describe('DescribeInstances', () => {
  it('returns every field the sweep reads, parsed by the SDK', async () => {
    const s = await start({
      fleet: {
        'eu-west-1': {
          instances: [
            {
              id: 'i-0123456789abcdef0',
              keyName: 'packer_x',
              age: '3h',
              lifecycle: 'spot',
              availabilityZone: 'eu-west-1b',
              tags: { Name: 'a <b> & "c"' },
              securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa']
            }
          ],
          securityGroups: [
            { groupId: 'sg-0aaaaaaaaaaaaaaaa', groupName: 'packer_1', description: 'Temporary group for Packer' }
          ]
        }
      }
    })
    const [instance] = await describeAll(s, 'eu-west-1')
    expect(instance).toMatchObject({
      InstanceId: 'i-0123456789abcdef0',
      KeyName: 'packer_x',
      State: { Code: 16, Name: 'running' },
      InstanceLifecycle: 'spot',
      Placement: { AvailabilityZone: 'eu-west-1b' },
      Tags: [{ Key: 'Name', Value: 'a <b> & "c"' }],
      SecurityGroups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaaa', GroupName: 'packer_1' }]
    })
    const age = Date.now() - (instance?.LaunchTime as Date).getTime()
    expect(Math.round(age / 3600_000)).toBe(3)
    // Regions are separate: the same endpoint answers nothing for another region.
    expect(await describeAll(s, 'us-east-1')).toEqual([])
    expect(s.calls.map((c) => [c.service, c.action, c.region, c.accessKeyId])).toEqual([
      ['ec2', 'DescribeInstances', 'eu-west-1', 'AKIASANDBOXTEST00001'],
      ['ec2', 'DescribeInstances', 'us-east-1', 'AKIASANDBOXTEST00001']
    ])
  })

  it('applies filters with AWS semantics: wildcards, values ORed, filters ANDed, case-sensitive', async () => {
    const s = await start({
      fleet: {
        'us-east-1': {
          instances: [
            { id: 'i-00000001', keyName: 'packer_1', state: 'running', tags: { run: '42', team: 'img' } },
            { id: 'i-00000002', keyName: 'packer_2', state: 'stopped', tags: { run: '43' } },
            { id: 'i-00000003', keyName: 'Packer_3', state: 'running' },
            { id: 'i-00000004', keyName: 'deploy', state: 'running', tags: { run: '42' } },
            { id: 'i-00000005', keyName: 'packer_5', state: 'terminated', lifecycle: 'spot' },
            { id: 'i-00000006', state: 'running', lifecycle: 'spot', tags: { 'packer-sweeper:keep': '' } }
          ]
        }
      }
    })
    const f = (Name: string, ...Values: string[]) => ({ Name, Values })
    expect(ids(await describeAll(s, 'us-east-1', [f('key-name', 'packer_*')]))).toEqual([
      'i-00000001',
      'i-00000002',
      'i-00000005'
    ])
    expect(
      ids(
        await describeAll(s, 'us-east-1', [f('key-name', 'packer_?'), f('instance-state-name', 'running', 'stopped')])
      )
    ).toEqual(['i-00000001', 'i-00000002'])
    expect(ids(await describeAll(s, 'us-east-1', [f('tag:run', '4?')]))).toEqual([
      'i-00000001',
      'i-00000002',
      'i-00000004'
    ])
    expect(ids(await describeAll(s, 'us-east-1', [f('tag:run', '42'), f('key-name', 'packer_*', 'deploy')]))).toEqual([
      'i-00000001',
      'i-00000004'
    ])
    expect(ids(await describeAll(s, 'us-east-1', [f('tag-key', 'packer-sweeper:*')]))).toEqual(['i-00000006'])
    expect(ids(await describeAll(s, 'us-east-1', [f('instance-lifecycle', 'spot')]))).toEqual([
      'i-00000005',
      'i-00000006'
    ])
    expect(ids(await describeAll(s, 'us-east-1', [f('instance-id', 'i-0000000[1]')]))).toEqual([])
    expect(ids(await describeAll(s, 'us-east-1', [f('instance-id', 'i-00000003')]))).toEqual(['i-00000003'])
    const bad = await errorOf(describeAll(s, 'us-east-1', [f('colour', 'red')]))
    expect(bad).toMatchObject({ name: 'InvalidParameterValue', message: "The filter 'colour' is invalid" })
  })

  it('pages with MaxResults and NextToken, cuts unpaginated answers at 1000, refuses bad page sizes', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-2', count: 2500, seed: 3 }) })
    const pages: number[] = []
    for await (const page of paginateDescribeInstances(
      { client: ec2(s, 'us-east-2'), pageSize: 1000 },
      { MaxResults: 1000 }
    )) {
      pages.push((page.Reservations ?? []).reduce((n, r) => n + (r.Instances?.length ?? 0), 0))
    }
    expect(pages).toEqual([1000, 1000, 500])
    expect(new Set(ids(await describeAll(s, 'us-east-2'))).size).toBe(2500)
    const unpaginated = await ec2(s, 'us-east-2').send(new DescribeInstancesCommand({}))
    expect(unpaginated.Reservations).toHaveLength(1000)
    expect(unpaginated.NextToken).toBeDefined()
    expect(await errorOf(ec2(s, 'us-east-2').send(new DescribeInstancesCommand({ MaxResults: 4 })))).toMatchObject({
      name: 'InvalidParameterValue'
    })
    expect(
      await errorOf(ec2(s, 'us-east-2').send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: 'bm9wZQ==' })))
    ).toMatchObject({
      name: 'InvalidPaginationToken'
    })
    const both = ec2(s, 'us-east-2').send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: ['i-00000001'] }))
    expect(await errorOf(both)).toMatchObject({ name: 'InvalidParameterCombination' })
  })

  it('answers every one of 10,000 matching instances per region in four regions at once', async () => {
    const regions = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-south-1']
    const s = await start({
      fleet: Object.assign(
        {},
        ...regions.map((region) => generateFleet({ region, count: 10_000, staleFraction: 0.3, seed: 7 }))
      )
    })
    const counts = await Promise.all(
      regions.map(async (r) => (await describeAll(s, r, [{ Name: 'key-name', Values: ['packer_*'] }])).length)
    )
    expect(counts).toEqual([10_000, 10_000, 10_000, 10_000])
  })
})

describe('TerminateInstances and StopInstances', () => {
  const fleet = (): SandboxOptions => ({
    fleet: {
      'us-east-1': {
        instances: [
          { id: 'i-0000000a', availabilityZone: 'us-east-1a' },
          { id: 'i-0000000b', availabilityZone: 'us-east-1a', disableApiTermination: true },
          { id: 'i-0000000c', availabilityZone: 'us-east-1b' },
          { id: 'i-0000000d', lifecycle: 'spot' },
          { id: 'i-0000000e', disableApiStop: true },
          { id: 'i-0000000f', state: 'stopped' },
          { id: 'i-00000010', rootDeviceType: 'instance-store' },
          { id: 'i-00000011', state: 'pending' }
        ]
      }
    }
  })

  it('terminates, then reports shutting-down and terminated; terminating again is fine; the waiter works', async () => {
    const s = await start(fleet())
    const client = ec2(s)
    const out = await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a', 'i-0000000f'] }))
    expect(out.TerminatingInstances).toEqual([
      {
        InstanceId: 'i-0000000a',
        CurrentState: { Code: 32, Name: 'shutting-down' },
        PreviousState: { Code: 16, Name: 'running' }
      },
      {
        InstanceId: 'i-0000000f',
        CurrentState: { Code: 32, Name: 'shutting-down' },
        PreviousState: { Code: 80, Name: 'stopped' }
      }
    ])
    const waited = await waitUntilInstanceTerminated(
      { client, maxWaitTime: 10, minDelay: 1 },
      { InstanceIds: ['i-0000000a', 'i-0000000f'] }
    )
    expect(waited.state).toBe('SUCCESS')
    const again = await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a'] }))
    expect(again.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('terminated')
    expect(s.fleet.instance('i-0000000a')?.history).toEqual(['running', 'shutting-down', 'terminated'])
  })

  it('refuses the whole call for an unknown or malformed ID', async () => {
    const s = await start(fleet())
    const unknown = await errorOf(
      ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a', 'i-0000ffff'] }))
    )
    expect(unknown).toMatchObject({
      name: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-0000ffff' does not exist"
    })
    const malformed = await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000a', 'nope'] })))
    expect(malformed).toMatchObject({ name: 'InvalidInstanceID.Malformed' })
    // Instances live in one region only.
    const elsewhere = await errorOf(
      ec2(s, 'us-west-2').send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a'] }))
    )
    expect(elsewhere.name).toBe('InvalidInstanceID.NotFound')
    expect(s.fleet.instance('i-0000000a')?.state).toBe('running')
  })

  it('termination protection fails the call and spares the protected instance’s zone only', async () => {
    const s = await start(fleet())
    const refused = await errorOf(
      ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a', 'i-0000000b', 'i-0000000c'] }))
    )
    expect(refused).toEqual({
      name: 'OperationNotPermitted',
      message:
        "The instance 'i-0000000b' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
      status: 400
    })
    expect(['i-0000000a', 'i-0000000b', 'i-0000000c'].map((id) => s.fleet.instance(id)?.state)).toEqual([
      'running',
      'running',
      'terminated'
    ])
    // A termination-protected instance can be stopped.
    await ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000b'] }))
    expect(s.fleet.instance('i-0000000b')?.state).toBe('stopped')
  })

  it('refuses to stop spot, stop-protected, instance-store and pending instances, atomically; stopping a stopped one is fine', async () => {
    const s = await start(fleet())
    const spot = await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000a', 'i-0000000d'] })))
    expect(spot).toMatchObject({
      name: 'UnsupportedOperation',
      message: expect.stringContaining("You can't stop the Spot Instance 'i-0000000d'")
    })
    expect(s.fleet.instance('i-0000000a')?.state).toBe('running')
    expect(await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000e'] })))).toMatchObject({
      name: 'OperationNotPermitted'
    })
    expect(await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-00000010'] })))).toMatchObject({
      name: 'UnsupportedOperation'
    })
    expect(await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-00000011'] })))).toMatchObject({
      name: 'IncorrectInstanceState'
    })
    const ok = await ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000a', 'i-0000000f'] }))
    expect(ok.StoppingInstances?.map((i) => i.CurrentState?.Name)).toEqual(['stopping', 'stopped'])
    expect(s.fleet.instance('i-0000000a')?.state).toBe('stopped')
  })

  it('DryRun answers DryRunOperation when allowed and UnauthorizedOperation when denied, changing nothing', async () => {
    const s = await start(fleet())
    const allowed = await errorOf(
      ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a'], DryRun: true }))
    )
    expect(allowed).toMatchObject({ name: 'DryRunOperation', status: 412 })
    s.faults.deny({ action: 'StopInstances' })
    const denied = await errorOf(ec2(s).send(new StopInstancesCommand({ InstanceIds: ['i-0000000a'], DryRun: true })))
    expect(denied).toMatchObject({
      name: 'UnauthorizedOperation',
      status: 403,
      message: expect.stringContaining('ec2:StopInstances')
    })
    expect(s.fleet.instance('i-0000000a')?.history).toEqual(['running'])
  })

  it('keeps instances in their intermediate state for transitionDelayMs', async () => {
    const s = await start({ ...fleet(), transitionDelayMs: 60_000 })
    await ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-0000000a'] }))
    expect(s.fleet.instance('i-0000000a')?.state).toBe('shutting-down')
  })

  it('keeps a pending or stopping instance in that state for terminationLagMs after TerminateInstances, then shutting-down, then terminated', async () => {
    const s = await start({ ...fleet(), transitionDelayMs: 60_000, terminationLagMs: 60_000 })
    await ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000011', 'i-0000000a'] }))
    expect(s.fleet.instance('i-00000011')?.state).toBe('pending')
    // A retry does not restart the lag; a running instance is not lagged.
    await ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000011'] }))
    expect(s.fleet.instance('i-00000011')?.history).toEqual(['pending'])
    expect(s.fleet.instance('i-0000000a')?.state).toBe('shutting-down')
    await s.close()

    const quick = await start({ ...fleet(), transitionDelayMs: 10, terminationLagMs: 10 })
    await ec2(quick).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000011'] }))
    await new Promise((done) => setTimeout(done, 100))
    expect(quick.fleet.instance('i-00000011')?.history).toEqual(['pending', 'shutting-down', 'terminated'])
  })
})

describe('DescribeRegions', () => {
  it('lists the enabled regions, and with AllRegions the opt-in ones too', async () => {
    const s = await start({ regions: ['us-east-1', 'eu-west-1'], notOptedIn: ['af-south-1'] })
    const enabled = await ec2(s).send(new DescribeRegionsCommand({}))
    expect(enabled.Regions?.map((r) => r.RegionName)).toEqual(['us-east-1', 'eu-west-1'])
    const all = await ec2(s).send(new DescribeRegionsCommand({ AllRegions: true }))
    expect(all.Regions?.map((r) => [r.RegionName, r.OptInStatus])).toEqual([
      ['us-east-1', 'opt-in-not-required'],
      ['eu-west-1', 'opt-in-not-required'],
      ['af-south-1', 'not-opted-in']
    ])
    s.faults.disableRegion('eu-west-1')
    const after = await ec2(s).send(new DescribeRegionsCommand({}))
    expect(after.Regions?.map((r) => r.RegionName)).toEqual(['us-east-1'])
  })
})

describe('fleet seeds', () => {
  it('derives Packer names whose first 8 hex digits are the build start in Unix seconds', () => {
    const now = Date.UTC(2025, 0, 1)
    const name = packerName(3600, now)
    expect(name).toMatch(/^packer_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(parseInt(name.slice(7, 15), 16)).toBe(now / 1000 - 3600)
  })

  it('generates reproducible fleets with the requested share of stale builders', () => {
    const a = generateFleet({ region: 'us-east-1', count: 1000, staleFraction: 0.25, seed: 9 })
    const b = generateFleet({ region: 'us-east-1', count: 1000, staleFraction: 0.25, seed: 9 })
    expect(a['us-east-1']?.instances?.map((i) => i.id)).toEqual(b['us-east-1']?.instances?.map((i) => i.id))
    const stale = a['us-east-1']?.instances?.filter((i) => i.ref?.startsWith('stale')).length ?? 0
    expect(stale).toBeGreaterThan(200)
    expect(stale).toBeLessThan(300)
  })
})
