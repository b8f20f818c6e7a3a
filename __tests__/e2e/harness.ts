/** Test-only helpers of the end-to-end suites: what a failed expectation on a run prints. */
import type { RunResult } from '../../sandbox/run-action.js'

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
  const decode = (html: string) => html.replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&')
  const sections = summary.split(/<h3>/).slice(1)
  const section = sections.find((text) => text.startsWith(`${heading}</h3>`))
  if (section === undefined) throw new Error(`the summary has no <h3>${heading}</h3> section:\n${summary}`)
  return decode(section)
}
