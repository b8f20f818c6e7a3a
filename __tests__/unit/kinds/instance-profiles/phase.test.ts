/**
 * The global phase against the in-process sandbox: the phase's own IAMClient reaches it through
 * AWS_ENDPOINT_URL (as the bundle's does), the regional EC2 clients are the sandbox's.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { startInstanceProfilePhase, type InstanceProfilePhase } from '../../../../src/kinds/instance-profiles/phase.js'
import { watchCancellation, type RunControl } from '../../../../src/engine/run-control.js'
import type { Inputs } from '../../../../src/model/types.js'
import { packerIamLeftovers, startSandbox, type CallRecord, type Sandbox } from '../../../../sandbox/index.js'
import { ec2, FAKE_CREDENTIALS } from '../../../sandbox/sdk.js'
import { defaultInputs } from '../../../../__fixtures__/support.js'

const REGIONS = ['us-east-1', 'eu-west-1']
const NO_REGIONS_MESSAGE =
  /^IAM instance profiles: which regions to check for instances using them is unknown, so none was touched: regions: all could not be resolved: /

let s: Sandbox
let now: Date
let control: RunControl
let phase: InstanceProfilePhase | undefined
let clients: EC2Client[]
const endpointBefore = process.env.AWS_ENDPOINT_URL

beforeEach(async () => {
  s = await startSandbox({ regions: REGIONS })
  process.env.AWS_ENDPOINT_URL = s.url
  now = new Date()
  control = watchCancellation(() => undefined, { on: () => undefined, off: () => undefined })
  clients = []
  phase = undefined
})
afterEach(async () => {
  phase?.dispose()
  clients.forEach((client) => client.destroy())
  control.dispose()
  if (endpointBefore === undefined) delete process.env.AWS_ENDPOINT_URL
  else process.env.AWS_ENDPOINT_URL = endpointBefore
  await s.close()
})

/** One build's full set of leftovers, 3 hours old; answers its name. */
function seedLeftovers(): string {
  const seed = packerIamLeftovers({ ageSeconds: 3 * 3600, state: 'full', now: now.getTime() })
  s.iam.seed(seed, now.getTime())
  return seed.name
}

/** A terminate run of instance-profiles sweeping us-east-1 only (so the enabled regions are asked with DescribeRegions). */
async function start(inputs: Partial<Inputs> = {}): Promise<InstanceProfilePhase> {
  const regional = new Map<string, EC2Client>()
  const ec2For = (region: string) => {
    if (!regional.has(region)) {
      const client = ec2(s, region)
      clients.push(client)
      regional.set(region, client)
    }
    return regional.get(region) as EC2Client
  }
  phase = await startInstanceProfilePhase({
    inputs: defaultInputs({ action: 'terminate', resources: ['instance-profiles'], regions: ['us-east-1'], ...inputs }),
    now,
    credentials: FAKE_CREDENTIALS,
    home: 'us-east-1',
    regions: ['us-east-1'],
    ec2For,
    control,
    readBackSignal: () => new AbortController().signal,
    onSettled: () => undefined,
    instancesIn: () => undefined
  })
  return phase
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve: (value: T) => void = () => undefined
  const promise = new Promise<T>((done) => (resolve = done))
  return { promise, resolve }
}

/** Waits (a few seconds at most) until the sandbox has answered `action` `count` times. */
async function answered(action: string, count = 1): Promise<void> {
  const done = () => s.callsOf(action).filter((call) => call.outcome === 'answered').length >= count
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(s.callsOf(action).filter((call) => call.outcome === 'answered')).toHaveLength(count)
}

/** Each call was received before every other one was answered: they were in flight together. */
function expectSideBySide(calls: readonly (CallRecord | undefined)[]): void {
  for (const a of calls) for (const b of calls) if (a !== b) expect(a?.receivedAt).toBeLessThan(b?.answeredAt ?? -Infinity)
}

describe('the plan reads at once, and waits for the builders only to judge', () => {
  it('every read (lists, details, region list, usage check) is done before the run knows which builders it terminates; the judgement uses them', async () => {
    const name = seedLeftovers()
    s.fleet.seed({ 'eu-west-1': { instances: [{ ref: 'builder', iamInstanceProfile: s.iam.profileRef(name) }] } })
    const builder = s.fleet.byRef('builder').id
    const iam = await start()
    const terminating = deferred<ReadonlySet<string>>()
    const planning = iam.plan(terminating.promise)
    // The usage check asks every enabled region, the last read of the plan: all of it before `terminating` is known.
    await answered('DescribeIamInstanceProfileAssociations', REGIONS.length)
    for (const action of [
      'DescribeRegions',
      'ListInstanceProfiles',
      'ListRoles',
      'ListInstanceProfileTags',
      'ListRoleTags',
      'ListRolePolicies',
      'ListAttachedRolePolicies'
    ])
      expect(s.callsOf(action)).toHaveLength(1)
    const reads = s.calls.length
    terminating.resolve(new Set([builder]))
    const plan = await planning
    expect(s.calls).toHaveLength(reads)
    expect(plan.planned).toEqual([expect.objectContaining({ verdict: 'orphan', dependsOn: [{ instanceId: builder, region: 'eu-west-1' }] })])
    expect(plan.errors).toEqual([])
    expect(iam.errors).toEqual([])
  })

  it('a builder the run does not terminate keeps its profile', async () => {
    const name = seedLeftovers()
    s.fleet.seed({ 'eu-west-1': { instances: [{ ref: 'live', iamInstanceProfile: s.iam.profileRef(name) }] } })
    const live = s.fleet.byRef('live').id
    const plan = await (await start()).plan(Promise.resolve(new Set<string>()))
    expect(plan.planned).toEqual([expect.objectContaining({ verdict: 'skip', skipReason: `in use by ${live} in eu-west-1` })])
  })

  it('the region list (regions not all) is asked beside discovery, not before it', async () => {
    seedLeftovers()
    s.faults.slow({ action: 'DescribeRegions', delayMs: 200 })
    s.faults.slow({ service: 'iam', delayMs: 200 })
    const plan = await (await start()).plan(Promise.resolve(new Set<string>()))
    expect(plan.planned).toEqual([expect.objectContaining({ verdict: 'orphan' })])
    expectSideBySide([...s.callsOf('DescribeRegions'), ...s.callsOf('ListInstanceProfiles'), ...s.callsOf('ListRoles')])
  })

  it('regions all: the list the run resolved is used, DescribeRegions is not asked again', async () => {
    seedLeftovers()
    const plan = await (await start({ regions: 'all' })).plan(Promise.resolve(new Set<string>()))
    expect(plan.planned).toEqual([expect.objectContaining({ verdict: 'orphan' })])
    expect(s.callsOf('DescribeRegions')).toEqual([])
  })
})

describe('a plan that touches nothing', () => {
  it.each([
    ['DescribeRegions denied', [] as string[]],
    ['DescribeRegions and ListRoles denied: only the region list is the error', ['ListRoles']]
  ])('%s: no profile is touched, the run error says why, no usage check', async (_, alsoDenied) => {
    seedLeftovers()
    s.faults.deny({ action: 'DescribeRegions' })
    for (const action of alsoDenied) s.faults.deny({ service: 'iam', action })
    const before = s.iam.snapshot()
    const iam = await start()
    const plan = await iam.plan(Promise.resolve(new Set<string>()))
    expect(plan).toEqual({ planned: [], errors: [] })
    expect(iam.errors).toEqual([expect.stringMatching(NO_REGIONS_MESSAGE)])
    expect(iam.errors[0]).toContain('ec2:DescribeRegions')
    expect(iam.changes(plan)).toBe(0)
    expect(await iam.settle(plan, new Set())).toEqual([])
    expect(s.callsOf('DescribeIamInstanceProfileAssociations')).toEqual([])
    expect(s.calls.filter((call) => call.service === 'iam' && !/^(List|Get)/.test(call.action))).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it('DescribeRegions denied while the builders are not known yet: the plan ends without waiting for them', async () => {
    seedLeftovers()
    s.faults.deny({ action: 'DescribeRegions' })
    const iam = await start()
    const plan = await iam.plan(new Promise<ReadonlySet<string>>(() => undefined))
    expect(plan).toEqual({ planned: [], errors: [] })
    expect(iam.errors).toEqual([expect.stringMatching(NO_REGIONS_MESSAGE)])
  })

  it('IAM silent past region-timeout: not read in time, nothing acted on', async () => {
    seedLeftovers()
    s.faults.silence({ service: 'iam', action: 'ListRoles' })
    const iam = await start({ 'region-timeout': 1 })
    const plan = await iam.plan(Promise.resolve(new Set<string>()))
    expect(plan).toEqual({ planned: [], errors: [] })
    expect(iam.errors).toEqual(['IAM instance profiles were not read within region-timeout: nothing of them was acted on'])
  })
})
