/**
 * The action, top-down: read the inputs, sweep every region, tell the topic, keep the record.
 * Every run ends by itself (each region has a deadline) and leaves a true record, even when the
 * job is cancelled: what was changed is logged the moment it is known, and the outputs, the
 * report file and the summary are written before the runner kills the process.
 */
import * as core from '@actions/core'
import type { AwsCredentialIdentity } from '@smithy/types'
import { regionalClients } from './aws/clients.js'
import { resolveCredentials } from './aws/credentials.js'
import { errorMessage } from './aws/errors.js'
import { homeRegion, resolveRegions } from './aws/regions.js'
import { FORCED_EXIT_MS, regionDeadline, watchCancellation, type RunControl } from './engine/run-control.js'
import { sweep } from './engine/sweep.js'
import { getInputs } from './inputs.js'
import { KIND_MODULES } from './kinds/registry.js'
import { countOf } from './model/format.js'
import type { Inputs } from './model/types.js'
import { costEstimate } from './report/cost-estimate.js'
import { addFindings } from './report/lists.js'
import {
  annotationsFor,
  findingLogLine,
  logAccount,
  logData,
  logRegion,
  logSettled,
  writeAnnotations
} from './report/log.js'
import { notify } from './report/notification.js'
import { keepReportFile, newReport, runContext, staleProblems } from './report/record.js'
import { stepFailures, writeOutputs } from './report/report.js'
import { writeSummary } from './report/summary.js'
import type { Report } from './report/types.js'

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
    core.setFailed(
      `packer-sweeper stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`
    )
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
  await notify(KIND_MODULES, report, inputs, credentials, control)
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
async function sweepAccount(
  inputs: Inputs,
  startedAt: Date,
  control: RunControl
): Promise<{ report: Report; credentials?: AwsCredentialIdentity }> {
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
    const estimate = inputs['estimate-cost']
      ? costEstimate(KIND_MODULES, () => ({
          credentials,
          ec2For: clients.get,
          now: startedAt,
          abortSignal: readDeadline()
        }))
      : undefined
    const plan = {
      kinds: KIND_MODULES,
      inputs,
      credentials,
      home,
      regions,
      now: startedAt,
      control,
      ec2For: (region: string) => clients.get(region)
    }
    const sweeping = sweep(plan, {
      settled: (region, findings) =>
        logSettled(
          region,
          findings.map((finding) => findingLogLine(KIND_MODULES, finding))
        ),
      regionSwept: (result, findings) => logRegion(KIND_MODULES, result, findings, inputs.resources),
      accountSwept: (findings) => logAccount(KIND_MODULES, findings),
      surveyed: (stale, leftovers) => estimate?.start(stale, leftovers)
    })
    // Read after the first AWS requests are on their way, since sweeping does not need it.
    const context = runContext()
    const result = await sweeping
    report.regions.push(...result.regions)
    for (const [kind, findings] of result.findings) addFindings(report, kind, findings)
    report.errors.push(...result.errors)
    await estimate?.addTo(report)
    report.run = await context
    if (inputs['fail-on-stale']) report.errors.push(...staleProblems(report))
    return { report, credentials }
  } finally {
    clients.destroyAll()
    report.finishedAt = new Date().toISOString()
  }
}
