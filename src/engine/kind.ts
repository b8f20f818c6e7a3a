/**
 * What one kind of Packer leftover declares about itself, and the shape of the work a sweep does
 * with it. A kind is one module in src/kinds/ and one line in its registry.ts; everything that lists
 * kinds (the `resources` input, the outputs, the report's lists, the permissions, the summary,
 * the notification, the log) reads them from the registry.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { RegionPass } from './discovery.js'
import type { Permission } from '../model/permissions.js'
import type { PhaseSignals } from './run-control.js'

export type { PhaseSignals } from './run-control.js'
export type { Scope } from './leftover-kind.js'
import { isSelected, sortedIds } from '../model/findings.js'
import type { StoragePrices, StorageWords } from '../model/cost.js'
import type { Finding, InstanceRecord, Inputs, KindFailure, StorageCost } from '../model/types.js'
import type { InstanceLink } from './instance-usage.js'
import type { LeftoverPart, Scope } from './leftover-kind.js'
import type { Kind } from '../kinds/names.js'

/** Why a planned change is not made: the run is over a cap, or the job was cancelled first. */
export type HeldBack = 'over-cap' | 'cancelled'

/** The reason on everything a cap held back. */
export const OVER_CAP = 'not acted on: the run is over its cap'

export interface KindNouns {
  singular: string
  plural: string
  /** The heading of its section in the summary and the notification. */
  title: string
}

/** The IAM actions a kind's sweep calls: always `read`, and per action what changing it takes. */
export interface KindPermissions {
  read: readonly Permission[]
  stop: readonly Permission[]
  terminate: readonly Permission[]
}

/**
 * One output of action.yml that lists IDs of this kind (a JSON array), or counts them. Its
 * `description` is the output's text in action.yml, written there by `npm run docs` (which refuses
 * an output without one).
 */
export type KindOutput =
  | { name: string; description?: string; ids(findings: readonly Finding[]): string[] }
  | { name: string; description?: string; count(findings: readonly Finding[]): number }

/** An output listing the IDs of the kind's selected resources (all but the skipped ones). */
export function selectedIdsOutput(name: string): KindOutput {
  return { name, ids: (findings) => sortedIds(findings, isSelected) }
}

/** A leftover's permissions: only terminate deletes leftovers; stop has nothing to stop on them. */
export function leftoverPermissions({
  read,
  remove
}: {
  read: readonly Permission[]
  remove: readonly Permission[]
}): KindPermissions {
  return { read, stop: [], terminate: remove }
}

/** A survey that found nothing it may act on: the region failed for the kinds its errors name. */
export function failedSurvey(errors: KindFailure[]): RegionalSurvey {
  return { errors, terminating: new Set(), changes: 0, act: async () => new Map(), holdBack: () => new Map() }
}

/** Where account-wide kinds (IAM has no region) report their findings. */
export const GLOBAL_REGION = 'global'

/** One cell a kind adds to its table in the summary: data from AWS (shown as a literal), or its own words. */
export type SummaryCell = { data: string } | { text: string }

/** Columns a kind adds to its table in the job summary, after the columns every leftover has. */
export interface SummaryColumns {
  headers: readonly string[]
  /** One cell per header; the summary escapes every one. */
  cells(finding: Finding): readonly SummaryCell[]
}

/**
 * What a kind's findings cost to keep in EBS per month, with estimate-cost: the run looks up the
 * storage prices of the regions its findings are in (once each, while it acts), prices each
 * finding, and the summary and the notification total them in its words.
 */
export interface KindStorageCost extends Omit<StorageWords, 'singular' | 'plural'> {
  /** The finding with its monthly cost at its region's prices (undefined: none were looked up). */
  priced(finding: Finding, prices: StoragePrices | undefined): Finding
  /** Its monthly cost, once priced; undefined before (or without estimate-cost). */
  monthlyCost(finding: Finding): StorageCost | undefined
}

export interface Declaration {
  /** Its name in the `resources` input; its report list is named in names.ts. */
  name: Kind
  nouns: KindNouns
  /** One line for the README's table of kinds. */
  description: string
  /** Its outputs, in action.yml's order. */
  outputs: readonly KindOutput[]
  permissions: KindPermissions
  /** Error codes of its change call that mean something still uses it: reported `in-use`, never forced. */
  inUseCodes: readonly string[]
  /** The summary's heading of the column that names a resource whose ID is its name. */
  nameHeader: string
  /** What a dry run of this kind cannot prove, said in the summary; absent when DryRun proves it all. */
  dryRunCaveat?: string
  /** What the summary says once under the kind's section with these settings: how to let it do more, what it never looks at. */
  caveats?(settings: Omit<Inputs, 'regions'>): readonly string[]
  /** Its own columns in the summary's table (state, size …). */
  columns?: SummaryColumns
  /** What its findings cost to keep in EBS, with estimate-cost; absent for kinds that cost nothing to keep. */
  storageCost?: KindStorageCost
}

/**
 * What instances use of an account-wide kind. Where a swept region lists its live instances anyway
 * (a regional kind needs the listing), `link` is read from that listing; every other enabled
 * region is asked with the call that needs `elsewhere`.
 */
export interface AccountInstanceUse {
  link: InstanceLink
  elsewhere: Permission
}

/**
 * The instances Packer launched: found by the filters, stopped or terminated in batches of 100.
 * Every other kind is judged by what this one frees, so it is surveyed and acted on first.
 */
export type BuilderKind = Declaration & {
  engine: 'builders'
  survey(scope: RegionScope, signals: PhaseSignals): Promise<RegionalSurvey>
}

/**
 * A leftover (key pair, group, template, IAM profile…): its hooks, which the one leftover engine
 * (engine/leftovers.ts) plans and removes in its scope, a region or the account.
 */
export type LeftoverKindModule = Declaration & {
  engine: 'leftovers'
  leftovers: LeftoverPart
  /** An account kind's question to the swept regions' listings of live instances (see AccountInstanceUse). */
  instanceUse?: AccountInstanceUse
}

/** Every kind: its declaration, and what its engine needs. */
export type KindModule = BuilderKind | LeftoverKindModule

/** A kind's findings grouped by kind, as the engines hand them back. */
export type FindingsByKind = Map<Kind, Finding[]>

/** What a region's engines share. */
export interface RegionScope {
  /** The kinds the inputs select, in the kinds' order. */
  kinds: readonly KindModule[]
  region: string
  client: EC2Client
  inputs: Inputs
  now: Date
  /** Called with each change's findings the moment they are known. */
  onSettled(findings: readonly Finding[]): void
  /** The region's one pass over its live instances, when a selected kind needs to know who uses it. */
  pass?: Promise<RegionPass>
}

/** The work one engine planned in one region (or the account): read-only so far. */
export interface Work {
  /** Changes the plan would make, for max-resources (and max-instances for builders). */
  readonly changes: number
  /** Carries the plan out in the act phase's scope; `terminated` = builder IDs this run terminated. */
  act(scope: Scope, terminated: ReadonlySet<string>): Promise<FindingsByKind>
  /** Reports the plan without carrying it out. */
  holdBack(why: HeldBack): FindingsByKind
}

export interface RegionalSurvey extends Work {
  /** Non-empty means the kinds they name failed in the region; acting adds what it met. */
  errors: KindFailure[]
  /** Builder IDs this run will terminate in the region: what only they hold is freed. */
  terminating: ReadonlySet<string>
  /** Matching instances, and how many of them are younger than max-age. */
  counts?: { matched: number; fresh: number }
  /** The stale builders, for estimate-cost. */
  stale?: readonly InstanceRecord[]
}

export function isBuilderKind(kind: KindModule): kind is BuilderKind {
  return kind.engine === 'builders'
}

export function isLeftoverKind(kind: KindModule): kind is LeftoverKindModule {
  return kind.engine === 'leftovers'
}

/** A leftover swept in each region. */
export function isRegionalLeftoverKind(kind: KindModule): kind is LeftoverKindModule {
  return isLeftoverKind(kind) && kind.leftovers.scope === 'region'
}

/** A leftover swept once per run, beside the regions (IAM has no region). */
export function isAccountLeftoverKind(kind: KindModule): kind is LeftoverKindModule {
  return isLeftoverKind(kind) && kind.leftovers.scope === 'account'
}

/** The kinds a `resources` list selects, in the kinds' order. */
export function selectedKinds<K extends KindModule>(kinds: readonly K[], resources: readonly Kind[]): K[] {
  return kinds.filter((kind) => resources.includes(kind.name))
}

/**
 * What a region's one listing of its live instances must answer: who uses each resource of the
 * selected regional kinds that instances use, and then also what account-wide kinds ask of
 * instances. Empty when no regional kind needs the listing: the run then makes none.
 */
export function instancePassQueries(kinds: readonly KindModule[]): InstanceLink[] {
  const regional = kinds.filter(isLeftoverKind).flatMap(({ leftovers }) => (leftovers.usedBy ? [leftovers.usedBy] : []))
  if (regional.length === 0) return []
  return [
    ...regional,
    ...kinds.filter(isAccountLeftoverKind).flatMap(({ instanceUse }) => (instanceUse ? [instanceUse.link] : []))
  ]
}
