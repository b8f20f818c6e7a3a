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
