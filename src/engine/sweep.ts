/**
 * The sweep's protocol, once for every kind: survey every region (and the account) read-only,
 * count what the run would change against the caps, then act region by region, the builders
 * first and then what they freed, and the account's leftovers last. Every region ends by itself
 * (it has a deadline for each phase) and a region that fails is reported, never retried. Each
 * phase of a region (or of the account) gets one Scope, built here, that the engines read.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsCredentialIdentity } from '@smithy/types'
import { accountParts, type AccountParts } from './account.js'
import type { Kind } from '../kinds/names.js'
import { byRegionThenId, formatAge } from '../model/format.js'
import type { Finding, InstanceRecord, Inputs, RegionFailure, RegionResult } from '../model/types.js'
import { listBuildersInEveryState, surveyLiveInstances, type RegionPass } from './discovery.js'
import { sharedListings, type InstanceLink, type SharedListings } from './instance-usage.js'
import {
  GLOBAL_REGION,
  instancePassQueries,
  isAccountLeftoverKind,
  isBuilderKind,
  isLeftoverKind,
  isRegionalLeftoverKind,
  selectedKinds,
  type FindingsByKind,
  type HeldBack,
  type KindModule,
  type PhaseSignals,
  type RegionalSurvey,
  type RegionScope,
  type Scope,
  type Work
} from './kind.js'
import { surveyLeftovers, type LeftoverSurvey } from './leftovers.js'
import { DEFAULT_TERMINATION_WAIT, type TerminationWait } from './termination-wait.js'
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
  /** How long to wait for the builders this run terminated; DEFAULT_TERMINATION_WAIT when absent. */
  terminationWait?: TerminationWait
}

/** Where the sweep tells what it did, the moment it is known. */
export interface SweepEvents {
  /** Each change's findings, in a region or the account (GLOBAL_REGION). */
  settled(region: string, findings: readonly Finding[]): void
  /** A region is done: its result and findings. */
  regionSwept(result: RegionResult, findings: FindingsByKind): void
  /** The account-wide kinds are done. */
  accountSwept(findings: FindingsByKind): void
  /**
   * Every region is surveyed and nothing is changed yet: the stale builders, and the leftovers as
   * their plans would report them, when asked (estimate-cost prices both while the run acts).
   */
  surveyed(stale: readonly InstanceRecord[], leftovers: () => FindingsByKind): void
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
  leftovers: LeftoverSurvey[]
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

/** What every scope of the run shares: the run's plan, its regions' reads, the account's parts. */
interface Run {
  plan: SweepPlan
  events: SweepEvents
  reads: ReadonlyMap<string, RegionRead>
  account: AccountParts
  /** The act phase's listings of live instances, which the account's removals read again. */
  listings: SharedListings
}

/** One phase of a region (or of the account, GLOBAL_REGION) as the engines read it. */
function scopeOf(
  run: Run,
  region: string,
  signals: PhaseSignals,
  staleBuilders: Promise<readonly InstanceRecord[]> = Promise.resolve([])
): Scope {
  const { plan, events, reads } = run
  return {
    region,
    regions: region === GLOBAL_REGION ? plan.regions : [region],
    inputs: plan.inputs,
    now: plan.now,
    ec2For: plan.ec2For,
    instancesIn: (swept) => reads.get(swept)?.pass?.then(({ live }) => live),
    staleBuilders: () => staleBuilders,
    buildersInEveryState: async (swept) =>
      (await reads.get(swept)?.pass)?.everyState ??
      listBuildersInEveryState(plan.ec2For(swept), plan.inputs, signals.abortSignal),
    enabledRegions: run.account.enabledRegions,
    iam: run.account.iam,
    terminationWait: plan.terminationWait ?? DEFAULT_TERMINATION_WAIT,
    sharedListings: run.listings,
    // An account kind's finding may live in a region of its own (an image): it is told there.
    onSettled: (findings) => {
      for (const [where, settled] of byRegion(findings, region)) events.settled(where, settled)
    },
    ...signals
  }
}

/** Findings grouped by their own region, in the order first met (`fallback` for none). */
function byRegion(findings: readonly Finding[], fallback: string): Map<string, Finding[]> {
  const grouped = new Map<string, Finding[]>()
  for (const finding of findings) {
    const where = finding.region || fallback
    grouped.set(where, [...(grouped.get(where) ?? []), finding])
  }
  return grouped
}

/** Survey, cap, act: failures end up in the result, never thrown. */
export async function sweep(plan: SweepPlan, events: SweepEvents): Promise<SweepResult> {
  const { inputs, control } = plan
  const kinds = selectedKinds(plan.kinds, inputs.resources)
  const accountRead = phaseSignals(inputs, control)
  const account = accountParts(plan, accountRead.abortSignal)
  try {
    // With a kind that instances use, one DescribeInstances pass per region serves every kind.
    const queries = instancePassQueries(kinds)
    const everyState = kinds.some((kind) => isLeftoverKind(kind) && kind.leftovers.buildersInEveryState === true)
    const reads = new Map(plan.regions.map((region) => [region, regionRead(plan, region, queries, everyState)]))
    const accountLinks = kinds.filter(isAccountLeftoverKind).flatMap(({ leftovers }) => leftovers.usedBy ?? [])
    const run: Run = { plan, events, reads, account, listings: sharedListings(accountLinks) }
    const surveying = Promise.all(plan.regions.map((region) => surveyRegion(run, kinds, region, readOf(reads, region))))
    // The account's leftovers are read while the regions are surveyed, and judged once the builders to terminate are known.
    const terminating = surveying.then(
      (surveys) => new Set(surveys.flatMap((survey) => survey.builders.flatMap((work) => [...work.terminating])))
    )
    const accountKinds = kinds.filter(isAccountLeftoverKind)
    const accountSurvey =
      accountKinds.length > 0
        ? surveyLeftovers(scopeOf(run, GLOBAL_REGION, accountRead), accountKinds, terminating)
        : undefined
    // Awaited after the surveys; a rejection before then must not count as unhandled.
    accountSurvey?.catch(() => undefined)
    const surveys = await surveying
    const accountWork = await accountSurvey

    const overCap = capProblems(plannedCounts(surveys, accountWork), inputs)
    const errors = [...overCap]
    const leftoverWork = [...surveys.flatMap((survey) => survey.leftovers), ...(accountWork ? [accountWork] : [])]
    events.surveyed(
      surveys.flatMap((survey) => survey.builders.flatMap((work) => work.stale ?? [])),
      // Held back, a plan reports every resource it holds as it is now (region, size), and changes nothing.
      () => holdBack(leftoverWork, 'over-cap')
    )
    const outcomes = await Promise.all(
      surveys.map(async (survey) => {
        const findings =
          overCap.length > 0
            ? holdBack([...survey.builders, ...survey.leftovers], 'over-cap')
            : await settleRegion(run, survey)
        const result = regionResult(survey)
        events.regionSwept(result, findings)
        return { result, findings }
      })
    )
    const findings: FindingsByKind = new Map()
    for (const outcome of outcomes) merge(findings, outcome.findings)
    for (const kind of kinds.filter(isBuilderKind)) findings.get(kind.name)?.sort(byRegionThenId)
    if (accountWork) {
      const terminated = terminatedIds(outcomes.map((outcome) => outcome.findings))
      const heldBack = overCap.length > 0 ? 'over-cap' : control.cancelled.aborted ? 'cancelled' : undefined
      const settled = heldBack
        ? accountWork.holdBack(heldBack)
        : await accountWork.act(scopeOf(run, GLOBAL_REGION, actSignals(inputs, control)), terminated)
      merge(findings, settled)
      errors.push(...accountWork.runErrors)
      events.accountSwept(settled)
    }
    return { regions: outcomes.map((outcome) => outcome.result), findings, errors }
  } finally {
    account.dispose()
  }
}

function readOf(reads: ReadonlyMap<string, RegionRead>, region: string): RegionRead {
  const read = reads.get(region)
  if (!read) throw new Error(`${region} has no read phase`)
  return read
}

function regionRead(
  plan: SweepPlan,
  region: string,
  queries: readonly InstanceLink[],
  everyState: boolean
): RegionRead {
  const signals = phaseSignals(plan.inputs, plan.control)
  if (queries.length === 0 && !everyState) return { signals }
  const { inputs, now } = plan
  const pass = surveyLiveInstances(plan.ec2For(region), region, inputs, now, queries, signals.abortSignal, everyState)
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
  run: Run,
  kinds: readonly KindModule[],
  region: string,
  read: RegionRead
): Promise<RegionSurvey> {
  const { inputs, control } = run.plan
  const { signals, pass } = read
  const scope: RegionScope = {
    kinds,
    region,
    client: run.plan.ec2For(region),
    inputs,
    now: run.plan.now,
    onSettled: (findings) => run.events.settled(region, findings),
    ...(pass ? { pass } : {})
  }
  const surveyingBuilders = Promise.all(kinds.filter(isBuilderKind).map((kind) => kind.survey(scope, signals)))
  // The leftovers are read beside the builders and judged once the builders to terminate are known.
  const terminating = surveyingBuilders.then((builders) => new Set(builders.flatMap((work) => [...work.terminating])))
  const regional = kinds.filter(isRegionalLeftoverKind)
  const stale = surveyingBuilders.then((builders) => builders.flatMap((work) => work.stale ?? []))
  const surveyingLeftovers =
    regional.length > 0 ? surveyLeftovers(scopeOf(run, region, signals, stale), regional, terminating) : undefined
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
async function settleRegion(run: Run, survey: RegionSurvey): Promise<FindingsByKind> {
  const { inputs, control } = run.plan
  const work = [...survey.builders, ...survey.leftovers]
  if (control.cancelled.aborted) return holdBack(work, 'cancelled')
  const signals = actSignals(inputs, control)
  const stale = survey.builders.flatMap((work) => work.stale ?? [])
  const scope = scopeOf(run, survey.region, signals, Promise.resolve(stale))
  const findings: FindingsByKind = new Map()
  for (const engine of work) merge(findings, await engine.act(scope, terminatedIds([findings])))
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

function holdBack(work: readonly Work[], why: HeldBack): FindingsByKind {
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
function plannedCounts(surveys: readonly RegionSurvey[], account: LeftoverSurvey | undefined): PlannedChanges {
  const sum = (work: readonly Work[]) => work.reduce((total, engine) => total + engine.changes, 0)
  const instances = sum(surveys.flatMap((survey) => survey.builders))
  return {
    instances,
    total: instances + sum(surveys.flatMap((survey) => survey.leftovers)) + (account ? account.changes : 0)
  }
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
    // Only the builders count instances.
    matched: survey.builders.reduce((sum, engine) => sum + (engine.counts?.matched ?? 0), 0),
    fresh: survey.builders.reduce((sum, engine) => sum + (engine.counts?.fresh ?? 0), 0),
    failures
  }
}
