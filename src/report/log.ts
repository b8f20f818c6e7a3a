/**
 * The step's log and run-page annotations. The runner reads stdout line by line (LF and CR both
 * end a line) and executes any line that starts with `::`. Names, tags and error messages come
 * from AWS, where anyone who can tag an instance writes them, so they are data and never
 * commands: every line here is flattened to one line, and lines that carry such data are
 * written between `::stop-commands::<fresh token>` and `::<token>::`, inside which the runner
 * executes nothing. Functions that need the kinds' declarations take the kinds as their first
 * parameter: main.ts hands them the registry's KIND_MODULES.
 */
import { randomUUID } from 'node:crypto'
import * as core from '@actions/core'
import { andMore, countOf, describeOutcome, formatAge, oneLine, shortMessage } from '../model/format.js'
import { GLOBAL_REGION, type FindingsByKind, type KindModule } from '../engine/kind.js'
import { isBuilderKind } from '../engine/kind.js'
import { findingsOf, kindNamed } from './lists.js'
import { allFindings, headline, isNotSwept, REGION_VERDICTS, regionDetails, regionLine } from './report.js'
import type { Finding, InstanceFinding, OrphanFinding, RegionResult, ResourceKind } from '../model/types.js'
import type { Report } from './types.js'

/** A log line holds an ID, a few names and one shortened message: more than this is not one of ours. */
const LOG_LINE_MAX_LENGTH = 2_000

/** Lines holding data from AWS, each one line, with workflow commands off while they are written. */
export function logData(lines: readonly string[]): void {
  if (lines.length === 0) return
  const token = randomUUID()
  core.info(`::stop-commands::${token}`)
  for (const line of lines) core.info(oneLine(line, LOG_LINE_MAX_LENGTH))
  core.info(`::${token}::`)
}

/** A folded section of the log. Written at once, so that regions running side by side never interleave in it. */
export function logGroup(title: string, lines: readonly string[]): void {
  core.startGroup(oneLine(title))
  logData(lines)
  core.endGroup()
}

export function instanceLogLine(finding: InstanceFinding): string {
  return `${finding.id} (${finding.keyName ?? 'no key'}, ${formatAge(finding.ageSeconds)} old): ${describeOutcome(finding)}`
}

export function orphanLogLine(kinds: readonly KindModule[], finding: OrphanFinding): string {
  // A key pair's ID is its name: say it once.
  const name = finding.name !== finding.id ? ` ${finding.name}` : ''
  const age = finding.ageSeconds === undefined ? 'age unknown' : `${formatAge(finding.ageSeconds)} old`
  return `${kindNamed(kinds, finding.kind).nouns.singular} ${finding.id}${name} (${age}): ${describeOutcome(finding)}`
}

/** A builder's or a leftover's log line. */
export function findingLogLine(kinds: readonly KindModule[], finding: Finding): string {
  return 'kind' in finding ? orphanLogLine(kinds, finding) : instanceLogLine(finding)
}

/** Lines logSettled wrote, by region: the groups at the end count them instead of writing them again. */
const settledLines = new Set<string>()
const settledKey = (region: string, line: string) => `${region}\u0000${line}`

/**
 * One batch's or one delete's outcome, the moment it is known, so that the log is a record of
 * what was changed even if the process is killed before the end.
 */
export function logSettled(region: string, lines: readonly string[]): void {
  for (const line of lines) settledLines.add(settledKey(region, line))
  logData(lines.map((line) => `${region}: ${line}`))
}

/** A group's lines: those logSettled has not written (each match used once), then how many it had. */
function groupLines(kinds: readonly KindModule[], findings: readonly Finding[]): string[] {
  const lines = findings.map((finding) => ({ region: finding.region, line: findingLogLine(kinds, finding) }))
  // Keyed by each finding's own region: an account kind's findings (images) live in several.
  const fresh = lines
    .filter(({ region, line }) => !settledLines.delete(settledKey(region, line)))
    .map(({ line }) => line)
  const above = lines.length - fresh.length
  return above === 0 ? fresh : [...fresh, `${countOf(above, 'result')} logged above, as each was done`]
}

/**
 * What one region found and did: a folded group per kind that found anything (the builders' also
 * when nothing was found, with the region's counts), and what failed in the region outside them.
 * `resources` = the selected kinds, for what a partly swept region did sweep.
 */
export function logRegion(
  kinds: readonly KindModule[],
  result: RegionResult,
  findings: FindingsByKind,
  resources: readonly ResourceKind[]
): void {
  if (isNotSwept(result)) logData([regionLine(kinds, result, resources)])
  const foundAny = [...findings.values()].some((list) => list.length > 0)
  for (const kind of kinds) {
    const ofKind = findings.get(kind.name) ?? []
    if (isBuilderKind(kind) && (ofKind.length > 0 || !foundAny)) {
      logGroup(
        `${result.region} · ${kind.nouns.plural}: ${result.matched} matching ${kind.nouns.plural}, ${ofKind.length} stale`,
        groupLines(kinds, ofKind)
      )
    } else if (ofKind.length > 0)
      logGroup(
        `${result.region} · ${countOf(ofKind.length, kind.nouns.singular, kind.nouns.plural)}`,
        groupLines(kinds, ofKind)
      )
  }
}

/** What an account-wide kind found and did, in one group after the regions'. */
export function logAccount(kinds: readonly KindModule[], findings: FindingsByKind): void {
  for (const [kind, list] of findings) {
    const { singular, plural } = kindNamed(kinds, kind).nouns
    if (list.length > 0)
      logGroup(`${GLOBAL_REGION} · ${countOf(list.length, singular, plural)}`, groupLines(kinds, list))
  }
}

/**
 * GitHub shows at most 10 error, 10 warning and 10 notice annotations per step and drops the
 * rest silently. core.setFailed takes one error annotation of its own.
 */
export const ANNOTATIONS_PER_TYPE = 10
const ERROR_ANNOTATIONS = ANNOTATIONS_PER_TYPE - 1

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  title: string
  message: string
}

function failedResourceAnnotation(finding: Finding, noun: string, verb: string): Annotation {
  const what = finding.outcome === 'unknown' ? `no answer on ${verb}` : `${verb} failed`
  return {
    level: 'error',
    title: oneLine(`packer-sweeper: ${noun} ${finding.id} (${finding.region}): ${what}`),
    message: describeOutcome(finding)
  }
}

/**
 * The run page's annotations: an error per failed region and resource (as many as GitHub shows,
 * then one that counts the rest), a warning when a post-build sweep found what a build left
 * behind, and a notice with the headline. Pure: the edge writes them.
 */
export function annotationsFor(kinds: readonly KindModule[], report: Report): Annotation[] {
  const verb = report.settings.action === 'stop' ? 'stop' : 'terminate'
  const errors: Annotation[] = [
    ...report.regions.filter(isNotSwept).map((region): Annotation => ({
      level: 'error',
      title: `packer-sweeper: region ${region.region} ${REGION_VERDICTS[region.status]}`,
      message: regionDetails(kinds, region, report.settings.resources) || region.status
    })),
    ...kinds.flatMap((kind) =>
      findingsOf(report, kind.name)
        .filter((finding) => finding.outcome === 'failed' || finding.outcome === 'unknown')
        .map((finding) => failedResourceAnnotation(finding, kind.nouns.singular, isBuilderKind(kind) ? verb : 'delete'))
    )
  ]
  const shownErrors =
    errors.length <= ERROR_ANNOTATIONS
      ? errors
      : [
          ...errors.slice(0, ERROR_ANNOTATIONS - 1),
          {
            level: 'error' as const,
            title: 'packer-sweeper: more failures',
            message: `${andMore(errors.length - (ERROR_ANNOTATIONS - 1))} failed regions or resources: see the job summary for all of them.`
          }
        ]
  const annotations = [...shownErrors]
  const found = allFindings(report).filter((finding) => finding.outcome !== 'skipped').length
  if (isPostBuildSweep(report) && found > 0) {
    annotations.push({
      level: 'warning',
      title: 'packer-sweeper: the build left resources behind',
      message: `This run's sweep found ${countOf(found, 'Packer resource')} its build left behind (max-age 0 with tags): see the job summary.`
    })
  }
  annotations.push({ level: 'notice', title: 'packer-sweeper', message: shortMessage(headline(report)) })
  return annotations
}

/** max-age 0 is only allowed with tags: the sweep at the end of one build, scoped to its run. */
function isPostBuildSweep(report: Report): boolean {
  return report.settings['max-age'] === 0 && report.settings.tags.length > 0
}

export function writeAnnotations(annotations: readonly Annotation[]): void {
  for (const { level, title, message } of annotations) {
    const properties = { title: oneLine(title) }
    if (level === 'error') core.error(shortMessage(message), properties)
    else if (level === 'warning') core.warning(shortMessage(message), properties)
    else core.notice(shortMessage(message), properties)
  }
}
