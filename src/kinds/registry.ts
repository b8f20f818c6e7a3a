/**
 * The registry of leftover kinds: the only list of them. A new kind is one module in this folder
 * and one entry here; `satisfies` makes a kind that is named but not declared (or declared under
 * another name) a compile error, and everything that lists kinds derives from this object.
 */
import type { InstanceLink } from '../engine/instance-usage.js'
import type { Finding, InstanceFinding, Report } from '../model/types.js'
import { instanceProfiles } from './instance-profiles/index.js'
import { instances } from './instances.js'
import type { AccountLeftoverKind, BuilderKind, KindModule, KindOutput, KindTypes, RegionalLeftoverKind } from '../engine/kind.js'
import { keyPairs } from './key-pairs.js'
import { launchTemplates } from './launch-templates.js'
import { securityGroups } from './security-groups.js'

/** Every kind, in the order a sweep handles and reports them: the builders first, then what they leave. */
export const KIND_NAMES = ['instances', 'key-pairs', 'security-groups', 'launch-templates', 'instance-profiles'] as const
export type Kind = (typeof KIND_NAMES)[number]

export const KINDS = {
  instances,
  'key-pairs': keyPairs,
  'security-groups': securityGroups,
  'launch-templates': launchTemplates,
  'instance-profiles': instanceProfiles
} satisfies { [K in Kind]: KindModule<KindTypes & { kind: K }> }

type ModuleOf<K extends Kind> = (typeof KINDS)[K]
/** The report list a kind's findings go to, e.g. `keyPairs`. */
export type ListName<K extends Kind = Kind> = ModuleOf<K>['list']
/** The finding type a kind reports. */
export type FindingOf<K extends Kind> = ModuleOf<K>['outputs'] extends readonly KindOutput<infer F, string>[] ? F : never
/** The outputs of action.yml that the kinds declare. */
export type KindOutputName = { [K in Kind]: ModuleOf<K>['outputs'][number]['name'] }[Kind]
/** The report's resource lists, one per kind. */
export type ReportLists = { [K in Kind as ListName<K>]: FindingOf<K>[] }

/** Every kind's module, in registry order. */
export const KIND_MODULES: readonly KindModule[] = KIND_NAMES.map((name) => KINDS[name])

export function kindModule(kind: Kind): KindModule {
  return KINDS[kind]
}

/** The kinds a `resources` list selects, in registry order. */
export function selectedKinds(resources: readonly Kind[]): KindModule[] {
  return KIND_MODULES.filter((kind) => resources.includes(kind.name))
}

export function isBuilderKind(kind: KindModule): kind is BuilderKind {
  return kind.engine === 'builders'
}

export function isRegionalLeftoverKind(kind: KindModule): kind is RegionalLeftoverKind {
  return kind.engine === 'regional-leftovers'
}

export function isAccountLeftoverKind(kind: KindModule): kind is AccountLeftoverKind {
  return kind.engine === 'account-leftovers'
}

/**
 * What a region's one listing of its live instances must answer: who uses each resource of the
 * selected regional kinds that instances use, and then also what account-wide kinds ask of
 * instances. Empty when no regional kind needs the listing: the run then makes none.
 */
export function instancePassQueries(resources: readonly Kind[]): InstanceLink[] {
  const kinds = selectedKinds(resources)
  const regional = kinds.filter(isRegionalLeftoverKind).flatMap(({ sweeper }) => ('instanceUse' in sweeper.usage ? [sweeper.usage.instanceUse] : []))
  if (regional.length === 0) return []
  return [...regional, ...kinds.filter(isAccountLeftoverKind).flatMap(({ instanceUse }) => (instanceUse ? [instanceUse.link] : []))]
}

/** The report's list of one kind. Every kind has its own; none falls into another's. */
export function findingsOf(report: Pick<Report, ListName>, kind: KindModule): Finding[] {
  return report[kind.list as ListName]
}

/** Every list of the report empty, for a new report. */
export function emptyLists(): ReportLists {
  return Object.fromEntries(KIND_MODULES.map((kind) => [kind.list, []])) as unknown as ReportLists
}

/** The builders' findings: instances, the one kind whose findings are. */
export function builderFindings(report: Pick<Report, ListName>): InstanceFinding[] {
  return KIND_MODULES.filter(isBuilderKind).flatMap((kind) => findingsOf(report, kind) as InstanceFinding[])
}

/** The leftovers of every kind but the builders, in registry order. */
export function leftoverFindings(report: Pick<Report, ListName>): Finding[] {
  return KIND_MODULES.filter((kind) => !isBuilderKind(kind)).flatMap((kind) => findingsOf(report, kind))
}
