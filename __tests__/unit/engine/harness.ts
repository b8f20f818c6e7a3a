/**
 * What every leftover sweep test sets up against the in-process sandbox: a fresh sandbox per test
 * (pages of 2, so every describe goes through the SDK paginators), a real EC2Client pointed at it,
 * a scope, the engine driven as engine/sweep.ts drives it (survey, then act or hold back), and
 * the calls the sandbox received decoded back to SDK-like inputs.
 */
import { listBuildersInEveryState } from '../../../src/engine/discovery.js'
import {
  instancePassQueries,
  isRegionalLeftoverKind,
  selectedKinds,
  type HeldBack,
  type LeftoverKindModule,
  type Scope
} from '../../../src/engine/kind.js'
import { KIND_MODULES } from '../../../src/kinds/registry.js'
import { afterEach, beforeEach } from '@jest/globals'
import { EC2Client, type Filter } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import { listLiveInstances, type LiveInstances } from '../../../src/engine/instance-usage.js'
import { surveyLeftovers, type LeftoverSurvey } from '../../../src/engine/leftovers.js'
import type { Finding, Inputs, OrphanFinding } from '../../../src/model/types.js'
import { type CallRecord, type RegionSeed, type Sandbox, startSandbox } from '../../../sandbox/index.js'
import { defaultInputs, NOW } from '../../../__fixtures__/support.js'

export const REGION = 'us-east-1'

/** Test-speed waits: a stuck instance gives up after two seconds, not five minutes. */
export const QUICK_WAIT = { maxWaitSeconds: 2, minDelaySeconds: 1, maxDelaySeconds: 1 }

/** A real EC2Client against `sandbox`, without retries (a fault answers once, as the test set it). */
export function sandboxClient(sandbox: Sandbox): EC2Client {
  return new EC2Client({
    region: REGION,
    endpoint: sandbox.url,
    credentials: { accessKeyId: 'AKIASANDBOXUNIT00001', secretAccessKey: 'sandbox-secret' },
    maxAttempts: 1
  })
}

export interface SandboxHandle {
  sandbox: () => Sandbox
  /** Seeds the test region; ages are measured back from NOW. */
  seed: (seed: RegionSeed) => void
}

let current: Sandbox | undefined
const clients: EC2Client[] = []

/** Registers a fresh sandbox per test; call it at the top of a test file. */
export function useSandbox(): SandboxHandle {
  beforeEach(async () => {
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
    current = await startSandbox({ regions: [REGION], pageSize: 2 })
  })
  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy()
    await current?.close()
    current = undefined
  })
  const sandbox = () => {
    if (!current) throw new Error('no sandbox: useSandbox() registers one per test')
    return current
  }
  return { sandbox, seed: (seed) => sandbox().fleet.seed({ [REGION]: seed }, NOW.getTime()) }
}

/** The engine's kinds and the scope it plans and acts in, as engine/sweep.ts hands them over. */
export interface LeftoverRun {
  kinds: readonly LeftoverKindModule[]
  scope: Scope
}

/**
 * A scope of one phase for tests: no deadline, never cancelled, each region listed at most once
 * (with every selected kind's question, as the run's one pass), and no IAM.
 */
export function testScope(
  fields: Pick<Scope, 'region' | 'inputs' | 'now' | 'ec2For'> & Partial<Scope>,
  kinds: readonly LeftoverKindModule[] = []
): Scope {
  const never = new AbortController().signal
  const listings = new Map<string, Promise<LiveInstances>>()
  const queries = instancePassQueries(kinds)
  return {
    abortSignal: never,
    cancelled: never,
    readBackSignal: () => never,
    instancesIn(region) {
      if (queries.length === 0) return undefined
      const listing = listings.get(region) ?? listLiveInstances(fields.ec2For(region), { queries })
      listings.set(region, listing)
      return listing
    },
    regions: [fields.region],
    buildersInEveryState: (region) => listBuildersInEveryState(fields.ec2For(region), fields.inputs),
    staleBuilders: async () => [],
    enabledRegions: async () => [fields.region],
    iam: () => Promise.reject<IAMClient>(new Error('no IAM in this test')),
    terminationWait: QUICK_WAIT,
    onSettled: () => undefined,
    ...fields
  }
}

/** A terminate run over `resources` with action.yml's other defaults, against this test's sandbox. */
export function orphanContext(inputs: Partial<Inputs> = {}, overrides: Partial<Scope> = {}): LeftoverRun {
  if (!current) throw new Error('no sandbox: useSandbox() registers one per test')
  const client = sandboxClient(current)
  clients.push(client)
  const all = defaultInputs({
    resources: ['key-pairs', 'security-groups', 'launch-templates'],
    action: 'terminate',
    ...inputs
  })
  const kinds = regionalKindsFor(all)
  return {
    kinds,
    scope: testScope({ region: REGION, inputs: all, now: NOW, ec2For: () => client, ...overrides }, kinds)
  }
}

/** The survey, as the core makes it: `terminating` = the builders the run will terminate. */
export function planLeftovers(
  run: LeftoverRun,
  terminating: Iterable<string> | Promise<ReadonlySet<string>> = []
): Promise<LeftoverSurvey> {
  const builders = terminating instanceof Promise ? terminating : Promise.resolve(new Set(terminating))
  return surveyLeftovers(run.scope, run.kinds, builders)
}

/** The survey carried out as if the core had terminated `terminated`: every finding, in kind then plan order. */
export async function actOn(
  run: LeftoverRun,
  survey: LeftoverSurvey,
  terminated: Iterable<string> = []
): Promise<OrphanFinding[]> {
  return flat(await survey.act(run.scope, new Set(terminated)))
}

/** The survey held back (a cap: `over-cap`, or a cancellation): every finding, no call made. */
export function heldBack(survey: LeftoverSurvey, why: HeldBack = 'over-cap'): OrphanFinding[] {
  return flat(survey.holdBack(why))
}

function flat(byKind: ReadonlyMap<string, readonly Finding[]>): OrphanFinding[] {
  return findingsOf(byKind, isLeftoverFinding)
}

/** Every kind's findings in one list, those `is` accepts (each kind's list in the engine's order). */
export function findingsOf<F extends Finding>(
  byKind: ReadonlyMap<string, readonly Finding[]>,
  is: (finding: Finding) => finding is F
): F[] {
  return [...byKind.values()].flat().filter(is)
}

function isLeftoverFinding(finding: Finding): finding is OrphanFinding {
  return 'kind' in finding
}

/** Plans with `terminating`, then sweeps as if the core had terminated `terminated`. */
export async function planAndSweep(run: LeftoverRun, terminating: string[] = [], terminated = terminating) {
  const plan = await planLeftovers(run, terminating)
  return { plan, findings: await actOn(run, plan, terminated) }
}

/** A call's form parameters back as the SDK input they came from (the parameters this sweep sends). */
export interface CallInput {
  Filters?: Filter[]
  InstanceIds?: string[]
  MaxResults?: number
  NextToken?: string
  DryRun?: boolean
  [name: string]: unknown
}

export function inputOf(call: CallRecord): CallInput {
  const input: CallInput = {}
  const filters: Filter[] = []
  for (const [name, value] of Object.entries(call.params)) {
    if (name === 'Action' || name === 'Version') continue
    let m = /^Filter\.(\d+)\.Name$/.exec(name)
    if (m) {
      ;(filters[Number(m[1]) - 1] ??= {}).Name = value
      continue
    }
    m = /^Filter\.(\d+)\.Value\.(\d+)$/.exec(name)
    if (m) {
      const filter = (filters[Number(m[1]) - 1] ??= {})
      ;(filter.Values ??= [])[Number(m[2]) - 1] = value
      continue
    }
    m = /^InstanceId\.(\d+)$/.exec(name)
    if (m) {
      ;(input.InstanceIds ??= [])[Number(m[1]) - 1] = value
      continue
    }
    if (name === 'MaxResults') input.MaxResults = Number(value)
    else if (name === 'DryRun') input.DryRun = value === 'true'
    else input[name] = value
  }
  if (filters.length > 0) input.Filters = filters.map(({ Name, Values }) => ({ Name, Values }))
  return input
}

/** The inputs of every call of `action` the sandbox received, in order. */
export function inputsOf(sandbox: Sandbox, action: string): CallInput[] {
  return sandbox.callsOf(action, REGION).map(inputOf)
}

/** The regional leftover kinds `inputs` select, as main.ts hands them to the engine. */
export function regionalKindsFor(inputs: Pick<Inputs, 'resources'>): LeftoverKindModule[] {
  return selectedKinds(KIND_MODULES.filter(isRegionalLeftoverKind), inputs.resources)
}
