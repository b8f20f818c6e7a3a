/**
 * Test-only helpers of the end-to-end suites: what a failed expectation on a run prints, and the
 * checks every run passes (every suite that runs the action imports this module): the schema
 * check, and the write calls against their baseline (write-calls.ts).
 */
import type { Sandbox } from '../../sandbox/index.js'
import { checkEveryRun, type RunResult } from '../../sandbox/run-action.js'
import { expectMatchesSchema, expectValidSnsMessage, REPORT_SCHEMA } from '../schemas.js'
import { recordWriteCalls } from './write-calls.js'

/** What to print when an expectation on a run fails. */
export function describeRun(run: RunResult): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout.slice(-6000)}\n--- stderr\n${run.stderr.slice(-3000)}`
}

/** Asserts the exit code, showing the run's output when it differs. */
export function expectExit(run: RunResult, code: number): void {
  if (run.exitCode !== code) throw new Error(`expected exit code ${code}, got ${describeRun(run)}`)
}

/** The summary's text under one `<h3>` heading, with HTML entities decoded (names are escaped). */
export function summarySection(summary: string, heading: string): string {
  const decode = (html: string) =>
    html.replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&')
  const sections = summary.split(/<h3>/).slice(1)
  const section = sections.find((text) => text.startsWith(`${heading}</h3>`))
  if (section === undefined) throw new Error(`the summary has no <h3>${heading}</h3> section:\n${summary}`)
  return decode(section)
}

/** How many of each sandbox's SNS messages were checked already: a sandbox may serve several runs. */
const checkedMessages = new WeakMap<Sandbox, number>()

/**
 * The run's report (the `report` output, unless `null` after invalid inputs, and the report file)
 * and every SNS message it published must match the published schemas (schema/).
 */
export function checkRunAgainstSchemas(run: RunResult, sandbox: Sandbox | undefined): void {
  try {
    const output = run.outputs.report
    if (output !== undefined && output !== 'null')
      expectMatchesSchema(REPORT_SCHEMA, JSON.parse(output), 'the report output')
    if (run.reportFileText !== undefined) {
      const file = JSON.parse(run.reportFileText) as Record<string, unknown>
      expectMatchesSchema(REPORT_SCHEMA, file, 'the report file')
      if ('truncated' in file) throw new Error('the report file is truncated: only the report output may be')
    }
    if (sandbox) {
      const messages = sandbox.published.slice(checkedMessages.get(sandbox) ?? 0)
      checkedMessages.set(sandbox, sandbox.published.length)
      for (const [index, published] of messages.entries())
        expectValidSnsMessage(published.message, `SNS message ${index + 1} of this run`)
    }
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${describeRun(run)}`, { cause: error })
  }
}

checkEveryRun(checkRunAgainstSchemas)
// After the schema check: the AWS write calls the run sent, recorded or compared with write-calls.baseline.json.
checkEveryRun(recordWriteCalls)
