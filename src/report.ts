/**
 * The report as the step's outputs, and the reasons the step fails. Everything but
 * `writeOutputs` is pure: main decides when to write, these functions decide what.
 */
import * as core from '@actions/core'
import { formatAwsError } from './aws-errors.js'
import { countOf } from './format.js'
import type { InstanceFinding, OrphanFinding, Outcome, Report } from './types.js'

/** The outputs declared in action.yml, in its order. */
export const OUTPUT_NAMES = [
  'instance-ids',
  'count',
  'acted-ids',
  'failed-ids',
  'skipped-ids',
  'key-pairs',
  'security-groups',
  'launch-templates',
  'report'
] as const
export type OutputName = (typeof OUTPUT_NAMES)[number]

/**
 * GitHub keeps at most 1 MB of outputs per job. The id arrays are kept whole (workflows act on
 * them); the `report` output gets what is left of this budget, with a margin for the other
 * steps' outputs and the delimiters of GITHUB_OUTPUT.
 */
export const OUTPUTS_BYTE_BUDGET = 900_000

/** Outcomes that mean the resource was changed: stopped, terminated or deleted. */
const CHANGED_OUTCOMES: ReadonlySet<Outcome> = new Set(['stopped', 'terminated', 'deleted'])

type Finding = InstanceFinding | OrphanFinding

/** Selected for the action: everything found except what was skipped (exclude-tag, age unknown). */
export function isSelected(finding: Finding): boolean {
  return finding.outcome !== 'skipped'
}

function isChanged(finding: Finding): boolean {
  return CHANGED_OUTCOMES.has(finding.outcome)
}

/** The orphan lists of a report with the words to show them by, in the order the sweep handles them. */
export type OrphanKey = 'keyPairs' | 'securityGroups' | 'launchTemplates'
export const ORPHAN_KINDS: readonly { key: OrphanKey; singular: string; plural: string; title: string }[] = [
  { key: 'keyPairs', singular: 'key pair', plural: 'key pairs', title: 'Key pairs' },
  { key: 'securityGroups', singular: 'security group', plural: 'security groups', title: 'Security groups' },
  { key: 'launchTemplates', singular: 'launch template', plural: 'launch templates', title: 'Launch templates' }
]

export function allOrphans(report: Report): OrphanFinding[] {
  return ORPHAN_KINDS.flatMap(({ key }) => report[key])
}

/** What was done first, then what was not, then what went wrong, then what was left alone. */
const OUTCOME_ORDER: readonly Outcome[] = ['stopped', 'terminated', 'deleted', 'notified', 'dry-run', 'in-use', 'failed', 'skipped']

/** How many findings had each outcome, in the order of OUTCOMES, without the zeros. */
export function outcomeCounts(findings: readonly Finding[]): [Outcome, number][] {
  const counts = new Map<Outcome, number>()
  for (const finding of findings) counts.set(finding.outcome, (counts.get(finding.outcome) ?? 0) + 1)
  return [...counts].sort(([a], [b]) => OUTCOME_ORDER.indexOf(a) - OUTCOME_ORDER.indexOf(b))
}

const OUTCOME_LABEL: Record<Outcome, string> = {
  stopped: 'stopped',
  terminated: 'terminated',
  deleted: 'deleted',
  notified: 'reported',
  'dry-run': 'dry run',
  'in-use': 'in use',
  failed: 'failed',
  skipped: 'skipped'
}

/** `2 terminated, 1 failed`. */
export function outcomeBreakdown(findings: readonly Finding[]): string {
  return outcomeCounts(findings)
    .map(([outcome, count]) => `${count} ${OUTCOME_LABEL[outcome]}`)
    .join(', ')
}

/**
 * `3 stale Packer instances terminated`, `3 … found`, `3 … (2 terminated, 1 failed)`; brief:
 * only the failures in parentheses, `3 … (1 failed)`.
 */
function resultPhrase(selected: readonly Finding[], noun: string, brief: boolean): string {
  const counts = outcomeCounts(selected)
  const [only] = counts
  if (counts.length === 1 && only && CHANGED_OUTCOMES.has(only[0])) return `${noun} ${only[0]}`
  if (!selected.some((finding) => isChanged(finding) || finding.outcome === 'failed' || finding.outcome === 'in-use')) return `${noun} found`
  if (!brief) return `${noun} (${outcomeBreakdown(selected)})`
  const failed = selected.filter((finding) => finding.outcome === 'failed').length
  return failed > 0 ? `${noun} (${failed} failed)` : noun
}

/**
 * What the run did, in one line without the product name: the SNS subject and the summary's
 * heading. Built from counts and fixed words only, never from values AWS returned. `brief`
 * drops words and the outcome breakdown but never a failure, for SNS's short subject.
 */
export function headline(report: Report, { brief = false } = {}): string {
  const parts: string[] = []
  const instances = report.instances.filter(isSelected)
  const instanceNoun = brief ? 'stale instance' : 'stale Packer instance'
  if (instances.length > 0) parts.push(resultPhrase(instances, countOf(instances.length, instanceNoun), brief))
  const orphans = allOrphans(report).filter(isSelected)
  const orphanNoun = brief ? 'leftover' : 'Packer leftover'
  if (orphans.length > 0) parts.push(resultPhrase(orphans, countOf(orphans.length, orphanNoun), brief))
  const failedRegions = report.regions.filter((region) => region.status === 'failed').length
  if (failedRegions > 0) parts.push(`${countOf(failedRegions, 'region')} failed`)
  if (report.errors.length > 0) parts.push(countOf(report.errors.length, 'error'))
  if (parts.length === 0) {
    const skipped = report.instances.length + allOrphans(report).length
    if (skipped > 0) return `${countOf(skipped, 'stale Packer resource')} skipped`
    return `no stale Packer resources in ${countOf(report.regions.length, 'region')}`
  }
  return parts.join(', ') + (report.settings['dry-run'] ? ' (dry run)' : '')
}

/** True when the run selected something for the action or something went wrong: worth telling someone. */
export function needsAttention(report: Report): boolean {
  return (
    report.instances.some(isSelected) ||
    allOrphans(report).some(isSelected) ||
    report.regions.some((region) => region.status === 'failed') ||
    report.errors.length > 0
  )
}

function sortedIds(findings: readonly Finding[], keep: (finding: Finding) => boolean): string {
  return JSON.stringify(
    findings
      .filter(keep)
      .map((finding) => finding.id)
      .sort()
  )
}

/** Every output of action.yml, as the strings `core.setOutput` writes. */
export function outputsFor(report: Report): Record<OutputName, string> {
  const selectedInstances = report.instances.filter(isSelected)
  const idOutputs = {
    'instance-ids': sortedIds(selectedInstances, () => true),
    count: String(selectedInstances.length),
    'acted-ids': sortedIds(report.instances, (finding) => finding.outcome === 'stopped' || finding.outcome === 'terminated'),
    'failed-ids': sortedIds(report.instances, (finding) => finding.outcome === 'failed'),
    'skipped-ids': sortedIds(report.instances, (finding) => finding.outcome === 'skipped'),
    'key-pairs': sortedIds(report.keyPairs, isSelected),
    'security-groups': sortedIds(report.securityGroups, isSelected),
    'launch-templates': sortedIds(report.launchTemplates, isSelected)
  }
  const idBytes = Object.values(idOutputs).reduce((sum, value) => sum + Buffer.byteLength(value), 0)
  const reportBudget = Math.max(0, OUTPUTS_BYTE_BUDGET - idBytes)
  return { ...idOutputs, report: reportJsonWithin(report, reportBudget) ?? minimalReportJson(report) }
}

/**
 * The outputs of a run that produced no report (invalid inputs): empty lists, and `null` for
 * the report, so that every output still parses as JSON in `fromJSON(...)`.
 */
export const OUTPUTS_WITHOUT_REPORT: Readonly<Record<OutputName, string>> = {
  'instance-ids': '[]',
  count: '0',
  'acted-ids': '[]',
  'failed-ids': '[]',
  'skipped-ids': '[]',
  'key-pairs': '[]',
  'security-groups': '[]',
  'launch-templates': '[]',
  report: 'null'
}

/** Sets every output. Called on every path, also when the step is about to fail, and without a report when the inputs were invalid. */
export function writeOutputs(report: Report | undefined): void {
  const outputs = report ? outputsFor(report) : OUTPUTS_WITHOUT_REPORT
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value)
}

/** How many entries of each resource list a size-limited report JSON left out. */
export type TruncatedCounts = Record<'instances' | OrphanKey, number>
const RESOURCE_LISTS = ['instances', 'keyPairs', 'securityGroups', 'launchTemplates'] as const

/** The report with at most `keep` entries per resource list, and `truncated` when any were left out. */
function reportKeeping(report: Report, keep: number): Report & { truncated?: TruncatedCounts } {
  const truncated = Object.fromEntries(RESOURCE_LISTS.map((list) => [list, Math.max(0, report[list].length - keep)])) as TruncatedCounts
  if (Object.values(truncated).every((count) => count === 0)) return report
  return {
    ...report,
    instances: report.instances.slice(0, keep),
    keyPairs: report.keyPairs.slice(0, keep),
    securityGroups: report.securityGroups.slice(0, keep),
    launchTemplates: report.launchTemplates.slice(0, keep),
    truncated
  }
}

/**
 * The report as compact JSON in at most `maxBytes`, as `measure` counts them (UTF-8 bytes by
 * default; the notification counts the bytes it takes escaped inside its envelope). When the
 * whole report is too big, every resource list is cut to the same largest length that fits,
 * so short lists stay whole, and a `truncated` field (not part of the Report type) says how many
 * entries each list lost. Undefined when not even empty lists fit.
 */
export function reportJsonWithin(report: Report, maxBytes: number, measure: (json: string) => number = (json) => Buffer.byteLength(json)): string | undefined {
  const fits = (keep: number): string | undefined => {
    const json = JSON.stringify(reportKeeping(report, keep))
    return measure(json) <= maxBytes ? json : undefined
  }
  const longest = Math.max(...RESOURCE_LISTS.map((list) => report[list].length))
  const whole = fits(longest)
  if (whole !== undefined) return whole
  // Binary search for the largest `keep` that fits: about log2(n) serialisations, not n.
  let best = fits(0)
  if (best === undefined) return undefined
  let low = 0
  let high = longest
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    const json = fits(middle)
    if (json === undefined) high = middle
    else {
      low = middle
      best = json
    }
  }
  return best
}

/**
 * Last resort when the id arrays alone fill the output budget: counts instead of entries, so
 * the `report` output still parses and says what it left out.
 */
function minimalReportJson(report: Report): string {
  return JSON.stringify(reportKeeping(report, 0))
}

const MAX_IDS_PER_FAILURE_LINE = 20

function failureLine(failed: readonly Finding[], singular: string, plural: string): string {
  const shown = failed.slice(0, MAX_IDS_PER_FAILURE_LINE).map((finding) => `${finding.id} (${finding.error?.code ?? 'no error recorded'})`)
  const more = failed.length - shown.length
  return `${countOf(failed.length, singular, plural)} failed: ${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`
}

/**
 * Why the step must fail, most important first: the run-level errors main collected (cap,
 * fail-on-stale, a failed publish), then each failed region, then the failed actions.
 * Empty = the step succeeds.
 */
export function stepFailures(report: Report): string[] {
  const failures = [...report.errors]
  for (const region of report.regions) {
    if (region.status === 'failed') failures.push(`region ${region.region}: ${region.error ? formatAwsError(region.error) : 'failed'}`)
  }
  const failedInstances = report.instances.filter((finding) => finding.outcome === 'failed')
  if (failedInstances.length > 0) failures.push(failureLine(failedInstances, 'instance', 'instances'))
  for (const { key, singular, plural } of ORPHAN_KINDS) {
    const failed = report[key].filter((finding) => finding.outcome === 'failed')
    if (failed.length > 0) failures.push(failureLine(failed, singular, plural))
  }
  return failures
}
