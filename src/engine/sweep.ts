/**
 * The sweep's protocol, once for every kind: survey every region (and the account) read-only,
 * count what the run would change against the caps, then act region by region, the builders
 * first and then what they freed, and the account-wide kinds last. Every region ends by itself
 * (it has a deadline for each phase) and a region that fails is reported, never retried.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsCredentialIdentity } from '@smithy/types'
import type { Kind } from '../kinds/names.js'
import { byRegionThenId, formatAge } from '../model/format.js'
import type { Finding, InstanceRecord, Inputs, RegionFailure, RegionResult } from '../model/types.js'
import { surveyLiveInstances, type RegionPass } from './discovery.js'
import type { InstanceLink } from './instance-usage.js'
import {
  GLOBAL_REGION,
  instancePassQueries,
  isAccountLeftoverKind,
  isBuilderKind,
  isRegionalLeftoverKind,
  selectedKinds,
  type AccountScope,
  type AccountSurvey,
  type FindingsByKind,
  type HeldBack,
  type KindModule,
  type PhaseSignals,
  type RegionalSurvey,
  type RegionScope
} from './kind.js'
import { surveyLeftovers } from './leftovers.js'
import { capProblems, type PlannedChanges } from './plan.js'
import { READ_BACK_BY_MS, regionDeadline, type RunControl } from './run-control.js'

/** Read-backs of calls that got no answer may go on this long past the act deadline (less once the job is cancelled). */
const READ_BACK_TIMEOUT_MS = 30_000

/** What the run sweeps with: the kinds, the inputs, the credentials, the regions, the run's clock and control. */
export interface SweepPlan {
  kinds: readonly KindModule[]
  inputs: Inputs
  credentials: AwsCredentialIdentity
  /** The run's home region: its partition is the one swept. */
  home: string
  regions: readonly string[]
  now: Date
  control: RunControl
  ec2For(region: string): EC2Client
}

/** Where the sweep tells what it did, the moment it is known. */
export interface SweepEvents {
  /** Each change's findings, in a region or the account (GLOBAL_REGION). */
  settled(region: string, findings: readonly Finding[]): void
  /** A region is done: its result and findings. */
  regionSwept(result: RegionResult, findings: FindingsByKind): void
  /** The account-wide kinds are done. */
  accountSwept(findings: FindingsByKind): void
  /** Every region is surveyed and nothing is changed yet: the stale builders (estimate-cost prices them meanwhile). */
  surveyed(stale: readonly InstanceRecord[]): void
}

export interface SweepResult {
  regions: RegionResult[]
  /** Every kind's findings: the regions' in region order (builders sorted by region, then ID), then the account's. */
  findings: FindingsByKind
  /** Run-level problems: over a cap, account-wide kinds that failed. */
  errors: string[]
}

/** What phase one learned about a region, before anything is changed. */
interface RegionSurvey {
  region: string
  /** The builders' work first, then the leftovers' (judged by what the builders free). */
  builders: RegionalSurvey[]
  leftovers: RegionalSurvey[]
  /** The kinds whose plans were judged: none when the region's instances could not be read or its read deadline passed. */
  judged: Kind[]
  /** Failures of the region itself (a missed deadline), without a kind: the engines' own are in them. */
  errors: RegionFailure[]
}

/** A region's read phase: its deadline, and its one pass over the live instances when the run makes one. */
interface RegionRead {
  signals: PhaseSignals
  pass?: Promise<RegionPass>
}

/** Survey, cap, act: failures end up in the result, never thrown. */
export async function sweep(plan: SweepPlan, events: SweepEvents): Promise<SweepResult> {
  const { inputs, control } = plan
  const kinds = selectedKinds(plan.kinds, inputs.resources)
  const accountWork: AccountSurvey[] = []
  try {
    // With a kind that instances use, one DescribeInstances pass per region serves every kind.
    const queries = instancePassQueries(kinds)
    const reads = new Map(plan.regions.map((region) => [region, regionRead(plan, region, queries)]))
    const surveying = Promise.all(
      plan.regions.map((region) => surveyRegion(plan, kinds, region, readOf(reads, region), events))
    )
    // Account-wide kinds are read while the regions are surveyed, and judged once the builders to terminate are known.
    const terminating = surveying.then(
      (surveys) => new Set(surveys.flatMap((survey) => survey.builders.flatMap((work) => [...work.terminating])))
    )
    const timeoutMs = inputs['region-timeout'] * 1000
    const accountScope: AccountScope = {
      inputs,
      now: plan.now,
      credentials: plan.credentials,
      home: plan.home,
      regions: plan.regions,
      ec2For: plan.ec2For,
      control,
      readBackSignal: () =>
        AbortSignal.any([AbortSignal.timeout(READ_BACK_TIMEOUT_MS + timeoutMs), control.deadline(READ_BACK_BY_MS)]),
      onSettled: (findings) => events.settled(GLOBAL_REGION, findings),
      instancesIn: (region) => reads.get(region)?.pass?.then(({ live }) => live)
    }
    const accountSurveys = Promise.all(
      kinds.filter(isAccountLeftoverKind).map(async (kind) => {
        const work = await kind.survey(accountScope, terminating)
        accountWork.push(work)
        return work
      })
    )
    // Awaited after the surveys; a rejection before then must not count as unhandled.
    accountSurveys.catch(() => undefined)
    const surveys = await surveying
    const accounts = await accountSurveys

    const overCap = capProblems(plannedCounts(surveys, accounts), inputs)
    const errors = [...overCap]
    events.surveyed(surveys.flatMap((survey) => survey.builders.flatMap((work) => work.stale ?? [])))
    const outcomes = await Promise.all(
      surveys.map(async (survey) => {
        const findings =
          overCap.length > 0
            ? holdBack([...survey.builders, ...survey.leftovers], 'over-cap')
            : await settleRegion(survey, inputs, control)
        const result = regionResult(survey)
        events.regionSwept(result, findings)
        return { result, findings }
      })
    )
    const findings: FindingsByKind = new Map()
    for (const outcome of outcomes) merge(findings, outcome.findings)
    for (const kind of kinds.filter(isBuilderKind)) findings.get(kind.name)?.sort(byRegionThenId)
    const terminated = terminatedIds(outcomes.map((outcome) => outcome.findings))
    await Promise.all(
      accounts.map(async (work) => {
        const heldBack = overCap.length > 0 ? 'over-cap' : control.cancelled.aborted ? 'cancelled' : undefined
        const settled = heldBack ? work.holdBack(heldBack) : await work.act(actSignals(inputs, control), terminated)
        merge(findings, settled)
        errors.push(...work.errors)
        events.accountSwept(settled)
      })
    )
    return { regions: outcomes.map((outcome) => outcome.result), findings, errors }
  } finally {
    for (const work of accountWork) work.dispose()
  }
}

function readOf(reads: ReadonlyMap<string, RegionRead>, region: string): RegionRead {
  const read = reads.get(region)
  if (!read) throw new Error(`${region} has no read phase`)
  return read
}

function regionRead(plan: SweepPlan, region: string, queries: readonly InstanceLink[]): RegionRead {
  const signals = phaseSignals(plan.inputs, plan.control)
  if (queries.length === 0) return { signals }
  const pass = surveyLiveInstances(plan.ec2For(region), region, plan.inputs, plan.now, queries, signals.abortSignal)
  // Whoever reads the pass reports its failure; unread, it must not count as unhandled.
  pass.catch(() => undefined)
  return { signals, pass }
}

/**
 * Phase one of a region: every engine's plan, read-only, within the region's deadline: the
 * builders first, then the leftovers, judged by what the builders' action frees. A region that
 * misses its deadline found nothing as far as the run is concerned: it is reported failed and
 * never acted on, so the other regions are judged and swept as if it were not there.
 */
async function surveyRegion(
  plan: SweepPlan,
  kinds: readonly KindModule[],
  region: string,
  read: RegionRead,
  events: SweepEvents
): Promise<RegionSurvey> {
  const { inputs, control } = plan
  const { signals, pass } = read
  const scope: RegionScope = {
    kinds,
    region,
    client: plan.ec2For(region),
    inputs,
    now: plan.now,
    onSettled: (findings) => events.settled(region, findings),
    ...(pass ? { pass } : {})
  }
  const surveyingBuilders = Promise.all(kinds.filter(isBuilderKind).map((kind) => kind.survey(scope, signals)))
  // The leftovers are read beside the builders and judged once the builders to terminate are known.
  const terminating = surveyingBuilders.then((builders) => new Set(builders.flatMap((work) => [...work.terminating])))
  const surveyingLeftovers = kinds.some(isRegionalLeftoverKind)
    ? surveyLeftovers(scope, signals, terminating)
    : undefined
  const builders = await surveyingBuilders
  const leftovers = await surveyingLeftovers
  if (signals.abortSignal.aborted)
    return { region, builders: [], leftovers: [], judged: [], errors: [deadlineError(region, 'read', inputs, control)] }
  // Without knowing the builders, nothing they might hold is judged.
  if (builders.some((work) => work.errors.length > 0))
    return { region, builders, leftovers: [], judged: [], errors: [] }
  const judged = kinds.filter((kind) => !isAccountLeftoverKind(kind)).map((kind) => kind.name)
  return { region, builders, leftovers: leftovers ? [leftovers] : [], judged, errors: [] }
}

/** Phase two of a region: the builders first, then the leftovers they freed, within the region's deadline. */
async function settleRegion(survey: RegionSurvey, inputs: Inputs, control: RunControl): Promise<FindingsByKind> {
  const work = [...survey.builders, ...survey.leftovers]
  if (control.cancelled.aborted) return holdBack(work, 'cancelled')
  const signals = actSignals(inputs, control)
  const findings: FindingsByKind = new Map()
  for (const engine of work) merge(findings, await engine.act(signals, terminatedIds([findings])))
  if (signals.abortSignal.aborted && !control.abandoned.aborted)
    survey.errors.push(deadlineError(survey.region, 'act', inputs, control))
  return findings
}

/** The signals of the read phase: the region's deadline. */
function phaseSignals(inputs: Inputs, control: RunControl): PhaseSignals {
  const timeoutMs = inputs['region-timeout'] * 1000
  return {
    abortSignal: regionDeadline(timeoutMs, control),
    cancelled: control.cancelled,
    readBackSignal: () => control.deadline(READ_BACK_BY_MS)
  }
}

/**
 * The signals of the act phase: the region's deadline, and one read-back window for the whole
 * phase however many read-backs it takes (the phase's deadline plus READ_BACK_TIMEOUT_MS), so a
 * silent region's phase ends within that sum.
 */
function actSignals(inputs: Inputs, control: RunControl): PhaseSignals {
  const timeoutMs = inputs['region-timeout'] * 1000
  const readBack = AbortSignal.any([
    AbortSignal.timeout(timeoutMs + READ_BACK_TIMEOUT_MS),
    control.deadline(READ_BACK_BY_MS)
  ])
  return {
    abortSignal: regionDeadline(timeoutMs, control),
    deadlineAt: Date.now() + timeoutMs,
    cancelled: control.cancelled,
    readBackSignal: () => readBack
  }
}

function holdBack(work: readonly (RegionalSurvey | AccountSurvey)[], why: HeldBack): FindingsByKind {
  const findings: FindingsByKind = new Map()
  for (const engine of work) merge(findings, engine.holdBack(why))
  return findings
}

/** Appends `more` to `findings`, kind by kind. */
function merge(findings: FindingsByKind, more: FindingsByKind): void {
  for (const [kind, list] of more) findings.set(kind, [...(findings.get(kind) ?? []), ...list])
}

/** The builders this run terminated: they free what they held. */
function terminatedIds(findings: readonly FindingsByKind[]): Set<string> {
  const ids = new Set<string>()
  for (const byKind of findings)
    for (const list of byKind.values())
      for (const finding of list) if (finding.outcome === 'terminated') ids.add(finding.id)
  return ids
}

function deadlineError(region: string, phase: 'read' | 'act', inputs: Inputs, control: RunControl): RegionFailure {
  if (control.abandoned.aborted) {
    return {
      code: 'Cancelled',
      message: `the job was cancelled while ${region} was being ${phase === 'read' ? 'read' : 'swept'}; nothing more was done in it`
    }
  }
  const limit = formatAge(inputs['region-timeout'])
  return phase === 'read'
    ? {
        code: 'RegionTimeout',
        message: `${region} was not read within region-timeout (${limit}): AWS did not answer in time. Nothing in it was acted on.`
      }
    : {
        code: 'RegionTimeout',
        message: `${region} was not swept within region-timeout (${limit}): what was not done is reported as such.`
      }
}

/** What the whole run would change, the one place the caps count it, before the first mutating call. */
function plannedCounts(surveys: readonly RegionSurvey[], accounts: readonly AccountSurvey[]): PlannedChanges {
  const sum = (work: readonly (RegionalSurvey | AccountSurvey)[]) =>
    work.reduce((total, engine) => total + engine.changes, 0)
  const instances = sum(surveys.flatMap((survey) => survey.builders))
  return { instances, total: instances + sum(surveys.flatMap((survey) => survey.leftovers)) + sum(accounts) }
}

/**
 * The region as the report tells it: each failed kind with its error, and the region's own
 * failure without a kind. Partial while any judged kind was swept; failed when none was.
 */
function regionResult(survey: RegionSurvey): RegionResult {
  const work = [...survey.builders, ...survey.leftovers]
  const failures: RegionFailure[] = [...work.flatMap((engine) => engine.errors), ...survey.errors]
  const swept = survey.judged.filter((kind) => !failures.some((failure) => failure.kind === kind))
  return {
    region: survey.region,
    status: failures.length === 0 ? 'ok' : swept.length > 0 ? 'partial' : 'failed',
    matched: work.reduce((sum, engine) => sum + (engine.counts?.matched ?? 0), 0),
    fresh: work.reduce((sum, engine) => sum + (engine.counts?.fresh ?? 0), 0),
    failures
  }
}
