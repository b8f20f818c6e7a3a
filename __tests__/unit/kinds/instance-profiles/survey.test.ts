/**
 * The kind's survey (beside the regions) against the in-process sandbox, through the interface
 * the engine drives: the account's scope with its own IAMClient (engine/account.ts), which reaches
 * the sandbox through AWS_ENDPOINT_URL (as the bundle's does); the regional EC2 clients are the
 * sandbox's.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { accountParts, type AccountParts } from '../../../../src/engine/account.js'
import { GLOBAL_REGION, OVER_CAP, type Scope } from '../../../../src/engine/kind.js'
import { surveyLeftovers, type LeftoverSurvey } from '../../../../src/engine/leftovers.js'
import { DEFAULT_TERMINATION_WAIT } from '../../../../src/engine/termination-wait.js'
import { instanceProfiles } from '../../../../src/kinds/instance-profiles/index.js'
import type { Finding } from '../../../../src/model/types.js'
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
let parts: AccountParts | undefined
let scope: Scope
let clients: EC2Client[]
const endpointBefore = process.env.AWS_ENDPOINT_URL

beforeEach(async () => {
  s = await startSandbox({ regions: REGIONS })
  process.env.AWS_ENDPOINT_URL = s.url
  now = new Date()
  control = watchCancellation(() => undefined, { on: () => undefined, off: () => undefined })
  clients = []
  parts = undefined
})
afterEach(async () => {
  parts?.dispose()
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

/**
 * The survey of a terminate run of instance-profiles sweeping us-east-1 only (so the enabled
 * regions are asked with DescribeRegions), with `terminating` the builders the run will terminate.
 */
async function survey(
  terminating: Promise<ReadonlySet<string>>,
  inputs: Partial<Inputs> = {}
): Promise<LeftoverSurvey> {
  const regional = new Map<string, EC2Client>()
  const ec2For = (region: string) => {
    if (!regional.has(region)) {
      const client = ec2(s, region)
      clients.push(client)
      regional.set(region, client)
    }
    return regional.get(region) as EC2Client
  }
  const all = defaultInputs({
    action: 'terminate',
    resources: ['instance-profiles'],
    regions: ['us-east-1'],
    ...inputs
  })
  const account = { inputs: all, credentials: FAKE_CREDENTIALS, home: 'us-east-1', regions: ['us-east-1'], ec2For }
  // The read phase's deadline, as the run gives it: region-timeout.
  const abortSignal = AbortSignal.any([AbortSignal.timeout(all['region-timeout'] * 1000), control.abandoned])
  parts = accountParts(account, abortSignal)
  const never = new AbortController().signal
  scope = {
    region: GLOBAL_REGION,
    regions: account.regions,
    buildersInEveryState: () => Promise.reject(new Error('no builders in this test')),
    staleBuilders: async () => [],
    inputs: all,
    now,
    ec2For,
    instancesIn: () => undefined,
    enabledRegions: parts.enabledRegions,
    iam: parts.iam,
    terminationWait: DEFAULT_TERMINATION_WAIT,
    onSettled: () => undefined,
    abortSignal,
    cancelled: control.cancelled,
    readBackSignal: () => never
  }
  return surveyLeftovers(scope, [instanceProfiles], terminating)
}

/** What the survey would report when held back by a cap: every finding, no change made. */
function heldBack(surveyed: LeftoverSurvey): Finding[] {
  return surveyed.holdBack('over-cap').get('instance-profiles') ?? []
}

/** The act phase's scope: the account's, without a deadline. */
function actScope(): Scope {
  const never = new AbortController().signal
  return { ...scope, abortSignal: never, cancelled: never, readBackSignal: () => never }
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
  for (const a of calls)
    for (const b of calls) if (a !== b) expect(a?.receivedAt).toBeLessThan(b?.answeredAt ?? -Infinity)
}

describe('the survey reads at once, and waits for the builders only to judge', () => {
  it('every read (lists, details, region list, usage check) is done before the run knows which builders it terminates; the judgement uses them', async () => {
    const name = seedLeftovers()
    s.fleet.seed({ 'eu-west-1': { instances: [{ ref: 'builder', iamInstanceProfile: s.iam.profileRef(name) }] } })
    const builder = s.fleet.byRef('builder').id
    const terminating = deferred<ReadonlySet<string>>()
    const planning = survey(terminating.promise)
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
    const surveyed = await planning
    expect(s.calls).toHaveLength(reads)
    expect(surveyed.changes).toBe(1)
    expect(heldBack(surveyed)).toEqual([expect.objectContaining({ id: name, outcome: 'notified', reason: OVER_CAP })])
    expect(surveyed.runErrors).toEqual([])
    // It waits on the builder: had the run not terminated it after all, the profile stays.
    const settled = await surveyed.act(actScope(), new Set())
    expect(settled.get('instance-profiles')).toEqual([
      expect.objectContaining({
        outcome: 'in-use',
        reason: `still used by ${builder} in eu-west-1, which did not reach terminated`
      })
    ])
    expect(s.calls).toHaveLength(reads)
  })

  it('a builder the run does not terminate keeps its profile', async () => {
    const name = seedLeftovers()
    s.fleet.seed({ 'eu-west-1': { instances: [{ ref: 'live', iamInstanceProfile: s.iam.profileRef(name) }] } })
    const live = s.fleet.byRef('live').id
    const surveyed = await survey(Promise.resolve(new Set<string>()))
    expect(surveyed.changes).toBe(0)
    expect(heldBack(surveyed)).toEqual([
      expect.objectContaining({ outcome: 'skipped', reason: `in use by ${live} in eu-west-1` })
    ])
  })

  it('the region list (regions not all) is asked beside discovery, not before it', async () => {
    seedLeftovers()
    s.faults.slow({ action: 'DescribeRegions', delayMs: 200 })
    s.faults.slow({ service: 'iam', delayMs: 200 })
    expect((await survey(Promise.resolve(new Set<string>()))).changes).toBe(1)
    expectSideBySide([...s.callsOf('DescribeRegions'), ...s.callsOf('ListInstanceProfiles'), ...s.callsOf('ListRoles')])
  })

  it('regions all: the list the run resolved is used, DescribeRegions is not asked again', async () => {
    seedLeftovers()
    expect((await survey(Promise.resolve(new Set<string>()), { regions: 'all' })).changes).toBe(1)
    expect(s.callsOf('DescribeRegions')).toEqual([])
  })
})

describe('a survey that touches nothing', () => {
  it.each([
    ['DescribeRegions denied', [] as string[]],
    ['DescribeRegions and ListRoles denied: only the region list is the error', ['ListRoles']]
  ])('%s: no profile is touched, the run error says why, no usage check', async (_, alsoDenied) => {
    seedLeftovers()
    s.faults.deny({ action: 'DescribeRegions' })
    for (const action of alsoDenied) s.faults.deny({ service: 'iam', action })
    const before = s.iam.snapshot()
    const surveyed = await survey(Promise.resolve(new Set<string>()))
    expect(heldBack(surveyed)).toEqual([])
    expect(surveyed.runErrors).toEqual([expect.stringMatching(NO_REGIONS_MESSAGE)])
    expect(surveyed.runErrors[0]).toContain('ec2:DescribeRegions')
    expect(surveyed.changes).toBe(0)
    expect((await surveyed.act(actScope(), new Set())).get('instance-profiles')).toEqual([])
    expect(s.callsOf('DescribeIamInstanceProfileAssociations')).toEqual([])
    expect(s.calls.filter((call) => call.service === 'iam' && !/^(List|Get)/.test(call.action))).toEqual([])
    expect(s.iam.snapshot()).toEqual(before)
  })

  it('DescribeRegions denied while the builders are not known yet: the plan ends without waiting for them', async () => {
    seedLeftovers()
    s.faults.deny({ action: 'DescribeRegions' })
    const surveyed = await survey(new Promise<ReadonlySet<string>>(() => undefined))
    expect(heldBack(surveyed)).toEqual([])
    expect(surveyed.runErrors).toEqual([expect.stringMatching(NO_REGIONS_MESSAGE)])
  })

  it('IAM silent past region-timeout: not read in time, nothing acted on', async () => {
    seedLeftovers()
    s.faults.silence({ service: 'iam', action: 'ListRoles' })
    const surveyed = await survey(Promise.resolve(new Set<string>()), { 'region-timeout': 1 })
    expect(heldBack(surveyed)).toEqual([])
    expect(surveyed.runErrors).toEqual([
      'IAM instance profiles were not read within region-timeout: nothing of them was acted on'
    ])
  })
})
