/**
 * The report's resource lists, read and filled by kind: each kind's list is named in
 * kinds/names.ts, so no code here needs to know which kinds there are.
 */
import type { KindModule } from '../engine/kind.js'
import { KIND_NAMES, REPORT_LISTS, type Kind, type ListName } from '../kinds/names.js'
import type { Finding, InstanceFinding, OrphanFinding } from '../model/types.js'
import type { Report } from './types.js'

/** A kind's module among the kinds main.ts hands the report (every kind, the registry's). */
export function kindNamed(kinds: readonly KindModule[], kind: Kind): KindModule {
  const found = kinds.find((module) => module.name === kind)
  if (!found) throw new Error(`the report was not handed the kind ${kind}`)
  return found
}

/** The report's list of one kind. Every kind has its own; none falls into another's. */
export function findingsOf(report: Pick<Report, ListName>, kind: Kind): readonly Finding[] {
  return report[REPORT_LISTS[kind]]
}

/** Adds a kind's findings to its list. */
export function addFindings(report: Pick<Report, ListName>, kind: Kind, findings: readonly Finding[]): void {
  // The lists seen as lists of findings: what the engine hands back for a kind is that kind's.
  const lists: Record<ListName, Finding[]> = report
  lists[REPORT_LISTS[kind]].push(...findings)
}

/** Replaces each finding of a kind's list, in place, with what `update` makes of it. */
export function updateFindings(
  report: Pick<Report, ListName>,
  kind: Kind,
  update: (finding: Finding) => Finding
): void {
  const lists: Record<ListName, Finding[]> = report
  const list = lists[REPORT_LISTS[kind]]
  list.forEach((finding, index) => (list[index] = update(finding)))
}

/** Every finding of the report, in the kinds' order. */
export function allFindings(report: Pick<Report, ListName>): Finding[] {
  return KIND_NAMES.flatMap((kind) => findingsOf(report, kind))
}

/** An instance's finding: the one kind whose findings carry no `kind` field. */
export function isInstanceFinding(finding: Finding): finding is InstanceFinding {
  return !('kind' in finding)
}

/** A leftover's finding: every kind's but the builders'. */
export function isLeftoverFinding(finding: Finding): finding is OrphanFinding {
  return 'kind' in finding
}

/** The builders' findings. */
export function builderFindings(report: Pick<Report, ListName>): InstanceFinding[] {
  return allFindings(report).filter(isInstanceFinding)
}

/** The leftovers of every kind but the builders, in the kinds' order. */
export function leftoverFindings(report: Pick<Report, ListName>): OrphanFinding[] {
  return allFindings(report).filter(isLeftoverFinding)
}
