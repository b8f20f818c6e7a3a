/**
 * The IAM kind driven through the one leftover engine as engine/sweep.ts drives it (survey, then
 * act or hold back), in the account's scope: its IAM client, the enabled regions and each
 * region's EC2 client given by the test.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import { GLOBAL_REGION, type HeldBack, type Scope } from '../../../../src/engine/kind.js'
import { surveyLeftovers, type LeftoverSurvey } from '../../../../src/engine/leftovers.js'
import { instanceProfiles } from '../../../../src/kinds/instance-profiles/index.js'
import type { IamFinding } from '../../../../src/kinds/instance-profiles/rules.js'
import type { Finding, Inputs } from '../../../../src/model/types.js'
import { findingsOf, type LeftoverRun } from '../../engine/harness.js'

/** What an IAM test gives the account's scope; the rest are a test's defaults (no deadline, never cancelled). */
export interface IamScopeFields {
  iam: IAMClient
  /** Every region enabled for the account: a live build anywhere keeps its profile. */
  enabledRegions: readonly string[]
  ec2For(region: string): EC2Client
  inputs: Inputs
  now: Date
  terminationWait: Scope['terminationWait']
  cancelled?: AbortSignal
  instancesIn?: Scope['instancesIn']
}

/** The account's scope of a test, with the IAM kind as the only one swept. */
export function iamRun({ iam, enabledRegions, cancelled, instancesIn, ...fields }: IamScopeFields): LeftoverRun {
  const never = new AbortController().signal
  return {
    kinds: [instanceProfiles],
    scope: {
      region: GLOBAL_REGION,
      regions: enabledRegions,
      abortSignal: never,
      cancelled: cancelled ?? never,
      readBackSignal: () => never,
      instancesIn: instancesIn ?? (() => undefined),
      buildersInEveryState: () => Promise.reject(new Error('no builders in this test')),
      staleBuilders: async () => [],
      enabledRegions: async () => enabledRegions,
      iam: async () => iam,
      onSettled: () => undefined,
      ...fields
    }
  }
}

/** The kind's survey: discovery, the rules and the usage check, judged by `terminating`; no change is made. */
export function planInstanceProfiles(run: LeftoverRun, terminating: Iterable<string> = []): Promise<LeftoverSurvey> {
  return surveyLeftovers(run.scope, run.kinds, Promise.resolve(new Set(terminating)))
}

/** The survey carried out as if the core had terminated `terminated`. */
export async function sweepInstanceProfiles(
  run: LeftoverRun,
  survey: LeftoverSurvey,
  terminated: Iterable<string> = []
): Promise<IamFinding[]> {
  return iamFindings(await survey.act(run.scope, new Set(terminated)))
}

/** The survey held back: every finding as the plan stands, no call made. */
export function reported(survey: LeftoverSurvey, why: HeldBack = 'over-cap'): IamFinding[] {
  return iamFindings(survey.holdBack(why))
}

function iamFindings(byKind: ReadonlyMap<string, readonly Finding[]>): IamFinding[] {
  return findingsOf(byKind, isIamFinding)
}

function isIamFinding(finding: Finding): finding is IamFinding {
  return 'iam' in finding
}
