/**
 * The report as the step's outputs, and the reasons the step fails. Everything but
 * `writeOutputs` is pure: main decides when to write, these functions decide what.
 */
import * as core from '@actions/core'
import { formatAwsError } from './aws-errors.js'
import { andMore, countOf, oneLine, outcomeBreakdown, outcomeCounts } from './format.js'
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
  'instance-profiles',
  'report-file',
  'outputs-truncated',
  'report'
] as const
export type OutputName = (typeof OUTPUT_NAMES)[number]

/**
 * GitHub keeps at most 1 MB of outputs per job. All of this step's outputs together stay within
 * this budget, with a margin for the other steps' outputs and the delimiters of GITHUB_OUTPUT.
 */
export const OUTPUTS_BYTE_BUDGET = 900_000

/** Outcomes that mean the resource was changed: stopped, terminated or deleted. */
const CHANGED_OUTCOMES: ReadonlySet<Outcome> = new Set(['stopped', 'terminated', 'deleted'])
/** Outcomes that fail the step: the change was refused, or nobody knows whether it was made. */
const NOT_DONE_OUTCOMES: ReadonlySet<Outcome> = new Set(['failed', 'unknown'])

type Finding = InstanceFinding | OrphanFinding

/** Selected for the action: everything found except what was skipped (exclude-tag, age unknown). */
export function isSelected(finding: Finding): boolean {
  return finding.outcome !== 'skipped'
}

function isChanged(finding: Finding): boolean {
  return CHANGED_OUTCOMES.has(finding.outcome)
}

/** The orphan lists of a report with the words to show them by, in the order the sweep handles them. */
export type OrphanKey = 'keyPairs' | 'securityGroups' | 'launchTemplates' | 'instanceProfiles'
export const ORPHAN_KINDS: readonly { kind: OrphanFinding['kind']; key: OrphanKey; singular: string; plural: string; title: string }[] = [
  { kind: 'key-pairs', key: 'keyPairs', singular: 'key pair', plural: 'key pairs', title: 'Key pairs' },
  { kind: 'security-groups', key: 'securityGroups', singular: 'security group', plural: 'security groups', title: 'Security groups' },
  { kind: 'launch-templates', key: 'launchTemplates', singular: 'launch template', plural: 'launch templates', title: 'Launch templates' },
  {
    kind: 'instance-profiles',
    key: 'instanceProfiles',
    singular: 'IAM instance profile and role',
    plural: 'IAM instance profiles and roles',
    title: 'IAM instance profiles and roles'
  }
]

function orphanKind(kind: OrphanFinding['kind']): (typeof ORPHAN_KINDS)[number] {
  const found = ORPHAN_KINDS.find((entry) => entry.kind === kind)
  if (!found) throw new Error(`unknown kind ${kind}`)
  return found
}

/** The words for one kind of leftover. */
export function orphanNouns(kind: OrphanFinding['kind']): { singular: string; plural: string } {
  return orphanKind(kind)
}

/** The report's list of one kind of leftover: every kind has its own, none falls into another's. */
export function orphanList(kind: OrphanFinding['kind']): OrphanKey {
  return orphanKind(kind).key
}

export function allOrphans(report: Report): OrphanFinding[] {
  return ORPHAN_KINDS.flatMap(({ key }) => report[key])
}

/**
 * `3 stale Packer instances terminated`, `3 … found`, `3 … (2 terminated, 1 failed)`; brief:
 * only the failures in parentheses, `3 … (1 failed)`.
 */
function resultPhrase(selected: readonly Finding[], noun: string, brief: boolean): string {
  const counts = outcomeCounts(selected)
  const [only] = counts
  if (counts.length === 1 && only && CHANGED_OUTCOMES.has(only[0])) return `${noun} ${only[0]}`
  if (!selected.some((finding) => isChanged(finding) || NOT_DONE_OUTCOMES.has(finding.outcome) || finding.outcome === 'in-use')) return `${noun} found`
  if (!brief) return `${noun} (${outcomeBreakdown(selected)})`
  const notDone = counts.filter(([outcome]) => NOT_DONE_OUTCOMES.has(outcome)).map(([outcome, count]) => `${count} ${outcome}`)
  return notDone.length > 0 ? `${noun} (${notDone.join(', ')})` : noun
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
    const quiet =
      skipped > 0 ? `${countOf(skipped, 'stale Packer resource')} skipped` : `no stale Packer resources in ${countOf(report.regions.length, 'region')}`
    return report.cancelled ? `cancelled: ${quiet}` : quiet
  }
  return (report.cancelled ? 'cancelled: ' : '') + parts.join(', ') + (report.settings['dry-run'] ? ' (dry run)' : '')
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

function sortedIds(findings: readonly Finding[], keep: (finding: Finding) => boolean): string[] {
  return findings
    .filter(keep)
    .map((finding) => finding.id)
    .sort()
}

type IdOutputName = Exclude<OutputName, 'count' | 'report-file' | 'outputs-truncated' | 'report'>

/** The JSON arrays of IDs, whole. */
function idLists(report: Report): Record<IdOutputName, string[]> {
  return {
    'instance-ids': sortedIds(report.instances, isSelected),
    'acted-ids': sortedIds(report.instances, (finding) => finding.outcome === 'stopped' || finding.outcome === 'terminated'),
    'failed-ids': sortedIds(report.instances, (finding) => finding.outcome === 'failed'),
    'skipped-ids': sortedIds(report.instances, (finding) => finding.outcome === 'skipped'),
    'key-pairs': sortedIds(report.keyPairs, isSelected),
    'security-groups': sortedIds(report.securityGroups, isSelected),
    'launch-templates': sortedIds(report.launchTemplates, isSelected),
    'instance-profiles': sortedIds(report.instanceProfiles, isSelected)
  }
}

/** The longest prefix of `ids` whose JSON array takes at most `maxBytes`. */
function idsWithin(ids: readonly string[], maxBytes: number): string {
  let bytes = 2
  let keep = 0
  for (const id of ids) {
    const more = Buffer.byteLength(JSON.stringify(id)) + (keep > 0 ? 1 : 0)
    if (bytes + more > maxBytes) break
    bytes += more
    keep++
  }
  return JSON.stringify(ids.slice(0, keep))
}

/**
 * Shares `budget` bytes among the lists: each gets an equal share of what the shorter ones leave,
 * so short lists (failed-ids, above all) stay whole and only the longest are cut.
 */
function fitIdLists(lists: Record<IdOutputName, string[]>, budget: number): { values: Record<IdOutputName, string>; cut: IdOutputName[] } {
  const whole = Object.entries(lists).map(([name, ids]) => ({ name: name as IdOutputName, ids, json: JSON.stringify(ids) }))
  const values = {} as Record<IdOutputName, string>
  const cut: IdOutputName[] = []
  let remaining = budget
  const bySize = [...whole].sort((a, b) => a.json.length - b.json.length)
  bySize.forEach((list, index) => {
    const share = Math.floor(remaining / (bySize.length - index))
    const bytes = Buffer.byteLength(list.json)
    if (bytes <= share) values[list.name] = list.json
    else {
      values[list.name] = idsWithin(list.ids, share)
      cut.push(list.name)
    }
    remaining -= Buffer.byteLength(values[list.name])
  })
  // In action.yml's order.
  return { values: Object.fromEntries(whole.map(({ name }) => [name, values[name]])) as Record<IdOutputName, string>, cut }
}

export interface FittedOutputs {
  values: Record<OutputName, string>
  /** Outputs that were shortened to keep all of them within OUTPUTS_BYTE_BUDGET. */
  shortened: OutputName[]
}

/**
 * Every output of action.yml, as the strings `core.setOutput` writes, within OUTPUTS_BYTE_BUDGET
 * together. When everything does not fit, the `report` output keeps the report without its
 * resource lists (it says `truncated` and where `reportFile` is), and the ID arrays share the rest.
 */
export function fitOutputs(report: Report, budget = OUTPUTS_BYTE_BUDGET): FittedOutputs {
  const lists = idLists(report)
  const reportFile = report.reportFile ?? ''
  const fixed = { count: String(lists['instance-ids'].length), 'report-file': reportFile }
  const fixedBytes = Object.values(fixed).reduce((sum, value) => sum + Buffer.byteLength(value), 0) + 'false'.length
  const wholeIds = fitIdLists(lists, Infinity).values
  const wholeIdBytes = Object.values(wholeIds).reduce((sum, value) => sum + Buffer.byteLength(value), 0)
  const wholeReport = JSON.stringify(report)
  if (Buffer.byteLength(wholeReport) <= budget - fixedBytes - wholeIdBytes) {
    return { values: { ...wholeIds, ...fixed, 'outputs-truncated': 'false', report: wholeReport }, shortened: [] }
  }
  const minimal = minimalReportJson(report)
  const ids = fitIdLists(lists, budget - fixedBytes - Buffer.byteLength(minimal))
  const idBytes = Object.values(ids.values).reduce((sum, value) => sum + Buffer.byteLength(value), 0)
  const reportJson = reportJsonWithin(report, budget - fixedBytes - idBytes) ?? minimal
  return { values: { ...ids.values, ...fixed, 'outputs-truncated': 'true', report: reportJson }, shortened: [...ids.cut, 'report'] }
}

/** Every output of action.yml, as the strings `core.setOutput` writes. */
export function outputsFor(report: Report): Record<OutputName, string> {
  return fitOutputs(report).values
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
  'instance-profiles': '[]',
  'report-file': '',
  'outputs-truncated': 'false',
  report: 'null'
}

/** Sets every output. Called on every path, also when the step is about to fail, and without a report when the inputs were invalid. */
export function writeOutputs(report: Report | undefined): void {
  if (!report) {
    for (const [name, value] of Object.entries(OUTPUTS_WITHOUT_REPORT)) core.setOutput(name, value)
    return
  }
  const { values, shortened } = fitOutputs(report)
  for (const [name, value] of Object.entries(values)) core.setOutput(name, value)
  if (shortened.length > 0) {
    const where = report.reportFile ? `the whole report is in ${report.reportFile} (output report-file)` : 'the whole report could not be written to a file'
    core.warning(`Outputs shortened to stay within GitHub's 1 MB per job: ${shortened.join(', ')}; ${where}.`, { title: 'packer-sweeper: outputs shortened' })
  }
}

/** How many entries of each resource list a size-limited report JSON left out. */
export type TruncatedCounts = Record<'instances' | OrphanKey, number>
const RESOURCE_LISTS = ['instances', 'keyPairs', 'securityGroups', 'launchTemplates', 'instanceProfiles'] as const

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
    instanceProfiles: report.instanceProfiles.slice(0, keep),
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

function failureLine(failed: readonly Finding[], singular: string, plural: string, outcome: Outcome): string {
  const shown = failed.slice(0, MAX_IDS_PER_FAILURE_LINE).map((finding) => `${finding.id} (${finding.error?.code ?? 'no error recorded'})`)
  const more = failed.length - shown.length
  const verb = outcome === 'unknown' ? 'got no answer (outcome unknown)' : 'failed'
  return `${countOf(failed.length, singular, plural)} ${verb}: ${shown.join(', ')}${more > 0 ? `, ${andMore(more)}` : ''}`
}

/**
 * Why the step must fail, most important first: a cancellation, the run-level errors main
 * collected (cap, fail-on-stale, a failed publish), then each failed region, then the failed
 * and unknown actions. Empty = the step succeeds.
 */
export function stepFailures(report: Report): string[] {
  const failures = report.cancelled ? ['The job was cancelled before the sweep finished; the report says what was done.'] : []
  failures.push(...report.errors)
  for (const region of report.regions) {
    if (region.status === 'failed') failures.push(`region ${region.region}: ${region.error ? formatAwsError(region.error) : 'failed'}`)
  }
  const lists = [
    { findings: report.instances, singular: 'instance', plural: 'instances' },
    ...ORPHAN_KINDS.map(({ key, singular, plural }) => ({ findings: report[key], singular, plural }))
  ]
  for (const outcome of ['failed', 'unknown'] as const) {
    for (const { findings, singular, plural } of lists) {
      const matching = findings.filter((finding) => finding.outcome === outcome)
      if (matching.length > 0) failures.push(failureLine(matching, singular, plural, outcome))
    }
  }
  // Names and messages come from AWS: each failure stays one line of the step's error.
  return failures.map((failure) => oneLine(failure, Infinity))
}
