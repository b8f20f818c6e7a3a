/** What a finding's outcome means for the run: selected, changed, not done. Pure. */
import type { Finding, Outcome } from './types.js'

/** Outcomes that mean the resource was changed: stopped, terminated or deleted. */
export const CHANGED_OUTCOMES: ReadonlySet<Outcome> = new Set(['stopped', 'terminated', 'deleted'])
/** Outcomes that fail the step: the change was refused, or nobody knows whether it was made. */
export const NOT_DONE_OUTCOMES: ReadonlySet<Outcome> = new Set(['failed', 'unknown'])

/** Selected for the action: everything found except what was skipped (exclude-tag, age unknown). */
export function isSelected(finding: Finding): boolean {
  return finding.outcome !== 'skipped'
}

export function isChanged(finding: Finding): boolean {
  return CHANGED_OUTCOMES.has(finding.outcome)
}

/** The sorted IDs of the findings `keep` accepts: what the ID outputs list. */
export function sortedIds<F extends Finding>(findings: readonly F[], keep: (finding: F) => boolean): string[] {
  return findings
    .filter(keep)
    .map((finding) => finding.id)
    .sort()
}
