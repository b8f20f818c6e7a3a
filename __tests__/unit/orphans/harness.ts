/** What every orphan sweep test sets up: a fresh fake EC2 per test, a context, plan-then-sweep. */
import { afterEach, beforeEach } from '@jest/globals'
import { EC2Client } from '@aws-sdk/client-ec2'
import { type OrphanContext, planOrphans, sweepOrphans } from '../../../src/orphans/index.js'
import type { Inputs } from '../../../src/types.js'
import { ec2, emptyWorld, type FakeWorld, installFakeEc2, QUICK_WAIT } from './fake-ec2.js'
import { defaultInputs, NOW } from '../../../__fixtures__/support.js'

/** Registers a fresh world per test; call it in a describe or at the top of a test file. */
export function useFakeEc2(): { world: () => FakeWorld } {
  let world = emptyWorld()
  beforeEach(() => {
    ec2.reset()
    world = emptyWorld()
    installFakeEc2(world)
  })
  afterEach(() => {
    ec2.reset()
  })
  return { world: () => world }
}

/** A terminate run over `resources` with action.yml's other defaults. */
export function orphanContext(inputs: Partial<Inputs> = {}): OrphanContext {
  return {
    client: new EC2Client({ region: 'us-east-1' }),
    region: 'us-east-1',
    inputs: defaultInputs({ resources: ['key-pairs', 'security-groups', 'launch-templates'], action: 'terminate', ...inputs }),
    now: NOW,
    terminationWait: QUICK_WAIT
  }
}

/** Plans with `terminating`, then sweeps as if the core had terminated `terminated`. */
export async function planAndSweep(ctx: OrphanContext, terminating: string[] = [], terminated = terminating) {
  const plan = await planOrphans(ctx, new Set(terminating))
  return { plan, findings: await sweepOrphans(ctx, plan, new Set(terminated)) }
}
