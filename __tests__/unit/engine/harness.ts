/**
 * What every orphan sweep test sets up against the in-process sandbox: a fresh sandbox per test
 * (pages of 2, so every describe goes through the SDK paginators), a real EC2Client pointed at it,
 * a context, plan-then-sweep, and the calls the sandbox received decoded back to SDK-like inputs.
 */
import { isRegionalLeftoverKind, selectedKinds, type RegionalLeftoverKind } from '../../../src/engine/kind.js'
import { KIND_MODULES } from '../../../src/kinds/registry.js'
import { afterEach, beforeEach } from '@jest/globals'
import { EC2Client, type Filter } from '@aws-sdk/client-ec2'
import { type OrphanContext, planOrphans, sweepOrphans } from '../../../src/engine/leftovers.js'
import type { Inputs } from '../../../src/model/types.js'
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

/** A terminate run over `resources` with action.yml's other defaults, against this test's sandbox. */
export function orphanContext(inputs: Partial<Inputs> = {}): OrphanContext {
  if (!current) throw new Error('no sandbox: useSandbox() registers one per test')
  const client = sandboxClient(current)
  clients.push(client)
  const all = defaultInputs({
    resources: ['key-pairs', 'security-groups', 'launch-templates'],
    action: 'terminate',
    ...inputs
  })
  return {
    kinds: regionalKindsFor(all),
    client,
    region: REGION,
    inputs: all,
    now: NOW,
    terminationWait: QUICK_WAIT
  }
}

/** Plans with `terminating`, then sweeps as if the core had terminated `terminated`. */
export async function planAndSweep(ctx: OrphanContext, terminating: string[] = [], terminated = terminating) {
  const plan = await planOrphans(ctx, new Set(terminating))
  return { plan, findings: await sweepOrphans(ctx, plan, new Set(terminated)) }
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
export function regionalKindsFor(inputs: Pick<Inputs, 'resources'>): RegionalLeftoverKind[] {
  return selectedKinds(KIND_MODULES.filter(isRegionalLeftoverKind), inputs.resources)
}

/** Every regional leftover kind (what reportOnly looks nouns up in). */
export const REGIONAL_KINDS: readonly RegionalLeftoverKind[] = KIND_MODULES.filter(isRegionalLeftoverKind)
