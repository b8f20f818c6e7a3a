/**
 * The job summary: what the sweep found and did, per region and per kind of leftover.
 *
 * Rendered here as one HTML string rather than through core.summary's addTable/addList: those
 * do not escape cell text, and the size limit needs the exact bytes that will be written.
 * Every block is a single line of HTML, so no value can end an HTML block with a blank line
 * and drop the text after it into Markdown.
 *
 * Nothing from AWS becomes a link or a mention. Inside an HTML block Markdown links nothing (no
 * autolink literal: a URL, a `www.` name, an e-mail address stay text), but GitHub then links
 * `@mentions`, issue references and commit SHAs in the rendered HTML's text, skipping only what
 * is inside `<code>`, `<pre>` and `<a>`. So every string from AWS (names, tags, states, reasons,
 * error messages, region names) is shown as `literal`: escaped, inside `<code>`.
 *
 * The kinds whose sections it renders are a parameter: main.ts hands it the registry's KIND_MODULES.
 */
import * as core from '@actions/core'
import { costSummaryHtml, formatUsd } from '../model/cost.js'
import {
  andMore,
  byRegionThenId,
  countOf,
  describeOutcome,
  formatAge,
  formatError,
  formatMaxAge,
  formatTime,
  oneLine,
  outcomeBreakdown,
  shortMessage
} from '../model/format.js'
import type { KindModule, SummaryCell } from '../engine/kind.js'
import { isBuilderKind, selectedKinds } from '../engine/kind.js'
import { storageTotals } from './cost-estimate.js'
import { findingsOf, isInstanceFinding, isLeftoverFinding } from './lists.js'
import { allFindings, failedKindWords, headline, isNotSwept, REGION_STATUS_WORDS, sweptWords } from './report.js'
import type { InstanceFinding, OrphanFinding, RegionFailure, RegionResult, StorageCost } from '../model/types.js'
import type { Report } from './types.js'

/** GitHub drops a step summary over 1 MiB (with only an error annotation to show for it). */
export const SUMMARY_MAX_BYTES = 1024 * 1024
/** Rows over all tables; past this a table ends with "… and N more". */
export const SUMMARY_MAX_ROWS = 2000
/** Bytes for all table rows together, at most; less when errors and failed regions take more than the rest. */
export const SUMMARY_ROWS_BYTE_BUDGET = 800 * 1024
/** Room for what surrounds the rows: region headings and counts, table and header tags, "… and N more". */
const SUMMARY_STRUCTURE_RESERVE = 64 * 1024
const MAX_LISTED_ERRORS = 50

/**
 * Characters that HTML or Markdown would read as markup, as numeric references. GitHub shows
 * the character, never the markup: no `<img onerror>`, no `[text](javascript:…)` link, no
 * `|` that splits a Markdown table, no emphasis, code or math.
 */
const MARKUP_CHARACTERS = /[&<>"'`|[\]()*_~\\$]/g

/** Text from AWS (or anywhere) as inert HTML: one line, clipped, every markup character escaped. */
export function escapeForSummary(text: string, maxLength?: number): string {
  return oneLine(text, maxLength).replace(MARKUP_CHARACTERS, (character) => `&#${character.charCodeAt(0)};`)
}

interface RowBudget {
  rows: number
  bytes: number
  /** Rows left out so far, for the line that says where they are. */
  omitted: number
}

/** A table with its header row; rows beyond the budget are counted in a last "… and N more" row. */
function table(headers: readonly string[], rows: readonly string[][], budget: RowBudget): string {
  const cells = (row: readonly string[], tag: 'th' | 'td') =>
    `<tr>${row.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`
  const html = [cells(headers, 'th')]
  let shown = 0
  for (const row of rows) {
    const rowHtml = cells(row, 'td')
    const bytes = Buffer.byteLength(rowHtml)
    if (budget.rows < 1 || bytes > budget.bytes) break
    budget.rows -= 1
    budget.bytes -= bytes
    html.push(rowHtml)
    shown += 1
  }
  const omitted = rows.length - shown
  if (omitted > 0) html.push(`<tr><td colspan="${headers.length}">${andMore(omitted)}</td></tr>`)
  budget.omitted += omitted
  return `<table>${html.join('')}</table>`
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((item) => `<li>${item}</li>`).join('')}</ul>`
}

/** A value as code: escaped, inside `<code>`, where GitHub links and mentions nothing. Every string from AWS is shown so. */
const literal = (text: string, maxLength?: number) => `<code>${escapeForSummary(text, maxLength)}</code>`

function settingsLine(kinds: readonly KindModule[], report: Report): string {
  const settings = report.settings
  const regions = settings.regions.length > 0 ? settings.regions.map((value) => literal(value)).join(', ') : 'none'
  const parts = [
    `Action ${literal(settings.action)}`,
    `max-age ${literal(formatMaxAge(settings['max-age']))}`,
    `regions ${regions}`,
    `resources ${settings.resources.map((value) => literal(value)).join(', ')}`
  ]
  if (settings['dry-run']) parts.push('<b>dry run</b>: nothing was changed')
  // EC2 proves a dry run's permissions with DryRun; a kind that cannot says what is left unproven.
  if (settings['dry-run'])
    for (const { dryRunCaveat } of selectedKinds(kinds, settings.resources)) if (dryRunCaveat) parts.push(dryRunCaveat)
  return `<p>${parts.join(' · ')}</p>`
}

function countsLine(kinds: readonly KindModule[], report: Report): string {
  const parts: string[] = []
  for (const kind of kinds) {
    const findings = findingsOf(report, kind.name)
    const { singular, plural } = kind.nouns
    const noun = isBuilderKind(kind)
      ? countOf(findings.length, `stale ${singular}`, `stale ${plural}`)
      : countOf(findings.length, singular, plural)
    if (findings.length > 0) parts.push(`${noun} (${outcomeBreakdown(findings)})`)
  }
  return parts.length > 0 ? `<p>${parts.join(' · ')}</p>` : ''
}

function errorsSection(errors: readonly string[]): string {
  if (errors.length === 0) return ''
  // Run errors quote AWS (a topic ARN, a refused publish's message): each one is a literal.
  const shown = errors.slice(0, MAX_LISTED_ERRORS).map((error) => literal(shortMessage(error), Infinity))
  if (errors.length > shown.length) shown.push(andMore(errors.length - shown.length))
  return `<h3>Errors</h3>${list(shown)}`
}

/** A region's failure: `key pairs failed: <code>UnauthorizedOperation: …</code>`, the region's own without a kind. */
function regionFailureHtml(kinds: readonly KindModule[], failure: RegionFailure): string {
  const kind = failedKindWords(kinds, failure)
  // describeAwsError already names the permission in the message; say it only when it did not.
  const permission =
    failure.missingPermission && !failure.message.includes(failure.missingPermission)
      ? ` (missing IAM permission ${literal(failure.missingPermission)})`
      : ''
  return `${kind ? `${escapeForSummary(kind)}: ` : ''}${literal(formatError(failure), Infinity)}${permission}`
}

/** The regions not swept in full: what failed in each, and what a partly swept one did sweep. */
function regionsWithFailuresSection(kinds: readonly KindModule[], report: Report): string {
  const regions = report.regions.filter(isNotSwept)
  if (regions.length === 0) return ''
  const items = regions.map((region) => {
    const swept = sweptWords(kinds, region, report.settings.resources)
    const parts = [
      ...region.failures.map((failure) => regionFailureHtml(kinds, failure)),
      ...(swept ? [escapeForSummary(swept)] : [])
    ]
    return `${literal(region.region)}: ${REGION_STATUS_WORDS[region.status]}${parts.length > 0 ? `: ${parts.join('; ')}` : ''}`
  })
  return `<h3>Regions with failures</h3>${list(items)}`
}

const INSTANCE_HEADERS = ['Instance', 'Name', 'Key', 'Launched', 'Age', 'State', 'Outcome']

/** An empty cell for what a resource does not have, else the value as a literal. */
const optionalLiteral = (text: string | undefined) => (text ? literal(text) : '')

/** A time we could read, as we write it; else what AWS said, as a literal. */
function timeCell(iso: string): string {
  const time = formatTime(iso)
  return time === iso ? literal(iso) : escapeForSummary(time)
}

/** The outcome, and what came with it (a reason, AWS's error) as a literal. */
const outcomeCell = (finding: InstanceFinding | OrphanFinding) =>
  describeOutcome(finding, (detail) => literal(detail, Infinity))

function instanceRow(finding: InstanceFinding): string[] {
  return [
    literal(finding.id),
    optionalLiteral(finding.name),
    optionalLiteral(finding.keyName),
    timeCell(finding.launchTime),
    escapeForSummary(formatAge(finding.ageSeconds)),
    literal(finding.state),
    outcomeCell(finding)
  ]
}

function regionCounts(region: RegionResult | undefined, stale: number): string {
  if (!region) return countOf(stale, 'stale instance')
  return `${countOf(stale, 'stale instance')} of ${region.matched} matching, ${region.fresh} younger than max-age`
}

/** The builders, a table per region with the region's counts, and the quiet regions in one line. */
function buildersSection(kind: KindModule, report: Report, budget: RowBudget): string {
  if (!report.settings.resources.includes(kind.name)) return ''
  const byRegion = new Map<string, InstanceFinding[]>()
  // Regions in the report's order first, then any region only an instance names.
  for (const region of report.regions) byRegion.set(region.region, [])
  for (const finding of findingsOf(report, kind.name).filter(isInstanceFinding))
    byRegion.set(finding.region, [...(byRegion.get(finding.region) ?? []), finding])
  const regionResults = new Map(report.regions.map((region) => [region.region, region]))
  const quiet: string[] = []
  const tables: string[] = []
  for (const [region, findings] of byRegion) {
    const result = regionResults.get(region)
    if (findings.length === 0) {
      if (result?.status !== 'failed')
        quiet.push(`${literal(region)} (${result?.matched ?? 0} matching, ${result?.fresh ?? 0} younger than max-age)`)
      continue
    }
    const rows = [...findings].sort((a, b) => a.id.localeCompare(b.id)).map(instanceRow)
    tables.push(
      `<h4>${literal(region)}</h4><p>${regionCounts(result, findings.length)}</p>${table(INSTANCE_HEADERS, rows, budget)}`
    )
  }
  const quietLine = quiet.length > 0 ? `<p>No stale instances in ${quiet.join(', ')}.</p>` : ''
  return `<h3>${kind.nouns.title}</h3>${tables.join('')}${quietLine}`
}

function orphanAge(finding: OrphanFinding): string {
  if (finding.ageSeconds === undefined) return 'unknown'
  const source = finding.ageSource === 'name' ? ' (from name)' : ''
  return `${formatAge(finding.ageSeconds)}${source}`
}

/** A cell a kind added: what came from AWS as a literal, its own words escaped. */
const kindCell = (cell: SummaryCell) => ('data' in cell ? optionalLiteral(cell.data) : escapeForSummary(cell.text))

/** A monthly storage cost: `up to $0.40` for an upper bound, or unknown with why. */
function monthlyCostCell(cost: StorageCost | undefined, upperBound: boolean): string {
  if (!cost) return ''
  if ('unknown' in cost) return `unknown ${literal(`(${cost.unknown})`)}`
  return escapeForSummary(`${upperBound ? 'up to ' : ''}${formatUsd(cost.usdPerMonth)}`)
}

/**
 * A leftover kind: what it says once for these settings, then one table over every region, with
 * the kind's own columns and, once priced, what each costs per month. A reason the note above the
 * table gives is not repeated on every row.
 */
function leftoverSection(kind: KindModule, report: Report, budget: RowBudget): string {
  const findings = findingsOf(report, kind.name).filter(isLeftoverFinding)
  if (findings.length === 0) return ''
  const caveats = kind.caveats?.(report.settings) ?? []
  const storage = kind.storageCost
  const priced = storage !== undefined && findings.some((finding) => storage.monthlyCost(finding) !== undefined)
  // Where the ID is the name (a key pair, an IAM profile), one column says it.
  const namedById = findings.every((finding) => finding.id === finding.name)
  const headers = [
    ...(namedById ? [kind.nameHeader, 'Region', 'Created', 'Age'] : ['ID', 'Name', 'Region', 'Created', 'Age']),
    ...(kind.columns?.headers ?? []),
    ...(priced ? ['Per month'] : []),
    'Outcome'
  ].map((header) => escapeForSummary(header))
  const outcome = (finding: OrphanFinding) =>
    finding.reason !== undefined && caveats.includes(finding.reason) && !finding.error
      ? escapeForSummary(`${finding.outcome} (see the note above)`)
      : outcomeCell(finding)
  const rows = [...findings]
    .sort(byRegionThenId)
    .map((finding) => [
      literal(finding.id),
      ...(namedById ? [] : [optionalLiteral(finding.name)]),
      literal(finding.region),
      finding.createdAt ? timeCell(finding.createdAt) : 'unknown',
      escapeForSummary(orphanAge(finding)),
      ...(kind.columns?.cells(finding).map(kindCell) ?? []),
      ...(priced ? [monthlyCostCell(storage.monthlyCost(finding), storage.upperBound)] : []),
      outcome(finding)
    ])
  const notes = caveats.map((caveat) => `<p>${escapeForSummary(`Note: ${caveat}.`, Infinity)}</p>`).join('')
  return `<h3>${kind.nouns.title}</h3>${notes}${table(headers, rows, budget)}`
}

function isClean(report: Report): boolean {
  return (
    allFindings(report).length === 0 &&
    report.errors.length === 0 &&
    !report.cancelled &&
    !report.regions.some(isNotSwept)
  )
}

function cancelledLine(report: Report): string {
  if (!report.cancelled) return ''
  return '<p><b>The job was cancelled</b> before the sweep finished. Every resource below has its true outcome: what was not acted on says so, and what got no answer is <code>unknown</code>.</p>'
}

/** Where the rows the tables left out are: the report file, when there is one. */
function restLine(report: Report, omitted: number): string {
  if (omitted === 0) return ''
  const where = report.reportFile
    ? `the file named by the <code>report-file</code> output (${literal(report.reportFile)}); keep it with <code>actions/upload-artifact</code>`
    : 'the report (the report file could not be written)'
  return `<p>The tables leave out ${countOf(omitted, 'row')} to stay under GitHub's 1 MiB: every resource is in ${where}.</p>`
}

/** The whole job summary as HTML (which GitHub's Markdown renders as it is). Pure. */
export function renderSummary(kinds: readonly KindModule[], report: Report): string {
  if (isClean(report)) {
    return `<h2>packer-sweeper</h2>\n<p>No stale Packer resources in ${countOf(report.regions.length, 'region')}.</p>\n${settingsLine(kinds, report)}\n`
  }
  const fixed = [
    `<h2>packer-sweeper: ${escapeForSummary(headline(report))}</h2>`,
    cancelledLine(report),
    countsLine(kinds, report),
    settingsLine(kinds, report),
    errorsSection(report.errors),
    regionsWithFailuresSection(kinds, report),
    costSummaryHtml(report.cost, escapeForSummary, literal, storageTotals(kinds, report))
  ]
  // Rows get what the rest leaves, less room for the headings and table tags around them.
  const fixedBytes = Buffer.byteLength(fixed.join('\n'))
  const budget: RowBudget = {
    rows: SUMMARY_MAX_ROWS,
    bytes: Math.min(SUMMARY_ROWS_BYTE_BUDGET, SUMMARY_MAX_BYTES - fixedBytes - SUMMARY_STRUCTURE_RESERVE),
    omitted: 0
  }
  const sections = kinds.map((kind) =>
    isBuilderKind(kind) ? buildersSection(kind, report, budget) : leftoverSection(kind, report, budget)
  )
  const blocks = [...fixed, ...sections]
  blocks.push(restLine(report, budget.omitted))
  return `${blocks.filter((block) => block !== '').join('\n')}\n`
}

/** Appends the summary to GITHUB_STEP_SUMMARY. Rejects when the runner gave no summary file. */
export async function writeSummary(kinds: readonly KindModule[], report: Report): Promise<void> {
  await core.summary.addRaw(renderSummary(kinds, report), true).write()
}
