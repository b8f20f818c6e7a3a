import * as core from '@actions/core'
import { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsCredentialIdentity } from '@smithy/types'
import { actOnInstances, instancesToChange, toFinding } from './actions.js'
import { describeAwsError, errorMessage, formatAwsError } from './aws-errors.js'
import { clientConfig } from './clients.js'
import { resolveCredentials } from './credentials.js'
import { discoverInstances, type RegionDiscovery } from './discovery.js'
import { describeOutcome, formatAge } from './format.js'
import { getInputs } from './inputs.js'
import { buildNotification, publishNotification } from './notification.js'
import { planOrphans, plannedChanges, reportOnly, sweepOrphans, type OrphanContext, type OrphanPlan } from './orphans/index.js'
import { PERMISSION } from './permissions.js'
import { estimateCost } from './pricing.js'
import { capProblems, decideInstance } from './plan.js'
import { homeRegion, resolveRegions } from './regions.js'
import { allOrphans, isSelected, stepFailures, writeOutputs } from './report.js'
import { writeSummary } from './summary.js'
import type { AwsErrorInfo, InstanceFinding, Inputs, OrphanFinding, RegionResult, Report, RunContext } from './types.js'

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
    errors: []
  }
}

/** The IDs this run will terminate in a region: orphans they hold are freed within the run. */
function terminatingIds(inputs: Inputs, discovery: RegionDiscovery | undefined): Set<string> {
  if (inputs.action !== 'terminate' || !discovery) return new Set()
  return new Set(instancesToChange(discovery.stale, inputs).map((record) => record.id))
}

function sweepsOrphans(inputs: Inputs): boolean {
  return inputs.resources.some((kind) => kind !== 'instances')
}

/** Phase one of a region: discovery and the orphan plan. Read-only; a failure is recorded, not thrown. */
async function surveyRegion(client: EC2Client, region: string, inputs: Inputs, now: Date): Promise<RegionSurvey> {
  const survey: RegionSurvey = { region, client, errors: [] }
  if (inputs.resources.includes('instances')) {
    try {
      survey.discovery = await discoverInstances(client, region, inputs, now)
    } catch (error) {
      survey.errors.push(describeAwsError(error, PERMISSION.describeInstances))
      return survey
    }
  }
  if (sweepsOrphans(inputs)) {
    try {
      survey.orphanPlan = await planOrphans({ client, region, inputs, now }, terminatingIds(inputs, survey.discovery))
      // A kind that could not be read fails the region; the kinds that could are still swept.
      survey.errors.push(...survey.orphanPlan.errors.map((failure) => failure.error))
    } catch (error) {
      survey.errors.push(describeOrphanError(error))
    }
  }
  return survey
}

function describeOrphanError(error: unknown): AwsErrorInfo {
  const info = (error as { info?: AwsErrorInfo }).info
  return info ?? describeAwsError(error)
}

/** Findings for a region whose changes are held back (a cap tripped): everything is reported only. */
function reportWithoutActing(survey: RegionSurvey, inputs: Inputs, now: Date, reason: string): Pick<RegionOutcome, 'instances' | 'orphans'> {
  const instances = (survey.discovery?.stale ?? []).map((record) => {
    const decision = decideInstance(record, inputs)
    return toFinding(record, now, decision.call || decision.outcome !== 'skipped' ? { outcome: 'notified', reason } : decision)
  })
  return { instances, orphans: survey.orphanPlan ? reportOnly(survey.orphanPlan) : [] }
}

/** Phase two of a region: act on instances first, then on the leftovers they freed. */
async function actInRegion(survey: RegionSurvey, inputs: Inputs, now: Date): Promise<Pick<RegionOutcome, 'instances' | 'orphans'>> {
  const instances = await actOnInstances(survey.client, survey.discovery?.stale ?? [], inputs, now)
  if (!survey.orphanPlan) return { instances, orphans: [] }
  const terminated = new Set(instances.filter((finding) => finding.outcome === 'terminated').map((finding) => finding.id))
  const context: OrphanContext = { client: survey.client, region: survey.region, inputs, now }
  try {
    return { instances, orphans: await sweepOrphans(context, survey.orphanPlan, terminated) }
  } catch (error) {
    survey.errors.push(describeOrphanError(error))
    return { instances, orphans: reportOnly(survey.orphanPlan) }
  }
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

async function runContext(): Promise<RunContext> {
  if (!process.env.GITHUB_REPOSITORY) return {}
  // Loaded after the first AWS requests are on their way: it is not needed to start sweeping.
  const { context } = await import('@actions/github')
  const repository = `${context.repo.owner}/${context.repo.repo}`
  return {
    repository,
    runUrl: `${context.serverUrl}/${repository}/actions/runs/${context.runId}`,
    actor: context.actor,
    sha: context.sha,
    workflow: context.workflow
  }
}

/** The log says what happened to each resource, so a run can be audited without the summary. */
function logRegion(outcome: RegionOutcome): void {
  const { result } = outcome
  if (result.status === 'failed' && result.error) core.error(`${result.region}: ${formatAwsError(result.error)}`)
  const stale = outcome.instances.length
  const orphans = outcome.orphans.length
  core.info(
    `${result.region}: ${result.matched} matching instances, ${stale} stale` + (orphans > 0 ? `, ${orphans} Packer leftovers` : '')
  )
  for (const finding of outcome.instances) {
    core.info(`  ${finding.id} (${finding.keyName ?? 'no key'}, ${formatAge(finding.ageSeconds)} old): ${describeOutcome(finding)}`)
  }
  for (const finding of outcome.orphans) {
    const age = finding.ageSeconds === undefined ? 'age unknown' : `${formatAge(finding.ageSeconds)} old`
    core.info(`  ${finding.kind.replace(/s$/, '')} ${finding.id} (${finding.name}, ${age}): ${describeOutcome(finding)}`)
  }
}

/** Everything between valid inputs and the finished report. Failures end up in the report, never thrown. */
async function sweep(inputs: Inputs, startedAt: Date): Promise<{ report: Report; credentials?: AwsCredentialIdentity }> {
  const report = newReport(inputs, startedAt)
  const home = homeRegion(inputs)
  let credentials: AwsCredentialIdentity
  try {
    credentials = await resolveCredentials(inputs, home)
  } catch (error) {
    report.errors.push(errorMessage(error))
    return { report }
  }
  const clients = new Map<string, EC2Client>()
  const ec2 = (region: string): EC2Client => {
    let client = clients.get(region)
    if (!client) clients.set(region, (client = new EC2Client(clientConfig({ region, credentials }))))
    return client
  }
  try {
    let regions: string[]
    try {
      regions = await resolveRegions(inputs, ec2(home))
    } catch (error) {
      report.errors.push(errorMessage(error))
      return { report, credentials }
    }
    report.settings.regions = regions
    core.info(`Sweeping ${regions.length} region(s): ${regions.join(', ')}`)

    const surveying = Promise.all(regions.map((region) => surveyRegion(ec2(region), region, inputs, startedAt)))
    const context = runContext().catch((error: unknown) => {
      core.warning(`Could not read the workflow run context: ${errorMessage(error)}`)
      return {}
    })
    const surveys = await surveying

    const changingInstances = surveys.reduce((sum, survey) => sum + instancesToChange(survey.discovery?.stale ?? [], inputs).length, 0)
    const changingOrphans = surveys.reduce((sum, survey) => sum + (survey.orphanPlan ? plannedChanges(survey.orphanPlan) : 0), 0)
    const overCap = capProblems({ instances: changingInstances, total: changingInstances + changingOrphans }, inputs)
    report.errors.push(...overCap)

    const outcomes = await Promise.all(
      surveys.map(async (survey): Promise<RegionOutcome> => {
        const findings =
          overCap.length > 0
            ? reportWithoutActing(survey, inputs, startedAt, 'not acted on: the run is over its cap')
            : await actInRegion(survey, inputs, startedAt)
        const outcome = { ...findings, result: regionResult(survey) }
        logRegion(outcome)
        return outcome
      })
    )
    for (const outcome of outcomes) {
      report.regions.push(outcome.result)
      report.instances.push(...outcome.instances)
      for (const orphan of outcome.orphans) {
        if (orphan.kind === 'key-pairs') report.keyPairs.push(orphan)
        else if (orphan.kind === 'security-groups') report.securityGroups.push(orphan)
        else report.launchTemplates.push(orphan)
      }
    }
    report.instances.sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id))
    if (inputs['estimate-cost']) report.cost = await estimateCost(report.instances, { credentials, ec2For: ec2, now: startedAt })
    report.run = await context
    if (inputs['fail-on-stale']) report.errors.push(...staleProblems(report))
    return { report, credentials }
  } finally {
    for (const client of clients.values()) client.destroy()
    report.finishedAt = new Date().toISOString()
  }
}

/** fail-on-stale: anything stale that was not excluded fails the step (a guard after a build). */
function staleProblems(report: Report): string[] {
  const found = [...report.instances, ...allOrphans(report)].filter(isSelected)
  return found.length > 0 ? [`fail-on-stale: ${found.length} stale Packer resource(s) found.`] : []
}

/**
 * The action: read the inputs, sweep, and always write outputs and summary before the step
 * passes or fails.
 */
export async function run(): Promise<void> {
  try {
    await runChecked()
  } catch (error) {
    // Every expected failure is reported by runChecked; this is the net under a bug.
    core.setFailed(`packer-sweeper stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  }
}

async function runChecked(): Promise<void> {
  const startedAt = new Date()
  let inputs: Inputs
  try {
    inputs = getInputs()
  } catch (error) {
    writeOutputs(undefined)
    core.setFailed(errorMessage(error))
    return
  }

  const { report, credentials } = await sweep(inputs, startedAt)
  writeOutputs(report)
  try {
    await writeSummary(report)
  } catch (error) {
    core.warning(`Could not write the job summary: ${errorMessage(error)}`)
  }

  const topic = inputs['sns-topic-arn']
  if (topic && !inputs['dry-run'] && credentials) {
    try {
      const notification = buildNotification(report, topic)
      if (notification) {
        await publishNotification(notification, credentials)
        core.info(`Published the report to ${topic}`)
      }
    } catch (error) {
      report.errors.push(`Publishing to ${topic} failed: ${formatAwsError(describeAwsError(error, PERMISSION.publish))}`)
    }
  }

  const failures = stepFailures(report)
  if (failures.length > 0) core.setFailed(failures.join('\n'))
}
