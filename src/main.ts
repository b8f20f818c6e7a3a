/**
 * The action, top-down: read the inputs, sweep every region, tell the topic, keep the record.
 * Every run ends by itself (each region has a deadline) and leaves a true record, even when the
 * job is cancelled: what was changed is logged the moment it is known, and the outputs, the
 * report file and the summary are written before the runner kills the process.
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsCredentialIdentity } from '@smithy/types'
import { describeAwsError, errorMessage, formatAwsError } from './aws/errors.js'
import { clientConfig } from './aws/clients.js'
import { resolveCredentials } from './aws/credentials.js'
import { surveyLiveInstances, type RegionPass } from './engine/discovery.js'
import { isSelected } from './model/findings.js'
import { byRegionThenId, countOf, formatAge } from './model/format.js'
import { getInputs } from './inputs.js'
import {
  GLOBAL_REGION,
  type AccountScope,
  type AccountSurvey,
  type FindingsByKind,
  type HeldBack,
  type PhaseSignals,
  type RegionalSurvey,
  type RegionScope
} from './engine/kind.js'
import {
  emptyLists,
  builderFindings,
  findingsOf,
  instancePassQueries,
  isAccountLeftoverKind,
  isBuilderKind,
  isRegionalLeftoverKind,
  KIND_MODULES,
  kindModule,
  selectedKinds,
  type Kind
} from './kinds/registry.js'
import { annotationsFor, findingLogLine, logAccount, logData, logRegion, logSettled, writeAnnotations } from './report/log.js'
import { buildNotifications, publishNotifications } from './report/notification.js'
import type { InstanceLink } from './engine/instance-usage.js'
import { surveyLeftovers } from './engine/leftovers.js'
import { PERMISSION } from './model/permissions.js'
import { capProblems, type PlannedChanges } from './engine/plan.js'
import { costFrom, lookUpPricesFor } from './aws/pricing.js'
import { homeRegion, resolveRegions } from './aws/regions.js'
import { regionKinds, stepFailures, writeOutputs } from './report/report.js'
import { FORCED_EXIT_MS, READ_BACK_BY_MS, RECORD_BY_MS, regionDeadline, watchCancellation, type RunControl } from './engine/run-control.js'
import { writeSummary } from './report/summary.js'
import type { Inputs, RegionFailure, RegionResult, Report, RunContext } from './model/types.js'

/** Read-backs of calls that got no answer may go on this long past the act deadline (less once the job is cancelled). */
const READ_BACK_TIMEOUT_MS = 30_000
/** Publishing the notification (all its parts) gets this long. */
const PUBLISH_TIMEOUT_MS = 60_000

/**
 * The action: read the inputs, sweep, and always write outputs and summary before the step
 * passes or fails.
 */
export async function run(): Promise<void> {
  const control = watchCancellation(forcedExit)
  try {
    await sweepAndReport(control)
  } catch (error) {
    // Every expected failure is reported by sweepAndReport; this is the net under a bug.
    core.setFailed(`packer-sweeper stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  } finally {
    control.dispose()
  }
  // The record of a cancelled run is written: end now. What the run abandoned (a waiter's sleep
  // of up to 15 s, a retry's backoff) would otherwise hold the process until the forced exit.
  if (control.cancelled.aborted) await exitOnceFlushed()
}

/** Exits with the code setFailed set, once everything written to stdout has been handed over. */
function exitOnceFlushed(): Promise<never> {
  return new Promise(() => process.stdout.write('', () => process.exit()))
}

function forcedExit(): void {
  core.setFailed(
    `packer-sweeper was cancelled and could not finish its record within ${FORCED_EXIT_MS / 1000} s; the log above holds every batch that was answered.`
  )
  process.exit(1)
}

async function sweepAndReport(control: RunControl): Promise<void> {
  const startedAt = new Date()
  let inputs: Inputs
  try {
    inputs = getInputs()
  } catch (error) {
    writeOutputs(undefined)
    core.setFailed(errorMessage(error))
    return
  }
  const { report, credentials } = await sweep(inputs, startedAt, control)
  report.cancelled = control.cancelled.aborted
  await notify(report, inputs, credentials, control)
  keepReportFile(report)
  writeOutputs(report)
  try {
    await writeSummary(report)
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
  writeAnnotations(annotationsFor(report))
  const failures = stepFailures(report)
  if (failures.length > 0) core.setFailed(failures.join('\n'))
}

/** What phase one learned about a region, before anything is changed. */
interface RegionSurvey {
  region: string
  client: EC2Client
  /** The builders' work first, then the leftovers' (judged by what the builders free). */
  builders: RegionalSurvey[]
  leftovers: RegionalSurvey[]
  /** The kinds whose plans were judged: none when the region's instances could not be read or its read deadline passed. */
  judged: Kind[]
  /** Failures of the region itself (a missed deadline), without a kind: the engines' own are in them. */
  errors: RegionFailure[]
}

interface RegionOutcome {
  result: RegionResult
  findings: FindingsByKind
}

/** Everything between valid inputs and the finished report. Failures end up in the report, never thrown. */
async function sweep(inputs: Inputs, startedAt: Date, control: RunControl): Promise<{ report: Report; credentials?: AwsCredentialIdentity }> {
  const report = newReport(inputs, startedAt)
  const home = homeRegion(inputs)
  const timeoutMs = inputs['region-timeout'] * 1000
  let credentials: AwsCredentialIdentity
  try {
    credentials = await resolveCredentials(inputs, home, regionDeadline(timeoutMs, control))
  } catch (error) {
    report.errors.push(errorMessage(error))
    return { report }
  }
  const clients = regionalClients(credentials)
  const accountWork: AccountSurvey[] = []
  try {
    let regions: string[]
    try {
      regions = await resolveRegions(inputs, clients.get(home), regionDeadline(timeoutMs, control))
    } catch (error) {
      report.errors.push(errorMessage(error))
      return { report, credentials }
    }
    report.settings.regions = regions
    // Region names from DescribeRegions are AWS data like any other.
    logData([`Sweeping ${countOf(regions.length, 'region')}: ${regions.join(', ')}`])

    // With a kind that instances use, one DescribeInstances pass per region serves every kind.
    const queries = instancePassQueries(inputs.resources)
    const reads = new Map(regions.map((region) => [region, regionRead(clients.get(region), region, inputs, startedAt, control, queries)]))
    const surveying = Promise.all(
      regions.map((region) => surveyRegion(clients.get(region), region, inputs, startedAt, control, reads.get(region) as RegionRead))
    )
    // Account-wide kinds are read while the regions are surveyed, and judged once the builders to terminate are known.
    const terminating = surveying.then((surveys) => new Set(surveys.flatMap((survey) => survey.builders.flatMap((work) => [...work.terminating]))))
    const accountScope: AccountScope = {
      inputs,
      now: startedAt,
      credentials,
      home,
      regions,
      ec2For: (region) => clients.get(region),
      control,
      readBackSignal: () => AbortSignal.any([AbortSignal.timeout(READ_BACK_TIMEOUT_MS + timeoutMs), control.deadline(READ_BACK_BY_MS)]),
      onSettled: (findings) => logSettled(GLOBAL_REGION, findings.map(findingLogLine)),
      instancesIn: (region) => reads.get(region)?.pass?.then(({ live }) => live)
    }
    const accountSurveys = Promise.all(
      selectedKinds(inputs.resources)
        .filter(isAccountLeftoverKind)
        .map(async (kind) => {
          const work = await kind.survey(accountScope, terminating)
          accountWork.push(work)
          return work
        })
    )
    // Awaited after the surveys; a rejection before then must not count as unhandled.
    accountSurveys.catch(() => undefined)
    const context = runContext()
    const surveys = await surveying
    const accounts = await accountSurveys

    const overCap = capProblems(plannedCounts(surveys, accounts), inputs)
    report.errors.push(...overCap)
    const prices = inputs['estimate-cost']
      ? lookUpPricesFor(
          surveys.flatMap((survey) => survey.builders.flatMap((work) => work.stale ?? [])),
          { credentials, ec2For: (region) => clients.get(region), now: startedAt, abortSignal: regionDeadline(timeoutMs, control) }
        )
      : undefined
    const outcomes = await Promise.all(
      surveys.map(async (survey): Promise<RegionOutcome> => {
        const findings = overCap.length > 0 ? holdBack([...survey.builders, ...survey.leftovers], 'over-cap') : await settleRegion(survey, inputs, control)
        const outcome = { findings, result: regionResult(survey) }
        logRegion(outcome.result, outcome.findings, inputs.resources)
        return outcome
      })
    )
    for (const outcome of outcomes) {
      report.regions.push(outcome.result)
      addFindings(report, outcome.findings)
    }
    for (const kind of selectedKinds(inputs.resources).filter(isBuilderKind)) findingsOf(report, kind).sort(byRegionThenId)
    const terminated = terminatedIds(outcomes.map((outcome) => outcome.findings))
    await Promise.all(
      accounts.map(async (work) => {
        const heldBack = overCap.length > 0 ? 'over-cap' : control.cancelled.aborted ? 'cancelled' : undefined
        const findings = heldBack ? work.holdBack(heldBack) : await work.act(actSignals(inputs, control), terminated)
        addFindings(report, findings)
        report.errors.push(...work.errors)
        logAccount(findings)
      })
    )
    if (prices) report.cost = costFrom(builderFindings(report), await prices, startedAt)
    report.run = await context
    if (inputs['fail-on-stale']) report.errors.push(...staleProblems(report))
    return { report, credentials }
  } finally {
    clients.destroyAll()
    for (const work of accountWork) work.dispose()
    report.finishedAt = new Date().toISOString()
  }
}

/** A region's read phase: its deadline, and its one pass over the live instances when the run makes one. */
interface RegionRead {
  signals: PhaseSignals
  pass?: Promise<RegionPass>
}

function regionRead(client: EC2Client, region: string, inputs: Inputs, now: Date, control: RunControl, queries: readonly InstanceLink[]): RegionRead {
  const signals = phaseSignals(inputs, control)
  if (queries.length === 0) return { signals }
  const pass = surveyLiveInstances(client, region, inputs, now, queries, signals.abortSignal)
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
async function surveyRegion(client: EC2Client, region: string, inputs: Inputs, now: Date, control: RunControl, read: RegionRead): Promise<RegionSurvey> {
  const { signals, pass } = read
  const scope: RegionScope = {
    region,
    client,
    inputs,
    now,
    onSettled: (findings) => logSettled(region, findings.map(findingLogLine)),
    ...(pass ? { pass } : {})
  }
  const kinds = selectedKinds(inputs.resources)
  const surveyingBuilders = Promise.all(kinds.filter(isBuilderKind).map((kind) => kind.survey(scope, signals)))
  // The leftovers are read beside the builders and judged once the builders to terminate are known.
  const terminating = surveyingBuilders.then((builders) => new Set(builders.flatMap((work) => [...work.terminating])))
  const surveyingLeftovers = kinds.some(isRegionalLeftoverKind) ? surveyLeftovers(scope, signals, terminating) : undefined
  const builders = await surveyingBuilders
  const leftovers = await surveyingLeftovers
  if (signals.abortSignal.aborted) return { region, client, builders: [], leftovers: [], judged: [], errors: [deadlineError(region, 'read', inputs, control)] }
  // Without knowing the builders, nothing they might hold is judged.
  if (builders.some((work) => work.errors.length > 0)) return { region, client, builders, leftovers: [], judged: [], errors: [] }
  return { region, client, builders, leftovers: leftovers ? [leftovers] : [], judged: regionKinds(inputs.resources), errors: [] }
}

/** Phase two of a region: the builders first, then the leftovers they freed, within the region's deadline. */
async function settleRegion(survey: RegionSurvey, inputs: Inputs, control: RunControl): Promise<FindingsByKind> {
  const work = [...survey.builders, ...survey.leftovers]
  if (control.cancelled.aborted) return holdBack(work, 'cancelled')
  const signals = actSignals(inputs, control)
  const findings: FindingsByKind = new Map()
  for (const engine of work) {
    for (const [kind, settled] of await engine.act(signals, terminatedIds([findings]))) findings.set(kind, [...(findings.get(kind) ?? []), ...settled])
  }
  if (signals.abortSignal.aborted && !control.abandoned.aborted) survey.errors.push(deadlineError(survey.region, 'act', inputs, control))
  return findings
}

/** The signals of the read phase: the region's deadline. */
function phaseSignals(inputs: Inputs, control: RunControl): PhaseSignals {
  const timeoutMs = inputs['region-timeout'] * 1000
  return { abortSignal: regionDeadline(timeoutMs, control), cancelled: control.cancelled, readBackSignal: () => control.deadline(READ_BACK_BY_MS) }
}

/**
 * The signals of the act phase: the region's deadline, and one read-back window for the whole
 * phase however many read-backs it takes (the phase's deadline plus READ_BACK_TIMEOUT_MS), so a
 * silent region's phase ends within that sum.
 */
function actSignals(inputs: Inputs, control: RunControl): PhaseSignals {
  const timeoutMs = inputs['region-timeout'] * 1000
  const readBack = AbortSignal.any([AbortSignal.timeout(timeoutMs + READ_BACK_TIMEOUT_MS), control.deadline(READ_BACK_BY_MS)])
  return { abortSignal: regionDeadline(timeoutMs, control), deadlineAt: Date.now() + timeoutMs, cancelled: control.cancelled, readBackSignal: () => readBack }
}

function holdBack(work: readonly (RegionalSurvey | AccountSurvey)[], why: HeldBack): FindingsByKind {
  const findings: FindingsByKind = new Map()
  for (const engine of work) for (const [kind, held] of engine.holdBack(why)) findings.set(kind, [...(findings.get(kind) ?? []), ...held])
  return findings
}

/** The builders this run terminated: they free what they held. */
function terminatedIds(findings: readonly FindingsByKind[]): Set<string> {
  const ids = new Set<string>()
  for (const byKind of findings) for (const list of byKind.values()) for (const finding of list) if (finding.outcome === 'terminated') ids.add(finding.id)
  return ids
}

function deadlineError(region: string, phase: 'read' | 'act', inputs: Inputs, control: RunControl): RegionFailure {
  if (control.abandoned.aborted) {
    return { code: 'Cancelled', message: `the job was cancelled while ${region} was being ${phase === 'read' ? 'read' : 'swept'}; nothing more was done in it` }
  }
  const limit = formatAge(inputs['region-timeout'])
  return phase === 'read'
    ? { code: 'RegionTimeout', message: `${region} was not read within region-timeout (${limit}): AWS did not answer in time. Nothing in it was acted on.` }
    : { code: 'RegionTimeout', message: `${region} was not swept within region-timeout (${limit}): what was not done is reported as such.` }
}

/** One EC2 client per region, made on first use and all closed at the end. */
function regionalClients(credentials: AwsCredentialIdentity) {
  const clients = new Map<string, EC2Client>()
  return {
    get(region: string): EC2Client {
      let client = clients.get(region)
      if (!client) clients.set(region, (client = new EC2Client(clientConfig({ region, credentials }))))
      return client
    },
    destroyAll() {
      for (const client of clients.values()) client.destroy()
    }
  }
}

/** What the whole run would change, the one place the caps count it, before the first mutating call. */
function plannedCounts(surveys: readonly RegionSurvey[], accounts: readonly AccountSurvey[]): PlannedChanges {
  const sum = (work: readonly (RegionalSurvey | AccountSurvey)[]) => work.reduce((total, engine) => total + engine.changes, 0)
  const instances = sum(surveys.flatMap((survey) => survey.builders))
  return { instances, total: instances + sum(surveys.flatMap((survey) => survey.leftovers)) + sum(accounts) }
}

function addFindings(report: Report, findings: FindingsByKind): void {
  for (const [kind, list] of findings) findingsOf(report, kindModule(kind)).push(...list)
}

/**
 * The notification, published only when it can be done in time: on a cancelled job, only if
 * there is room before the record must be written. A failed publish is a run error.
 */
async function notify(report: Report, inputs: Inputs, credentials: AwsCredentialIdentity | undefined, control: RunControl): Promise<void> {
  const topicArn = inputs['sns-topic-arn']
  if (!topicArn || inputs['dry-run'] || !credentials) return
  let parts
  try {
    parts = buildNotifications(report, topicArn)
  } catch (error) {
    report.errors.push(`Publishing to ${topicArn} failed: ${errorMessage(error)}`)
    return
  }
  if (parts.length === 0) return
  report.notification = { topicArn, parts: parts.length, published: 0 }
  if (control.msUntil(RECORD_BY_MS) < 1_000) {
    report.notification.error = 'not published: the job was cancelled and there was no time left before the runner ends the step'
    report.errors.push(`Publishing to ${topicArn} failed: ${report.notification.error}`)
    return
  }
  const abortSignal = AbortSignal.any([AbortSignal.timeout(PUBLISH_TIMEOUT_MS), control.deadline(RECORD_BY_MS)])
  const result = await publishNotifications(parts, credentials, { abortSignal })
  report.notification.published = result.published
  if (result.error === undefined) {
    core.info(`Published the report to ${topicArn}${parts.length > 1 ? ` (${parts.length} of ${parts.length} parts published)` : ''}`)
    return
  }
  const why = formatAwsError(describeAwsError(result.error, PERMISSION.publish))
  report.notification.error = why
  const sent = parts.length > 1 ? ` (${result.published} of ${parts.length} parts were published)` : ''
  report.errors.push(`Publishing to ${topicArn} failed${sent}: ${why}`)
}

/**
 * The whole report as a file under RUNNER_TEMP (the `report-file` output): outputs and summary
 * have size limits, the file has none. Written before the outputs, which name it.
 */
function keepReportFile(report: Report): void {
  const directory = process.env.RUNNER_TEMP || tmpdir()
  const file = join(directory, `packer-sweeper-report-${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}.json`)
  try {
    report.reportFile = file
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  } catch (error) {
    delete report.reportFile
    core.warning(`Could not write the report file ${file}: ${errorMessage(error)}`)
  }
}

function newReport(inputs: Inputs, startedAt: Date): Report {
  return {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    settings: { ...inputs, regions: inputs.regions === 'all' ? [] : [...inputs.regions] },
    run: {},
    regions: [],
    ...emptyLists(),
    errors: [],
    cancelled: false
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
    matched: work.reduce((sum, engine) => sum + (engine.counts?.matched ?? 0), 0),
    fresh: work.reduce((sum, engine) => sum + (engine.counts?.fresh ?? 0), 0),
    failures
  }
}

/** The workflow run, for links; read after the first AWS requests are on their way, since sweeping does not need it. */
async function runContext(): Promise<RunContext> {
  if (!process.env.GITHUB_REPOSITORY) return {}
  try {
    const { context } = await import('@actions/github')
    const repository = `${context.repo.owner}/${context.repo.repo}`
    return {
      repository,
      runUrl: `${context.serverUrl}/${repository}/actions/runs/${context.runId}`,
      actor: context.actor,
      sha: context.sha,
      workflow: context.workflow
    }
  } catch (error) {
    core.warning(`Could not read the workflow run context: ${errorMessage(error)}`)
    return {}
  }
}

/** fail-on-stale: anything stale that was not excluded fails the step (a guard after a build). */
function staleProblems(report: Report): string[] {
  const found = KIND_MODULES.flatMap((kind) => findingsOf(report, kind)).filter(isSelected)
  return found.length > 0 ? [`fail-on-stale: ${found.length} stale Packer resource(s) found.`] : []
}
