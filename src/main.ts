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
import { actOnInstances, instancesToChange, NOT_STARTED_CANCELLED, toFinding } from './actions.js'
import { describeAwsError, errorMessage, formatAwsError } from './aws-errors.js'
import { clientConfig } from './clients.js'
import { resolveCredentials } from './credentials.js'
import { discoverInstances, type RegionDiscovery } from './discovery.js'
import { byRegionThenId, countOf, formatAge } from './format.js'
import { getInputs } from './inputs.js'
import { annotationsFor, instanceLogLine, logData, logGroup, logRegion, logSettled, orphanLogLine, writeAnnotations } from './log.js'
import { GLOBAL_REGION } from './instance-profiles/index.js'
import { startInstanceProfilePhase } from './instance-profiles/phase.js'
import { buildNotifications, publishNotifications } from './notification.js'
import { NOT_DELETED_CANCELLED, planOrphans, plannedChanges, reportOnly, sweepOrphans, type OrphanContext, type OrphanPlan } from './orphans/index.js'
import { PERMISSION } from './permissions.js'
import { costFrom, lookUpPricesFor } from './pricing.js'
import { capProblems, decideInstance } from './plan.js'
import { homeRegion, resolveRegions } from './regions.js'
import { allOrphans, isSelected, orphanList, orphanNouns, stepFailures, writeOutputs } from './report.js'
import { FORCED_EXIT_MS, READ_BACK_BY_MS, RECORD_BY_MS, regionDeadline, watchCancellation, type RunControl } from './run-control.js'
import { writeSummary } from './summary.js'
import type { AwsErrorInfo, InstanceFinding, Inputs, OrphanFinding, RegionResult, Report, RunContext } from './types.js'

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
  discovery?: RegionDiscovery
  orphanPlan?: OrphanPlan
  errors: AwsErrorInfo[]
}

interface RegionOutcome {
  result: RegionResult
  instances: InstanceFinding[]
  orphans: OrphanFinding[]
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
  let disposeIam = () => {}
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

    const surveying = Promise.all(regions.map((region) => surveyRegion(clients.get(region), region, inputs, startedAt, control)))
    const iam = inputs.resources.includes('instance-profiles')
      ? await startInstanceProfilePhase({
          inputs,
          now: startedAt,
          credentials,
          home,
          regions,
          ec2For: (region) => clients.get(region),
          control,
          readBackSignal: () => AbortSignal.any([AbortSignal.timeout(READ_BACK_TIMEOUT_MS + timeoutMs), control.deadline(READ_BACK_BY_MS)]),
          onSettled: (finding) => logSettled(GLOBAL_REGION, [orphanLogLine(finding)])
        })
      : undefined
    disposeIam = () => iam?.dispose()
    // IAM is read while the regions are surveyed; it is judged once the builders to terminate are known.
    const iamPlanning = iam?.plan(surveying.then((surveys) => new Set(surveys.flatMap((survey) => [...terminatingIds(inputs, survey.discovery)]))))
    const context = runContext()
    const surveys = await surveying
    const iamPlan = await iamPlanning

    const overCap = capProblems(plannedCounts(surveys, inputs, iam && iamPlan ? iam.changes(iamPlan) : 0), inputs)
    report.errors.push(...overCap)
    const prices = inputs['estimate-cost']
      ? lookUpPricesFor(
          surveys.flatMap((survey) => survey.discovery?.stale ?? []),
          { credentials, ec2For: (region) => clients.get(region), now: startedAt, abortSignal: regionDeadline(timeoutMs, control) }
        )
      : undefined
    const outcomes = await Promise.all(
      surveys.map(async (survey): Promise<RegionOutcome> => {
        const findings =
          overCap.length > 0
            ? reportWithoutActing(survey, inputs, startedAt, 'not acted on: the run is over its cap')
            : await settleRegion(survey, inputs, startedAt, control)
        const outcome = { ...findings, result: regionResult(survey) }
        logRegion(outcome.result, outcome.instances, outcome.orphans)
        return outcome
      })
    )
    collect(report, outcomes)
    if (iam && iamPlan) {
      const terminated = new Set(report.instances.filter((finding) => finding.outcome === 'terminated').map((finding) => finding.id))
      const heldBack =
        overCap.length > 0 ? 'not acted on: the run is over its cap' : control.cancelled.aborted ? 'not removed: the job was cancelled first' : undefined
      report.instanceProfiles = await iam.settle(iamPlan, terminated, heldBack)
      report.errors.push(...iam.errors)
      const { singular, plural } = orphanNouns('instance-profiles')
      if (report.instanceProfiles.length > 0)
        logGroup(`${GLOBAL_REGION} · ${countOf(report.instanceProfiles.length, singular, plural)}`, report.instanceProfiles.map(orphanLogLine))
    }
    if (prices) report.cost = costFrom(report.instances, await prices, startedAt)
    report.run = await context
    if (inputs['fail-on-stale']) report.errors.push(...staleProblems(report))
    return { report, credentials }
  } finally {
    clients.destroyAll()
    disposeIam()
    report.finishedAt = new Date().toISOString()
  }
}

/**
 * Phase one of a region: discovery and the orphan plan, read-only, within the region's deadline.
 * A region that misses it found nothing as far as the run is concerned: it is reported failed
 * and never acted on, so the other regions are judged and swept as if it were not there.
 */
async function surveyRegion(client: EC2Client, region: string, inputs: Inputs, now: Date, control: RunControl): Promise<RegionSurvey> {
  const survey: RegionSurvey = { region, client, errors: [] }
  const abortSignal = regionDeadline(inputs['region-timeout'] * 1000, control)
  if (inputs.resources.includes('instances')) {
    try {
      survey.discovery = await discoverInstances(client, region, inputs, now, abortSignal)
    } catch (error) {
      survey.errors.push(describeAwsError(error, PERMISSION.describeInstances))
    }
  }
  if (sweepsOrphans(inputs) && survey.errors.length === 0) {
    try {
      survey.orphanPlan = await planOrphans({ client, region, inputs, now, abortSignal }, terminatingIds(inputs, survey.discovery))
      // A kind that could not be read fails the region; the kinds that could are still swept.
      survey.errors.push(...survey.orphanPlan.errors.map((failure) => failure.error))
    } catch (error) {
      survey.errors.push(describeOrphanError(error))
    }
  }
  if (abortSignal.aborted) {
    return { region, client, errors: [deadlineError(region, 'read', inputs, control)] }
  }
  return survey
}

/** Phase two of a region: act on instances first, then on the leftovers they freed, within the region's deadline. */
async function settleRegion(survey: RegionSurvey, inputs: Inputs, now: Date, control: RunControl): Promise<Pick<RegionOutcome, 'instances' | 'orphans'>> {
  if (control.cancelled.aborted) return reportWithoutActing(survey, inputs, now, NOT_STARTED_CANCELLED, NOT_DELETED_CANCELLED)
  const timeoutMs = inputs['region-timeout'] * 1000
  const abortSignal = regionDeadline(timeoutMs, control)
  // One read-back window for the whole phase, however many read-backs it takes: the phase's own
  // deadline plus READ_BACK_TIMEOUT_MS, so a silent region's phase ends within that sum.
  const readBack = AbortSignal.any([AbortSignal.timeout(timeoutMs + READ_BACK_TIMEOUT_MS), control.deadline(READ_BACK_BY_MS)])
  const signals = { abortSignal, cancelled: control.cancelled, readBackSignal: () => readBack }
  const instances = await actOnInstances(survey.client, survey.discovery?.stale ?? [], inputs, now, {
    ...signals,
    onSettled: (findings) => logSettled(survey.region, findings.map(instanceLogLine))
  })
  let orphans: OrphanFinding[] = []
  if (survey.orphanPlan) {
    const terminated = new Set(instances.filter((finding) => finding.outcome === 'terminated').map((finding) => finding.id))
    const context: OrphanContext = {
      client: survey.client,
      region: survey.region,
      inputs,
      now,
      ...signals,
      onSettled: (finding) => logSettled(survey.region, [orphanLogLine(finding)])
    }
    try {
      orphans = await sweepOrphans(context, survey.orphanPlan, terminated)
    } catch (error) {
      survey.errors.push(describeOrphanError(error))
      orphans = reportOnly(survey.orphanPlan)
    }
  }
  if (abortSignal.aborted && !control.abandoned.aborted) survey.errors.push(deadlineError(survey.region, 'act', inputs, control))
  return { instances, orphans }
}

function deadlineError(region: string, phase: 'read' | 'act', inputs: Inputs, control: RunControl): AwsErrorInfo {
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

/** What the whole run would change: the caps count it before the first mutating call. */
function plannedCounts(surveys: readonly RegionSurvey[], inputs: Inputs, globalChanges: number) {
  const instances = surveys.reduce((sum, survey) => sum + instancesToChange(survey.discovery?.stale ?? [], inputs).length, 0)
  const orphans = surveys.reduce((sum, survey) => sum + (survey.orphanPlan ? plannedChanges(survey.orphanPlan) : 0), 0)
  return { instances, total: instances + orphans + globalChanges }
}

/**
 * Findings for a region whose changes are held back (a cap, a cancellation): everything is
 * reported only, with `reason` on what would have been changed; `leftoverReason` replaces the
 * leftovers' own "not deleted" reason when given.
 */
function reportWithoutActing(
  survey: RegionSurvey,
  inputs: Inputs,
  now: Date,
  reason: string,
  leftoverReason?: string
): Pick<RegionOutcome, 'instances' | 'orphans'> {
  const instances = (survey.discovery?.stale ?? []).map((record) => {
    const decision = decideInstance(record, inputs)
    return toFinding(record, now, decision.call || decision.outcome !== 'skipped' ? { outcome: 'notified', reason } : decision)
  })
  const orphans = (survey.orphanPlan ? reportOnly(survey.orphanPlan) : []).map((finding) =>
    leftoverReason && inputs.action === 'terminate' && finding.outcome === 'notified' ? { ...finding, reason: leftoverReason } : finding
  )
  return { instances, orphans }
}

function collect(report: Report, outcomes: readonly RegionOutcome[]): void {
  for (const outcome of outcomes) {
    report.regions.push(outcome.result)
    report.instances.push(...outcome.instances)
    for (const orphan of outcome.orphans) report[orphanList(orphan.kind)].push(orphan)
  }
  report.instances.sort(byRegionThenId)
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
    instances: [],
    keyPairs: [],
    securityGroups: [],
    launchTemplates: [],
    instanceProfiles: [],
    errors: [],
    cancelled: false
  }
}

/** The IDs this run will terminate in a region: orphans they hold are freed within the run. */
function terminatingIds(inputs: Inputs, discovery: RegionDiscovery | undefined): Set<string> {
  if (inputs.action !== 'terminate' || !discovery) return new Set()
  return new Set(instancesToChange(discovery.stale, inputs).map((record) => record.id))
}

/** The regional leftover kinds; IAM's global one has its own phase. */
function sweepsOrphans(inputs: Inputs): boolean {
  return inputs.resources.some((kind) => kind !== 'instances' && kind !== 'instance-profiles')
}

function describeOrphanError(error: unknown): AwsErrorInfo {
  const info = (error as { info?: AwsErrorInfo }).info
  return info ?? describeAwsError(error)
}

function regionResult(survey: RegionSurvey): RegionResult {
  const result: RegionResult = {
    region: survey.region,
    status: survey.errors.length > 0 ? 'failed' : 'ok',
    matched: survey.discovery?.matched ?? 0,
    fresh: survey.discovery?.fresh ?? 0
  }
  const [first, ...more] = survey.errors
  if (first) result.error = more.length > 0 ? { ...first, message: [first, ...more].map(formatAwsError).join('; ') } : first
  return result
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
  const found = [...report.instances, ...allOrphans(report)].filter(isSelected)
  return found.length > 0 ? [`fail-on-stale: ${found.length} stale Packer resource(s) found.`] : []
}
