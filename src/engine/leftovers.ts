/**
 * The engine of the regional leftover kinds (key pairs, security groups, launch templates): each
 * kind brings its EC2 edges (engine/regional-kind.ts), this plans and deletes them all alike.
 * surveyLeftovers plans a region's leftovers before any instance is touched (so the caps can
 * count them), and its work carries the plan out once the builders were acted on.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { describeAwsError, errorCode, gotNoAnswer } from '../aws/errors.js'
import { formatAwsError } from '../model/format.js'
import { mapWithConcurrency } from '../aws/batches.js'
import {
  failedSurvey,
  isRegionalLeftoverKind,
  type FindingsByKind,
  type HeldBack,
  type PhaseSignals,
  type RegionalLeftoverKind,
  type RegionalSurvey,
  type RegionScope
} from './kind.js'
import type { Inputs, KindFailure, OrphanFinding } from '../model/types.js'
import { describeReadError } from '../aws/describe-error.js'
import { listLiveInstances, usageFrom, type InstanceUseQuery, type LiveInstances } from './instance-usage.js'
import type { Candidate, OrphanDiscoveryError, OrphanPlan, PlannedOrphan, Usage } from './leftover-model.js'
import {
  deriveAge,
  judgeCandidate,
  judgeUsage,
  remainingUses,
  reportedFinding,
  sortByJudgement,
  toFinding
} from './rules.js'
import { DEFAULT_TERMINATION_WAIT, type TerminationWait, waitForTermination } from './termination-wait.js'

export type { OrphanDiscoveryError, OrphanKind, OrphanPlan, PlannedOrphan } from './leftover-model.js'
export type { TerminationWait } from './termination-wait.js'
export { DEFAULT_TERMINATION_WAIT } from './termination-wait.js'

/** A region's scope for its leftovers, with the signals of the phase at hand. */
export interface OrphanContext extends Partial<PhaseSignals> {
  /** The regional leftover kinds the inputs select, in the kinds' order. */
  kinds: readonly RegionalLeftoverKind[]
  client: EC2Client
  region: string
  inputs: Inputs
  now: Date
  /** How long to wait for instances this run terminated; DEFAULT_TERMINATION_WAIT when absent. */
  terminationWait?: TerminationWait
  /** Called with each delete's finding as soon as it is known. */
  onSettled?: (finding: OrphanFinding) => void
  /**
   * The region's one listing of live instances, when the core made it (it picks the builders out
   * of the same pass); without it the plan lists them itself, once for every kind.
   */
  live?: () => Promise<LiveInstances>
}

/** The reason on leftovers whose delete was never started because the job was cancelled. */
export const NOT_DELETED_CANCELLED = 'not deleted: the job was cancelled first'

function regionalKind(kinds: readonly RegionalLeftoverKind[], kind: OrphanFinding['kind']): RegionalLeftoverKind {
  const module = kinds.find((candidate) => candidate.name === kind)
  if (!module) throw new Error(`${kind} is not a selected regional leftover kind`)
  return module
}

function queriesOf(kinds: readonly RegionalLeftoverKind[]): InstanceUseQuery[] {
  return kinds.flatMap(({ sweeper }) => ('instanceUse' in sweeper.usage ? [sweeper.usage.instanceUse] : []))
}

/**
 * Deletes in flight at once, per kind and region. EC2 throttles each API per account and region
 * with a bucket of tokens (50 for most mutating calls, refilled at 5 a second): half of it lets a
 * region's leftovers of a kind go in one wave without starving other clients of the account.
 */
const DELETE_CONCURRENCY = 25

/**
 * Discovery and rules, no mutating call. `terminating` = instance IDs this run will terminate in
 * this region: what only they use is planned for deletion after them. A kind that cannot be read
 * is left out and named in `plan.errors`; the other kinds are still planned.
 */
export async function planOrphans(
  ctx: OrphanContext,
  terminating: ReadonlySet<string> | PromiseLike<ReadonlySet<string>>
): Promise<OrphanPlan> {
  // Only terminate frees anything: under notify or stop the builders stay and keep their resources.
  const freedByThisRun =
    ctx.inputs.action === 'terminate' ? Promise.resolve(terminating) : Promise.resolve(new Set<string>())
  // One listing of live instances serves every kind that instances use; made only when one is selected.
  const queries = queriesOf(ctx.kinds)
  const live = once(() => ctx.live?.() ?? listLiveInstances(ctx.client, { queries, abortSignal: ctx.abortSignal }))
  const planned = await Promise.all(ctx.kinds.map((kind) => planKind(ctx, kind, live, freedByThisRun)))
  return {
    region: ctx.region,
    action: ctx.inputs.action,
    dryRun: ctx.inputs['dry-run'],
    orphans: planned.flatMap((kind) => kind.orphans),
    errors: planned.flatMap((kind) => kind.errors)
  }
}

/** `make()` the first time, the same promise after. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined
  return () => (made ??= make())
}

/** What uses each stale candidate: from the region's listing of live instances, or the kind's own lookup. */
async function usageOf(
  ctx: OrphanContext,
  kind: RegionalLeftoverKind,
  candidates: readonly Candidate[],
  live: () => Promise<LiveInstances>
): Promise<Map<string, Usage>> {
  const { usage } = kind.sweeper
  if (candidates.length === 0) return new Map()
  return 'instanceUse' in usage
    ? usageFrom(await live(), usage.instanceUse, candidates)
    : usage.find(ctx.client, candidates, ctx.abortSignal)
}

async function planKind(
  ctx: OrphanContext,
  kind: RegionalLeftoverKind,
  live: () => Promise<LiveInstances>,
  terminatingSoon: Promise<ReadonlySet<string>>
): Promise<{ orphans: PlannedOrphan[]; errors: OrphanDiscoveryError[] }> {
  const { sweeper } = kind
  let candidates: Candidate[]
  try {
    candidates = await sweeper.discover(ctx.client, ctx.inputs, ctx.abortSignal)
  } catch (error) {
    return { orphans: [], errors: [{ kind: kind.name, error: describeReadError(error) }] }
  }
  const rules = {
    maxAgeSeconds: ctx.inputs['max-age'],
    excludeTag: ctx.inputs['exclude-tag'],
    onlyReported: (candidate: Candidate) => sweeper.onlyReported?.(candidate, ctx.inputs)
  }
  const first = sortByJudgement(candidates, (candidate) => {
    const age = deriveAge(candidate, ctx.now)
    return { age, ...judgeCandidate(candidate, age, rules) }
  })
  const skipped = first.skipped.map(({ item, age, reason }): PlannedOrphan => ({
    candidate: item,
    age,
    verdict: 'skip',
    skipReason: reason,
    dependsOn: []
  }))
  const stale = first.stale.map(({ item, age }): PlannedOrphan => ({
    candidate: item,
    age,
    verdict: 'orphan',
    dependsOn: []
  }))
  let usage: Map<string, Usage>
  try {
    usage = await usageOf(
      ctx,
      kind,
      stale.map(({ candidate }) => candidate),
      live
    )
  } catch (error) {
    // Without knowing what uses them, none of the stale ones may be touched; the skipped ones stand.
    return { orphans: byName(skipped), errors: [{ kind: kind.name, error: describeReadError(error) }] }
  }
  // Reads are done; what frees them is known once the builders were surveyed.
  const terminating = await terminatingSoon
  const orphans = stale.map((planned): PlannedOrphan => {
    const used = usage.get(planned.candidate.id)
    const judged = judgeUsage(used, terminating)
    if (judged.verdict === 'orphan') return { ...planned, dependsOn: judged.dependsOn }
    // Stale and matching, but something that stays still uses it: reported, never deleted.
    return { ...planned, verdict: 'skip', skipReason: `in use by ${remainingUses(used, terminating).join(', ')}` }
  })
  return { orphans: byName([...skipped, ...orphans]), errors: [] }
}

function byName(planned: PlannedOrphan[]): PlannedOrphan[] {
  return planned.sort(
    (a, b) => a.candidate.name.localeCompare(b.candidate.name) || a.candidate.id.localeCompare(b.candidate.id)
  )
}

/** How many deletions the plan would make (for the max-resources cap), 0 unless action is terminate. */
export function plannedChanges(plan: OrphanPlan): number {
  if (plan.action !== 'terminate') return 0
  return plan.orphans.filter((planned) => planned.verdict === 'orphan').length
}

/** Findings for a plan that is not executed (cap tripped, notify, stop): each `notified` or `skipped`. */
export function reportOnly(kinds: readonly RegionalLeftoverKind[], plan: OrphanPlan): OrphanFinding[] {
  return plan.orphans.map((planned) =>
    reportedFinding(planned, plan.region, plan.action, regionalKind(kinds, planned.candidate.kind).nouns.plural)
  )
}

/**
 * Executes the plan after the instances were acted on. `terminated` = IDs whose
 * TerminateInstances succeeded in this run. Orphans that waited on an instance are deleted once
 * it reached `terminated` (waited for here, bounded); what is still in use is reported as
 * `in-use`, never forced. Under dry-run every delete is made with DryRun and the instances the
 * plan depends on count as gone (they would be). Returns every finding with its final outcome.
 */
export async function sweepOrphans(
  ctx: OrphanContext,
  plan: OrphanPlan,
  terminated: ReadonlySet<string>
): Promise<OrphanFinding[]> {
  if (plan.action !== 'terminate') return reportOnly(ctx.kinds, plan)
  const settled = new Map<PlannedOrphan, OrphanFinding>()
  const settle = (
    planned: PlannedOrphan,
    outcome: OrphanFinding['outcome'],
    reason?: string,
    error?: OrphanFinding['error']
  ) => {
    const finding = toFinding(planned, plan.region, outcome, reason, error)
    settled.set(planned, finding)
    ctx.onSettled?.(finding)
  }

  for (const planned of plan.orphans) {
    if (planned.verdict === 'skip')
      settled.set(
        planned,
        reportedFinding(planned, plan.region, plan.action, regionalKind(ctx.kinds, planned.candidate.kind).nouns.plural)
      )
  }
  let waiting = plan.orphans.filter((planned) => planned.verdict === 'orphan')
  const kinds = [...new Set(waiting.map((planned) => planned.candidate.kind))].map((kind) =>
    regionalKind(ctx.kinds, kind)
  )
  const gone = await instancesGone(ctx, plan, waiting, terminated, queriesOf(kinds))
  if (ctx.cancelled?.aborted) {
    waiting.forEach((planned) => settle(planned, 'notified', NOT_DELETED_CANCELLED))
    return plan.orphans.map((planned) => settled.get(planned) as OrphanFinding)
  }
  waiting = waiting.filter((planned) => {
    const holding = planned.dependsOn.filter((id) => !gone.ids.has(id))
    if (holding.length === 0) return true
    const why = holding.map((id) => gone.whyNot.get(id) ?? `${id} was not terminated by this run`)
    settle(planned, 'in-use', `still used by ${holding.join(', ')}: ${why.join('; ')}`)
    return false
  })

  await Promise.all(
    kinds.map(async (kind) => {
      const ofKind = waiting.filter((planned) => planned.candidate.kind === kind.name)
      const { usage } = kind.sweeper
      const free = 'instanceUse' in usage ? stillFree(ofKind, usage.instanceUse, gone, settle) : ofKind
      await mapWithConcurrency(free, DELETE_CONCURRENCY, (planned) =>
        deleteOrphan(ctx, kind, planned, plan.dryRun, settle)
      )
    })
  )
  return plan.orphans.map((planned) => settled.get(planned) as OrphanFinding)
}

type Settle = (
  planned: PlannedOrphan,
  outcome: OrphanFinding['outcome'],
  reason?: string,
  error?: OrphanFinding['error']
) => void

interface GoneInstances {
  ids: ReadonlySet<string>
  whyNot: ReadonlyMap<string, string>
  /** The region's live instances as last listed, once the wait was over: who uses what right before deleting. */
  live: LiveInstances | { error: unknown } | undefined
}

/**
 * The instances the orphans waited on that are gone now, and, when a kind that instances use is
 * to be deleted, what uses it right before deleting (a build may have started using a key since
 * the plan was made, and DeleteKeyPair would not refuse). Only the instances this run terminated
 * are waited for, and only when something depends on them; under dry-run nothing was terminated
 * and they count as gone, so the report says what a real run would do. With `queries`, each poll
 * of the wait is one listing of the region's live instances, and the last one is the recheck.
 */
async function instancesGone(
  ctx: OrphanContext,
  plan: OrphanPlan,
  orphans: readonly PlannedOrphan[],
  terminated: ReadonlySet<string>,
  queries: readonly InstanceUseQuery[]
): Promise<GoneInstances> {
  const needed = [...new Set(orphans.flatMap((planned) => planned.dependsOn))]
  const whyNot = new Map<string, string>()
  const toWaitFor = plan.dryRun ? [] : needed.filter((id) => terminated.has(id))
  if (!plan.dryRun)
    for (const id of needed) if (!terminated.has(id)) whyNot.set(id, `${id} was not terminated by this run`)
  let live: GoneInstances['live']
  const listing = async (watch: readonly string[], abortSignal?: AbortSignal) => {
    const listed = await listLiveInstances(ctx.client, { queries, watch, ...(abortSignal ? { abortSignal } : {}) })
    live = listed
    return listed.states
  }
  const signals = [ctx.abortSignal, ctx.cancelled].filter((signal): signal is AbortSignal => signal !== undefined)
  const abortSignal = signals.length > 0 ? AbortSignal.any(signals) : undefined
  if (toWaitFor.length === 0) {
    if (queries.length > 0) await listing([], abortSignal).catch((error: unknown) => (live = { error }))
    return { ids: new Set(plan.dryRun ? needed : []), whyNot, live }
  }
  const result = await waitForTermination(ctx.client, toWaitFor, ctx.terminationWait ?? DEFAULT_TERMINATION_WAIT, {
    ...(abortSignal ? { abortSignal } : {}),
    ...(ctx.deadlineAt !== undefined ? { deadlineAt: ctx.deadlineAt } : {}),
    ...(ctx.readBackSignal ? { readBackSignal: ctx.readBackSignal } : {}),
    ...(queries.length > 0 ? { probe: listing } : {})
  })
  result.notTerminated.forEach((why, id) => whyNot.set(id, why))
  if (queries.length > 0 && live === undefined)
    live = { error: result.probeError ?? new Error('the live instances could not be listed') }
  return { ids: result.terminated, whyNot, live }
}

/** The orphans nothing but the `gone` instances uses, as the last listing saw them; the rest are settled. */
function stillFree(
  orphans: readonly PlannedOrphan[],
  query: InstanceUseQuery,
  gone: GoneInstances,
  settle: Settle
): PlannedOrphan[] {
  const { live } = gone
  if (!live || 'error' in live) {
    const error = describeReadError(live?.error ?? new Error('the live instances were not listed'))
    orphans.forEach((planned) => settle(planned, 'failed', 'could not check what uses it before deleting', error))
    return []
  }
  const usage = usageFrom(
    live,
    query,
    orphans.map(({ candidate }) => candidate)
  )
  return orphans.filter((planned) => {
    const uses = remainingUses(usage.get(planned.candidate.id), gone.ids)
    if (uses.length === 0) return true
    settle(planned, 'in-use', `in use by ${uses.join(', ')}`)
    return false
  })
}

async function deleteOrphan(
  ctx: OrphanContext,
  kind: RegionalLeftoverKind,
  planned: PlannedOrphan,
  dryRun: boolean,
  settle: Settle
): Promise<void> {
  const { sweeper } = kind
  const after = planned.dependsOn.length > 0 ? planned.dependsOn.join(', ') : undefined
  if (ctx.cancelled?.aborted) return settle(planned, 'notified', NOT_DELETED_CANCELLED)
  try {
    await sweeper.remove(ctx.client, planned.candidate, dryRun, ctx.abortSignal)
    settle(planned, 'deleted', after && `after ${after} terminated`)
  } catch (error) {
    const code = errorCode(error)
    if (gotNoAnswer(error))
      settle(
        planned,
        'unknown',
        'the delete call got no answer: it may or may not have been deleted',
        describeAwsError(error)
      )
    else if (code === 'DryRunOperation')
      settle(planned, 'dry-run', after && `would be deleted after ${after} terminated`)
    else if (sweeper.alreadyGoneCodes.includes(code)) settle(planned, 'deleted', 'already deleted')
    else if (kind.inUseCodes.includes(code)) settle(planned, 'in-use', formatAwsError(describeAwsError(error)))
    else settle(planned, 'failed', undefined, describeAwsError(error, sweeper.removePermission))
  }
}

/**
 * The regional leftovers of one region as the core drives every engine: planned now (read-only),
 * carried out or held back later. A kind that could not be read fails, named in `errors`; the
 * kinds that could are still swept.
 */
export async function surveyLeftovers(
  scope: RegionScope,
  signals: PhaseSignals,
  terminating: Promise<ReadonlySet<string>>
): Promise<RegionalSurvey> {
  const selected = scope.kinds.filter(isRegionalLeftoverKind)
  const context = (phase: PhaseSignals): OrphanContext => ({
    kinds: selected,
    client: scope.client,
    region: scope.region,
    inputs: scope.inputs,
    now: scope.now,
    ...phase,
    onSettled: (finding) => scope.onSettled([finding])
  })
  const { pass } = scope
  const kinds = selected.map((kind) => kind.name)
  let plan: OrphanPlan
  try {
    plan = await planOrphans(
      { ...context(signals), ...(pass ? { live: () => pass.then(({ live }) => live) } : {}) },
      terminating
    )
  } catch (error) {
    // The plan of every kind is lost with it: each of them failed.
    const info = describeReadError(error)
    return failedSurvey(kinds.map((kind) => ({ kind, ...info })))
  }
  const errors: KindFailure[] = plan.errors.map((failure) => ({ kind: failure.kind, ...failure.error }))
  return {
    errors,
    terminating: new Set(),
    changes: plannedChanges(plan),
    async act(act, terminated) {
      try {
        return byKind(await sweepOrphans(context(act), plan, terminated))
      } catch (error) {
        // Every kind that was planned is only reported now: each of them failed to be swept.
        const info = describeReadError(error)
        const failed = new Set(errors.map((failure) => failure.kind))
        errors.push(...kinds.filter((kind) => !failed.has(kind)).map((kind) => ({ kind, ...info })))
        return byKind(reportOnly(selected, plan))
      }
    },
    holdBack(why: HeldBack) {
      const findings = reportOnly(selected, plan)
      if (why !== 'cancelled' || scope.inputs.action !== 'terminate') return byKind(findings)
      return byKind(
        findings.map((finding) =>
          finding.outcome === 'notified' ? { ...finding, reason: NOT_DELETED_CANCELLED } : finding
        )
      )
    }
  }
}

function byKind(findings: readonly OrphanFinding[]): FindingsByKind {
  const grouped: FindingsByKind = new Map()
  for (const finding of findings) grouped.set(finding.kind, [...(grouped.get(finding.kind) ?? []), finding])
  return grouped
}
