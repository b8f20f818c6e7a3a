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
import type { AwsCredentialIdentity } from '@smithy/types'
import { regionalClients } from './aws/clients.js'
import { resolveCredentials } from './aws/credentials.js'
import { describeAwsError, errorMessage } from './aws/errors.js'
import { costFrom, lookUpPricesFor } from './aws/pricing.js'
import { homeRegion, resolveRegions } from './aws/regions.js'
import { FORCED_EXIT_MS, RECORD_BY_MS, regionDeadline, watchCancellation, type RunControl } from './engine/run-control.js'
import { sweep } from './engine/sweep.js'
import { getInputs } from './inputs.js'
import { emptyReportLists } from './kinds/findings.js'
import { KIND_MODULES } from './kinds/registry.js'
import type { PriceLookup } from './model/cost.js'
import { isSelected } from './model/findings.js'
import { countOf, formatAwsError } from './model/format.js'
import { PERMISSION } from './model/permissions.js'
import type { Inputs } from './model/types.js'
import { addFindings, allFindings, builderFindings } from './report/lists.js'
import { annotationsFor, findingLogLine, logAccount, logData, logRegion, logSettled, writeAnnotations } from './report/log.js'
import { buildNotifications, publishNotifications } from './report/notification.js'
import { stepFailures, writeOutputs } from './report/report.js'
import { writeSummary } from './report/summary.js'
import type { Report, RunContext } from './report/types.js'

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
    writeOutputs(KIND_MODULES, undefined)
    core.setFailed(errorMessage(error))
    return
  }
  const { report, credentials } = await sweepAccount(inputs, startedAt, control)
  report.cancelled = control.cancelled.aborted
  await notify(report, inputs, credentials, control)
  keepReportFile(report)
  writeOutputs(KIND_MODULES, report)
  try {
    await writeSummary(KIND_MODULES, report)
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }
  writeAnnotations(annotationsFor(KIND_MODULES, report))
  const failures = stepFailures(KIND_MODULES, report)
  if (failures.length > 0) core.setFailed(failures.join('\n'))
}

/** Everything between valid inputs and the finished report. Failures end up in the report, never thrown. */
async function sweepAccount(inputs: Inputs, startedAt: Date, control: RunControl): Promise<{ report: Report; credentials?: AwsCredentialIdentity }> {
  const report = newReport(inputs, startedAt)
  const home = homeRegion(inputs)
  const readDeadline = () => regionDeadline(inputs['region-timeout'] * 1000, control)
  let credentials: AwsCredentialIdentity
  try {
    credentials = await resolveCredentials(inputs, home, readDeadline())
  } catch (error) {
    report.errors.push(errorMessage(error))
    return { report }
  }
  const clients = regionalClients(credentials)
  try {
    let regions: string[]
    try {
      regions = await resolveRegions(inputs, clients.get(home), readDeadline())
    } catch (error) {
      report.errors.push(errorMessage(error))
      return { report, credentials }
    }
    report.settings.regions = regions
    // Region names from DescribeRegions are AWS data like any other.
    logData([`Sweeping ${countOf(regions.length, 'region')}: ${regions.join(', ')}`])
    let prices: Promise<ReadonlyMap<string, PriceLookup>> | undefined
    const plan = { kinds: KIND_MODULES, inputs, credentials, home, regions, now: startedAt, control, ec2For: (region: string) => clients.get(region) }
    const sweeping = sweep(plan, {
      settled: (region, findings) =>
        logSettled(
          region,
          findings.map((finding) => findingLogLine(KIND_MODULES, finding))
        ),
      regionSwept: (result, findings) => logRegion(KIND_MODULES, result, findings, inputs.resources),
      accountSwept: (findings) => logAccount(KIND_MODULES, findings),
      surveyed: (stale) => {
        if (inputs['estimate-cost']) prices = lookUpPricesFor(stale, { credentials, ec2For: clients.get, now: startedAt, abortSignal: readDeadline() })
      }
    })
    // Read after the first AWS requests are on their way, since sweeping does not need it.
    const context = runContext()
    const result = await sweeping
    report.regions.push(...result.regions)
    for (const [kind, findings] of result.findings) addFindings(report, kind, findings)
    report.errors.push(...result.errors)
    if (prices) report.cost = costFrom(builderFindings(report), await prices, startedAt)
    report.run = await context
    if (inputs['fail-on-stale']) report.errors.push(...staleProblems(report))
    return { report, credentials }
  } finally {
    clients.destroyAll()
    report.finishedAt = new Date().toISOString()
  }
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
    parts = buildNotifications(KIND_MODULES, report, topicArn)
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
    ...emptyReportLists(),
    errors: [],
    cancelled: false
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
  const found = allFindings(report).filter(isSelected)
  return found.length > 0 ? [`fail-on-stale: ${found.length} stale Packer resource(s) found.`] : []
}
