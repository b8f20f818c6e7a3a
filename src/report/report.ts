/**
 * The report as the step's outputs, and the reasons the step fails. Everything but
 * `writeOutputs` is pure: main decides when to write, these functions decide what. Functions that
 * need the kinds' declarations (their nouns, outputs, engines) take the kinds as their first
 * parameter: main.ts hands them the registry's KIND_MODULES.
 */
import * as core from '@actions/core'
import { CHANGED_OUTCOMES, isChanged, isSelected, NOT_DONE_OUTCOMES } from '../model/findings.js'
import { andMore, countOf, formatError, oneLine, outcomeBreakdown, outcomeCounts } from '../model/format.js'
import { isAccountLeftoverKind, selectedKinds, type KindModule } from '../engine/kind.js'
import { KIND_NAMES, REPORT_LISTS, type Kind, type ListName } from '../kinds/names.js'
import { largestFitting } from '../model/fitting.js'
import { allFindings, builderFindings, findingsOf, kindNamed, leftoverFindings } from './lists.js'

export { allFindings } from './lists.js'
import type { Finding, Outcome, RegionFailure, RegionResult, RegionStatus } from '../model/types.js'
import type { Report } from './types.js'
import { recordOf } from '../model/record.js'

/** Outputs about the run rather than one kind, after the kinds' own in action.yml. */
const RUN_OUTPUT_NAMES = ['report-file', 'outputs-truncated', 'report'] as const

/** The outputs declared in action.yml, in its order: each kind's (in the order of `kinds`), then the run's. */
export function outputNames(kinds: readonly KindModule[]): string[] {
  return [...kinds.flatMap((kind) => kind.outputs.map((output) => output.name)), ...RUN_OUTPUT_NAMES]
}
export type OutputName = string
/** Every output's value: the run's outputs are always there, each kind's too (named by its declaration). */
export type OutputValues = Record<OutputName, string> & RunOutputs

type RunOutputs = Record<(typeof RUN_OUTPUT_NAMES)[number], string>

/**
 * GitHub keeps at most 1 MB of outputs per job. All of this step's outputs together stay within
 * this budget, with a margin for the other steps' outputs and the delimiters of GITHUB_OUTPUT.
 */
export const OUTPUTS_BYTE_BUDGET = 900_000

/**
 * `3 stale Packer instances terminated`, `3 … found`, `3 … (2 terminated, 1 failed)`; brief:
 * only the failures in parentheses, `3 … (1 failed)`.
 */
function resultPhrase(selected: readonly Finding[], noun: string, brief: boolean): string {
  const counts = outcomeCounts(selected)
  const [only] = counts
  if (counts.length === 1 && only && CHANGED_OUTCOMES.has(only[0])) return `${noun} ${only[0]}`
  if (
    !selected.some(
      (finding) => isChanged(finding) || NOT_DONE_OUTCOMES.has(finding.outcome) || finding.outcome === 'in-use'
    )
  )
    return `${noun} found`
  if (!brief) return `${noun} (${outcomeBreakdown(selected)})`
  const notDone = counts
    .filter(([outcome]) => NOT_DONE_OUTCOMES.has(outcome))
    .map(([outcome, count]) => `${count} ${outcome}`)
  return notDone.length > 0 ? `${noun} (${notDone.join(', ')})` : noun
}

/**
 * What the run did, in one line without the product name: the SNS subject and the summary's
 * heading. Built from counts and fixed words only, never from values AWS returned. `brief`
 * drops words and the outcome breakdown but never a failure, for SNS's short subject.
 */
export function headline(report: Report, { brief = false } = {}): string {
  const parts: string[] = []
  // Every stale one is counted, the skipped with their part, as the summary's count line counts them.
  const instances = builderFindings(report)
  const instanceNoun = brief ? 'stale instance' : 'stale Packer instance'
  if (instances.some(isSelected)) parts.push(resultPhrase(instances, countOf(instances.length, instanceNoun), brief))
  const orphans = leftoverFindings(report)
  const orphanNoun = brief ? 'leftover' : 'Packer leftover'
  if (orphans.some(isSelected)) parts.push(resultPhrase(orphans, countOf(orphans.length, orphanNoun), brief))
  for (const status of ['failed', 'partial'] as const) {
    const regions = report.regions.filter((region) => region.status === status).length
    if (regions > 0) parts.push(`${countOf(regions, 'region')} ${REGION_VERDICTS[status]}`)
  }
  if (report.errors.length > 0) parts.push(countOf(report.errors.length, 'error'))
  if (parts.length === 0) {
    const skipped = allFindings(report).length
    const quiet =
      skipped > 0
        ? `${countOf(skipped, 'stale Packer resource')} skipped`
        : `no stale Packer resources in ${countOf(report.regions.length, 'region')}`
    return report.cancelled ? `cancelled: ${quiet}` : quiet
  }
  return (report.cancelled ? 'cancelled: ' : '') + parts.join(', ') + (report.settings['dry-run'] ? ' (dry run)' : '')
}

/** True when the run selected something for the action or something went wrong: worth telling someone. */
export function needsAttention(report: Report): boolean {
  return allFindings(report).some(isSelected) || report.regions.some(isNotSwept) || report.errors.length > 0
}

/** A region where something failed: partly swept, or not at all. */
export function isNotSwept(region: RegionResult): boolean {
  return region.status !== 'ok'
}

/** The selected kinds a region holds: its builders and regional leftovers (account-wide kinds are swept outside the regions). */
export function regionKinds(kinds: readonly KindModule[], resources: readonly Kind[]): Kind[] {
  return selectedKinds(kinds, resources)
    .filter((kind) => !isAccountLeftoverKind(kind))
    .map((kind) => kind.name)
}

/** How a region's status reads in a line about the region (`eu-west-1: nothing swept: …`). */
export const REGION_STATUS_WORDS: Readonly<Record<RegionStatus, string>> = {
  ok: 'swept',
  partial: 'partly swept',
  failed: 'nothing swept'
}
/** How a region's status reads after the region's name, in the headline and the annotations' titles (`1 region failed`). */
export const REGION_VERDICTS: Readonly<Record<RegionStatus, string>> = {
  ok: 'swept',
  partial: 'partly swept',
  failed: 'failed'
}

/** What a failure says before its error: `key pairs failed`, or nothing for the region's own (its deadline). */
export function failedKindWords(kinds: readonly KindModule[], failure: RegionFailure): string | undefined {
  return failure.kind ? `${kindNamed(kinds, failure.kind).nouns.plural} failed` : undefined
}

/**
 * The kinds a partly swept region swept: those that did not fail. None when the region's own
 * failure (a passed deadline) says what was not done: the kinds were swept only in part.
 */
export function sweptKinds(kinds: readonly KindModule[], region: RegionResult, resources: readonly Kind[]): Kind[] {
  if (region.status !== 'partial' || region.failures.some((failure) => !failure.kind)) return []
  return regionKinds(kinds, resources).filter((kind) => !region.failures.some((failure) => failure.kind === kind))
}

/** `instances, security groups swept`, or undefined when there is nothing to say. */
export function sweptWords(
  kinds: readonly KindModule[],
  region: RegionResult,
  resources: readonly Kind[]
): string | undefined {
  const swept = sweptKinds(kinds, region, resources)
  return swept.length > 0 ? `${swept.map((kind) => kindNamed(kinds, kind).nouns.plural).join(', ')} swept` : undefined
}

/**
 * A region that was not swept in full, in one line, as the log, the annotations, the notification
 * and the step's failure say it: `us-east-1: partly swept: key pairs failed: UnauthorizedOperation: …;
 * instances swept`, `eu-west-1: nothing swept: RegionTimeout: …`.
 */
export function regionLine(kinds: readonly KindModule[], region: RegionResult, resources: readonly Kind[]): string {
  const details = regionDetails(kinds, region, resources)
  return `${oneLine(region.region)}: ${REGION_STATUS_WORDS[region.status]}${details ? `: ${details}` : ''}`
}

/** What failed in a region and what was swept: `key pairs failed: UnauthorizedOperation: …; instances swept`. */
export function regionDetails(kinds: readonly KindModule[], region: RegionResult, resources: readonly Kind[]): string {
  const failures = region.failures.map((failure) =>
    [failedKindWords(kinds, failure), formatError(failure)].filter(Boolean).join(': ')
  )
  return [...failures, sweptWords(kinds, region, resources)].filter((part) => part !== undefined).join('; ')
}

/** The JSON arrays of IDs, whole, by output name. */
function idLists(kinds: readonly KindModule[], report: Report): Map<OutputName, string[]> {
  const lists = new Map<OutputName, string[]>()
  for (const kind of kinds) {
    for (const output of kind.outputs)
      if ('ids' in output) lists.set(output.name, output.ids(findingsOf(report, kind.name)))
  }
  return lists
}

/** The outputs that count a kind's resources, as strings. */
function countOutputs(kinds: readonly KindModule[], report: Report): Partial<Record<OutputName, string>> {
  const counts: Partial<Record<OutputName, string>> = {}
  for (const kind of kinds) {
    for (const output of kind.outputs)
      if ('count' in output) counts[output.name] = String(output.count(findingsOf(report, kind.name)))
  }
  return counts
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
function fitIdLists(
  lists: ReadonlyMap<OutputName, string[]>,
  budget: number
): { values: Partial<Record<OutputName, string>>; cut: OutputName[] } {
  const whole = [...lists].map(([name, ids]) => ({ name, ids, json: JSON.stringify(ids) }))
  const values: Partial<Record<OutputName, string>> = {}
  const cut: OutputName[] = []
  let remaining = budget
  const bySize = [...whole].sort((a, b) => a.json.length - b.json.length)
  bySize.forEach((list, index) => {
    const share = Math.floor(remaining / (bySize.length - index))
    const value = Buffer.byteLength(list.json) <= share ? list.json : idsWithin(list.ids, share)
    if (value !== list.json) cut.push(list.name)
    values[list.name] = value
    remaining -= Buffer.byteLength(value)
  })
  return { values, cut }
}

export interface FittedOutputs {
  values: OutputValues
  /** Outputs that were shortened to keep all of them within OUTPUTS_BYTE_BUDGET. */
  shortened: OutputName[]
}

/**
 * Every output of action.yml, as the strings `core.setOutput` writes, within OUTPUTS_BYTE_BUDGET
 * together. When everything does not fit, the `report` output keeps the report without its
 * resource lists (it says `truncated` and where `reportFile` is), and the ID arrays share the rest.
 */
export function fitOutputs(kinds: readonly KindModule[], report: Report, budget = OUTPUTS_BYTE_BUDGET): FittedOutputs {
  const lists = idLists(kinds, report)
  const reportFile = report.reportFile ?? ''
  const fixed = { ...countOutputs(kinds, report), 'report-file': reportFile }
  const fixedBytes = bytesOf(fixed) + 'false'.length
  const wholeIds = fitIdLists(lists, Infinity).values
  const wholeIdBytes = bytesOf(wholeIds)
  const wholeReport = JSON.stringify(report)
  if (Buffer.byteLength(wholeReport) <= budget - fixedBytes - wholeIdBytes) {
    return {
      values: inActionOrder(kinds, { ...wholeIds, ...fixed, 'outputs-truncated': 'false', report: wholeReport }),
      shortened: []
    }
  }
  const minimal = minimalReportJson(report)
  const ids = fitIdLists(lists, budget - fixedBytes - Buffer.byteLength(minimal))
  const idBytes = bytesOf(ids.values)
  const reportJson = reportJsonWithin(report, budget - fixedBytes - idBytes) ?? minimal
  return {
    values: inActionOrder(kinds, { ...ids.values, ...fixed, 'outputs-truncated': 'true', report: reportJson }),
    shortened: [...ids.cut, 'report']
  }
}

function bytesOf(values: Partial<Record<OutputName, string>>): number {
  return Object.values(values).reduce((sum, value) => sum + Buffer.byteLength(value ?? ''), 0)
}

/** Every output, in action.yml's order. */
function inActionOrder(
  kinds: readonly KindModule[],
  values: Partial<Record<OutputName, string>> & RunOutputs
): OutputValues {
  const run: RunOutputs = recordOf(
    RUN_OUTPUT_NAMES,
    (name) => name,
    (name) => values[name]
  )
  // The run's outputs are among the names already: assigning them again keeps action.yml's order.
  return {
    ...recordOf(
      outputNames(kinds),
      (name) => name,
      (name) => values[name] ?? ''
    ),
    ...run
  }
}

/**
 * The outputs of a run that produced no report (invalid inputs): empty lists, and `null` for
 * the report, so that every output still parses as JSON in `fromJSON(...)`.
 */
export function outputsWithoutReport(kinds: readonly KindModule[]): OutputValues {
  return inActionOrder(kinds, {
    ...Object.fromEntries(
      kinds.flatMap((kind) => kind.outputs.map((output) => [output.name, 'ids' in output ? '[]' : '0']))
    ),
    'report-file': '',
    'outputs-truncated': 'false',
    report: 'null'
  })
}

/** Sets every output. Called on every path, also when the step is about to fail, and without a report when the inputs were invalid. */
export function writeOutputs(kinds: readonly KindModule[], report: Report | undefined): void {
  if (!report) {
    for (const [name, value] of Object.entries(outputsWithoutReport(kinds))) core.setOutput(name, value)
    return
  }
  const { values, shortened } = fitOutputs(kinds, report)
  for (const [name, value] of Object.entries(values)) core.setOutput(name, value)
  if (shortened.length > 0) {
    const where = report.reportFile
      ? `the whole report is in ${report.reportFile} (output report-file)`
      : 'the whole report could not be written to a file'
    core.warning(`Outputs shortened to stay within GitHub's 1 MB per job: ${shortened.join(', ')}; ${where}.`, {
      title: 'packer-sweeper: outputs shortened'
    })
  }
}

/** How many entries of each resource list a size-limited report JSON left out. */
export type TruncatedCounts = Record<ListName, number>

/** The report with at most `keep` entries per resource list, and `truncated` when any were left out. */
function reportKeeping(report: Report, keep: number): Report & { truncated?: TruncatedCounts } {
  const truncated: TruncatedCounts = recordOf(
    KIND_NAMES,
    (kind) => REPORT_LISTS[kind],
    (kind) => Math.max(0, findingsOf(report, kind).length - keep)
  )
  if (Object.values(truncated).every((count) => count === 0)) return report
  const kept = Object.fromEntries(
    KIND_NAMES.map((kind) => [REPORT_LISTS[kind], findingsOf(report, kind).slice(0, keep)])
  )
  return { ...report, ...kept, truncated }
}

/**
 * The report as compact JSON in at most `maxBytes`, as `measure` counts them (UTF-8 bytes by
 * default; the notification counts the bytes it takes escaped inside its envelope). When the
 * whole report is too big, every resource list is cut to the same largest length that fits,
 * so short lists stay whole, and a `truncated` field (not part of the Report type) says how many
 * entries each list lost. Undefined when not even empty lists fit.
 */
export function reportJsonWithin(
  report: Report,
  maxBytes: number,
  measure: (json: string) => number = (json) => Buffer.byteLength(json)
): string | undefined {
  const fits = (keep: number): string | undefined => {
    const json = JSON.stringify(reportKeeping(report, keep))
    return measure(json) <= maxBytes ? json : undefined
  }
  const longest = Math.max(...KIND_NAMES.map((kind) => findingsOf(report, kind).length))
  const whole = fits(longest)
  if (whole !== undefined) return whole
  if (fits(0) === undefined) return undefined
  // The largest `keep` that fits: a few serialisations (logarithmic in the list's length), not one per entry.
  return fits(largestFitting(longest - 1, (keep) => fits(keep) !== undefined, longest / 2))
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
  const shown = failed
    .slice(0, MAX_IDS_PER_FAILURE_LINE)
    .map((finding) => `${finding.id} (${finding.error?.code ?? 'no error recorded'})`)
  const more = failed.length - shown.length
  const verb = outcome === 'unknown' ? 'got no answer (outcome unknown)' : 'failed'
  return `${countOf(failed.length, singular, plural)} ${verb}: ${shown.join(', ')}${more > 0 ? `, ${andMore(more)}` : ''}`
}

/**
 * Why the step must fail, most important first: a cancellation, the run-level errors main
 * collected (cap, fail-on-stale, a failed publish), then each region not swept in full (naming the
 * kinds that failed in it), then the failed and unknown actions. Empty = the step succeeds.
 */
export function stepFailures(kinds: readonly KindModule[], report: Report): string[] {
  const failures = report.cancelled
    ? ['The job was cancelled before the sweep finished; the report says what was done.']
    : []
  failures.push(...report.errors)
  for (const region of report.regions.filter(isNotSwept))
    failures.push(`region ${regionLine(kinds, region, report.settings.resources)}`)
  for (const outcome of ['failed', 'unknown'] as const) {
    for (const kind of kinds) {
      const { singular, plural } = kind.nouns
      const matching = findingsOf(report, kind.name).filter((finding) => finding.outcome === outcome)
      if (matching.length > 0) failures.push(failureLine(matching, singular, plural, outcome))
    }
  }
  // Names and messages come from AWS: each failure stays one line of the step's error.
  return failures.map((failure) => oneLine(failure, Infinity))
}
