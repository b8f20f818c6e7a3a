/**
 * The run's record around the sweep: a new report, the run context it links to, what
 * fail-on-stale adds to it, and the whole report kept as a file.
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { errorMessage } from '../aws/errors.js'
import { emptyReportLists } from '../kinds/findings.js'
import { isSelected } from '../model/findings.js'
import type { Inputs } from '../model/types.js'
import { allFindings } from './lists.js'
import type { Report, RunContext } from './types.js'

/**
 * The whole report as a file under RUNNER_TEMP (the `report-file` output): outputs and summary
 * have size limits, the file has none. Written before the outputs, which name it.
 */
export function keepReportFile(report: Report): void {
  const directory = process.env.RUNNER_TEMP || tmpdir()
  const file = join(
    directory,
    `packer-sweeper-report-${process.env.GITHUB_RUN_ID ?? 'local'}-${process.env.GITHUB_RUN_ATTEMPT ?? '1'}-${process.pid}.json`
  )
  try {
    report.reportFile = file
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  } catch (error) {
    delete report.reportFile
    core.warning(`Could not write the report file ${file}: ${errorMessage(error)}`)
  }
}

export function newReport(inputs: Inputs, startedAt: Date): Report {
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
export async function runContext(): Promise<RunContext> {
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
export function staleProblems(report: Report): string[] {
  const found = allFindings(report).filter(isSelected)
  return found.length > 0 ? [`fail-on-stale: ${found.length} stale Packer resource(s) found.`] : []
}
