/**
 * The one leftover engine: every kind of leftover (key pairs, security groups, launch templates,
 * IAM instance profiles, …) is planned and removed here alike, in a scope (a region, or the
 * account). surveyLeftovers plans before any instance is touched (so the caps can count what it
 * would remove): discover, judge by the kind's rules, read what uses each stale one, and — once
 * the run knows which builders it terminates — what only those builders use is planned for
 * removal after them. Its work then either carries the plan out (wait once per region for those
 * builders, look again right before the first write, remove, settle each the moment it is known)
 * or holds it back (a cap, a cancellation). A kind brings its hooks (engine/leftover-kind.ts).
 */
import { mapWithConcurrency } from '../aws/batches.js'
import { describeReadError } from '../aws/describe-error.js'
import { formatAwsError } from '../model/format.js'
import type { AwsErrorInfo, Finding, KindFailure } from '../model/types.js'
import { listLiveInstances, type InstanceLink, type LiveInstances } from './instance-usage.js'
import type { FindingsByKind, HeldBack, LeftoverKindModule, Work } from './kind.js'
import type {
  InstanceRef,
  LeftoverHooks,
  Planned,
  Rechecked,
  Scope,
  Settlement,
  Users,
  UsersRead
} from './leftover-kind.js'
import { judgeUsage, remainingUses, sortByJudgement } from './rules.js'
import { waitForTermination } from './termination-wait.js'

/** A scope's leftovers, planned: carried out or held back later. */
export interface LeftoverSurvey extends Work {
  /** Kinds that failed in the region: the region's failures. */
  errors: KindFailure[]
  /** Failures of account kinds: run errors, as the account has no region to fail. */
  runErrors: string[]
}

/** One kind's plan in a scope, its candidate type closed over. */
interface KindPlan {
  kind: LeftoverKindModule
  /** Removals the plan would make: 0 unless action is terminate. */
  changes: number
  /** The builders the planned removals wait for, and the listings their default recheck reads (by region). */
  needs: { dependsOn: readonly InstanceRef[]; listings: readonly { region: string; link: InstanceLink }[] }
  /** Every finding, not acted on: skipped ones keep their reason; `why` says why the others were not removed. */
  reported(why: HeldBack | undefined): Finding[]
  /** The planned removals after the wait: those still waiting on builders are settled in-use, the job cancelled settles all. */
  hold(scope: Scope, gone: Gone): void
  /** The recheck and the removals; answers every finding in plan order. */
  finish(scope: Scope, gone: Gone): Promise<Finding[]>
}

/** The builders the removals waited for: which are gone, why the others are not, and each region's last listing. */
interface Gone {
  ids: ReadonlySet<string>
  whyNot: ReadonlyMap<string, string>
  /** Each region's live instances as last listed once its wait was over: who uses what right before removing. */
  live: ReadonlyMap<string, LiveInstances | { error: unknown }>
}

/** Plans every kind of `kinds` in `scope`. `terminating`: the builders this run will terminate. */
export async function surveyLeftovers(
  scope: Scope,
  kinds: readonly LeftoverKindModule[],
  terminating: Promise<ReadonlySet<string>>
): Promise<LeftoverSurvey> {
  const errors: KindFailure[] = []
  const runErrors: string[] = []
  // A kind fails in its region; an account kind's failure is a run error, as the account has no region to fail.
  const fail = (kind: LeftoverKindModule, failure: AwsErrorInfo | string) => {
    if (typeof failure === 'string') runErrors.push(failure)
    else if (kind.leftovers.scope === 'account') runErrors.push(`${labelOf(kind)}: ${formatAwsError(failure)}`)
    else errors.push({ kind: kind.name, ...failure })
  }
  let plans: KindPlan[]
  try {
    plans = await Promise.all(
      kinds.map((kind) =>
        kind.leftovers.open((hooks) => planKind(scope, kind, hooks, terminating, (failure) => fail(kind, failure)))
      )
    )
  } catch (error) {
    // The plan of every kind is lost with it: each of them failed.
    const info = describeReadError(error)
    plans = []
    kinds.forEach((kind) => fail(kind, info))
  }
  const reported = (why: HeldBack | undefined) => byKind(plans, (plan) => plan.reported(why))
  return {
    errors,
    runErrors,
    changes: plans.reduce((sum, plan) => sum + plan.changes, 0),
    async act(act, terminated) {
      if (act.inputs.action !== 'terminate') return reported(undefined)
      try {
        return await actOn(act, plans, terminated)
      } catch (error) {
        // Every kind that was planned is only reported now: each of them failed to be swept.
        const info = describeReadError(error)
        const failed = new Set(errors.map((failure) => failure.kind))
        kinds.filter((kind) => !failed.has(kind.name)).forEach((kind) => fail(kind, info))
        return reported(undefined)
      }
    },
    holdBack: (why) => reported(why)
  }
}

/** How an account kind's run errors start (`IAM instance profiles: …`). */
function labelOf(kind: LeftoverKindModule): string {
  return kind.leftovers.open((hooks) => hooks.label) ?? kind.name
}

function byKind(plans: readonly KindPlan[], findings: (plan: KindPlan) => Finding[]): FindingsByKind {
  return new Map(plans.map((plan) => [plan.kind.name, findings(plan)]))
}

/** Wait once per region for every kind's builders, then each kind's recheck and removals side by side. */
async function actOn(
  scope: Scope,
  plans: readonly KindPlan[],
  terminated: ReadonlySet<string>
): Promise<FindingsByKind> {
  const gone = await buildersGone(
    scope,
    plans.flatMap((plan) => plan.needs.dependsOn),
    plans.flatMap((plan) => plan.needs.listings),
    terminated
  )
  for (const plan of plans) plan.hold(scope, gone)
  const findings = await Promise.all(plans.map((plan) => plan.finish(scope, gone)))
  return new Map(plans.map((plan, index) => [plan.kind.name, findings[index] ?? []]))
}

/**
 * One kind's plan: discovery, the rules, the usage read, all before the builders to terminate
 * are known; then the judgement by them. A read that fails is reported through `fail` (in a
 * region, the kind fails there; in the account, it is a run error).
 */
async function planKind<C>(
  scope: Scope,
  kind: LeftoverKindModule,
  hooks: LeftoverHooks<C>,
  terminating: Promise<ReadonlySet<string>>,
  fail: (failure: AwsErrorInfo | string) => void
): Promise<KindPlan> {
  const account = hooks.scope === 'account'
  const label = hooks.label ?? kind.name
  const problems: AwsErrorInfo[] = []
  const finish = (planned: Planned<C>[]): KindPlan => {
    // An account kind read past its deadline was not read at all: nothing of it is acted on.
    if (account && scope.abortSignal.aborted) {
      fail(`${label} were not read within region-timeout: nothing of them was acted on`)
      return kindPlan(kind, hooks, scope, [])
    }
    problems.forEach(fail)
    return kindPlan(kind, hooks, scope, sorted(hooks, planned))
  }

  const read = await readCandidates(scope, hooks)
  if ('regionsUnknown' in read) {
    fail(
      `${label}: which regions to check for instances using them is unknown, so none was touched: ${read.regionsUnknown}`
    )
    return kindPlan(kind, hooks, scope, [])
  }
  if ('error' in read) {
    problems.push(describeReadError(read.error))
    return finish([])
  }
  const judged = sortByJudgement(read.candidates, (candidate) => hooks.judge(candidate, scope.inputs, scope.now))
  const skipped = judged.skipped.map(({ item, age, reason }): Planned<C> => ({
    candidate: item,
    age,
    verdict: 'skip',
    skipReason: reason,
    dependsOn: []
  }))
  const stale = judged.stale.map(({ item, age }): Planned<C> => ({
    candidate: item,
    age,
    verdict: 'orphan',
    dependsOn: []
  }))
  const reworded = skipped.filter((_, index) => judged.skipped[index]?.namesUsers)
  let users: UsersRead<C> = { of: () => undefined }
  if (stale.length > 0 || reworded.length > 0) {
    try {
      users = await readUsers(
        scope,
        hooks,
        stale.map(({ candidate }) => candidate),
        reworded.map(({ candidate }) => candidate)
      )
    } catch (error) {
      problems.push(describeReadError(error))
      // Without knowing what uses them, none of the stale ones may be touched; the skipped ones stand.
      const { usersUnknown } = hooks
      if (!usersUnknown) return finish(skipped)
      return finish([
        ...skipped,
        ...stale.map((planned): Planned<C> => {
          const skipReason = usersUnknown(planned.candidate)
          return skipReason === undefined ? planned : { ...planned, verdict: 'skip', skipReason }
        })
      ])
    }
  }
  if (account && scope.abortSignal.aborted) return finish([])
  // Reads are done; what frees them is known once the builders were surveyed. Only terminate frees anything.
  const freed = scope.inputs.action === 'terminate' ? await terminating : new Set<string>()
  return finish([
    ...skipped.map((planned) => {
      const reason = users.reword?.(planned.candidate)
      return reason === undefined ? planned : { ...planned, skipReason: reason }
    }),
    ...stale.map((planned) => judgeByUsers(hooks, planned, users.of(planned.candidate), freed))
  ])
}

/**
 * Discovery, and for a kind whose users are looked for in every enabled region, the region list
 * beside it: when that list is unknown, the discovery is stopped and nothing of the kind is planned.
 */
async function readCandidates<C>(
  scope: Scope,
  hooks: LeftoverHooks<C>
): Promise<{ candidates: C[] } | { error: unknown } | { regionsUnknown: string }> {
  if (!hooks.usersInEnabledRegions)
    return hooks.discover(scope).then(
      (candidates) => ({ candidates }),
      (error: unknown) => ({ error })
    )
  // Also aborted when the plan is known to touch nothing: no read is left running behind it.
  const nothing = new AbortController()
  const discovering = hooks
    .discover({ ...scope, abortSignal: AbortSignal.any([scope.abortSignal, nothing.signal]) })
    .then(
      (candidates) => ({ candidates }),
      (error: unknown) => ({ error })
    )
  try {
    await scope.enabledRegions()
  } catch (error) {
    nothing.abort()
    return { regionsUnknown: error instanceof Error ? error.message : String(error) }
  }
  return discovering
}

/** What uses the candidates: the kind's own read, or the region's listing of live instances. */
async function readUsers<C>(
  scope: Scope,
  hooks: LeftoverHooks<C>,
  stale: readonly C[],
  reworded: readonly C[]
): Promise<UsersRead<C>> {
  if (hooks.users) return hooks.users(scope, stale, reworded)
  const { usedBy, rewordUsed } = hooks
  if (!usedBy) return { of: () => undefined }
  const regionOf = (candidate: C) => hooks.regionOf?.(candidate) ?? scope.region
  const regions = [...new Set([...stale, ...(rewordUsed ? reworded : [])].map(regionOf))]
  const listings = new Map(
    await Promise.all(
      regions.map(
        async (region) =>
          [
            region,
            await (scope.instancesIn(region) ??
              listLiveInstances(scope.ec2For(region), { queries: [usedBy], abortSignal: scope.abortSignal }))
          ] as const
      )
    )
  )
  const usersOf = (candidate: C): InstanceRef[] => {
    const region = regionOf(candidate)
    const ids = listings.get(region)?.usersOf(usedBy, usedBy.candidateValue(candidate)) ?? []
    return ids.map((instanceId) => ({ instanceId, region }))
  }
  return {
    of(candidate) {
      const instances = usersOf(candidate)
      return instances.length > 0 ? { instances, others: [] } : undefined
    },
    ...(rewordUsed
      ? {
          reword(candidate: C) {
            const instances = usersOf(candidate)
            return instances.length > 0 ? rewordUsed(candidate, instances) : undefined
          }
        }
      : {})
  }
}

/** The plan of a stale one once its users and the builders this run terminates (`freed`) are known. */
function judgeByUsers<C>(
  hooks: LeftoverHooks<C>,
  planned: Planned<C>,
  users: Users | undefined,
  freed: ReadonlySet<string>
): Planned<C> {
  const judged = judgeUsage(users, freed)
  if (judged.verdict === 'orphan') return { ...planned, dependsOn: judged.dependsOn }
  // Stale and matching, but something that stays still uses it: reported, never removed.
  return {
    ...planned,
    verdict: 'skip',
    skipReason: `in use by ${remainingUses(users, freed, hooks.userWords).join(', ')}`
  }
}

function sorted<C>(hooks: LeftoverHooks<C>, planned: Planned<C>[]): Planned<C>[] {
  const compare = (a: readonly string[], b: readonly string[]) =>
    a.reduce((order, part, index) => order || part.localeCompare(b[index] ?? ''), 0)
  return planned.sort((a, b) => compare(hooks.sortKey(a.candidate), hooks.sortKey(b.candidate)))
}

/** The plan of one kind as the engine drives it; settles each finding the moment it is known. */
function kindPlan<C>(kind: LeftoverKindModule, hooks: LeftoverHooks<C>, scope: Scope, planned: Planned<C>[]): KindPlan {
  const regionOf = (candidate: C) => hooks.regionOf?.(candidate) ?? scope.region
  const { usedBy } = hooks
  const orphans = planned.filter((entry) => entry.verdict === 'orphan')
  const settled = new Map<Planned<C>, Finding>()
  const settle = (act: Scope, entry: Planned<C>, settlement: Settlement, finding?: Finding) => {
    const result = finding ?? hooks.finding(entry, regionOf(entry.candidate), settlement)
    settled.set(entry, result)
    act.onSettled([result])
  }
  const reported = (entry: Planned<C>, why: HeldBack | undefined): Finding => {
    const region = regionOf(entry.candidate)
    if (entry.verdict === 'skip') return hooks.finding(entry, region, { outcome: 'skipped', reason: entry.skipReason })
    const { action } = scope.inputs
    const reason =
      action === 'terminate' && why === 'cancelled'
        ? hooks.words.cancelled
        : action === 'terminate' && why === 'over-cap' && hooks.words.overCap !== undefined
          ? hooks.words.overCap
          : hooks.words.notActed(entry, action)
    return hooks.finding(entry, region, { outcome: 'notified', ...(reason !== undefined ? { reason } : {}) })
  }
  let free: Planned<C>[] = []
  return {
    kind,
    changes: scope.inputs.action === 'terminate' ? orphans.length : 0,
    needs: {
      dependsOn: orphans.flatMap((entry) => entry.dependsOn),
      listings: usedBy
        ? [...new Set(orphans.map((entry) => regionOf(entry.candidate)))].map((region) => ({
            region,
            link: usedBy
          }))
        : []
    },
    reported: (why) => planned.map((entry) => reported(entry, why)),
    hold(act, gone) {
      for (const entry of planned) if (entry.verdict === 'skip') settled.set(entry, reported(entry, undefined))
      if (act.cancelled.aborted) {
        orphans.forEach((entry) => settle(act, entry, { outcome: 'notified', reason: hooks.words.cancelled }))
        free = []
        return
      }
      free = orphans.filter((entry) => {
        const holding = entry.dependsOn.filter((user) => !gone.ids.has(user.instanceId))
        if (holding.length === 0) return true
        const why = holding.map(
          ({ instanceId }) => gone.whyNot.get(instanceId) ?? `${instanceId} was not terminated by this run`
        )
        settle(act, entry, { outcome: 'in-use', reason: hooks.words.holding(holding, why) })
        return false
      })
    },
    async finish(act, gone) {
      const settleIn = (entry: Planned<C>, settlement: Settlement) => settle(act, entry, settlement)
      const unused = usedBy ? stillFree(hooks, free, gone, regionOf, settleIn) : free
      const left: readonly Rechecked<C>[] =
        hooks.recheck && unused.length > 0
          ? await hooks.recheck(act, unused, settleIn)
          : unused.map((entry) => ({ planned: entry, current: entry.candidate }))
      // Each region at the kind's concurrency: an account kind's removals (images) go to every region side by side.
      const byRegion = new Map<string, Rechecked<C>[]>()
      for (const each of left) {
        const region = regionOf(each.planned.candidate)
        byRegion.set(region, [...(byRegion.get(region) ?? []), each])
      }
      await Promise.all(
        [...byRegion.values()].map((group) =>
          mapWithConcurrency(group, hooks.concurrency, async ({ planned: entry, current }) => {
            if (act.cancelled.aborted) return settleIn(entry, { outcome: 'notified', reason: hooks.words.cancelled })
            const { finding, ...settlement } = await hooks.remove(act, entry, current)
            settle(act, entry, settlement, finding)
          })
        )
      )
      return planned.map((entry) => settled.get(entry) ?? reported(entry, undefined))
    }
  }
}

/** The default recheck: what the last listing of the wait saw using each one; what still has a user stays. */
function stillFree<C>(
  hooks: LeftoverHooks<C>,
  free: readonly Planned<C>[],
  gone: Gone,
  regionOf: (candidate: C) => string,
  settle: (entry: Planned<C>, settlement: Settlement) => void
): Planned<C>[] {
  const { usedBy } = hooks
  if (!usedBy) return [...free]
  return free.filter((entry) => {
    const region = regionOf(entry.candidate)
    const live = gone.live.get(region)
    if (!live || 'error' in live) {
      const error = describeReadError(
        live && 'error' in live ? live.error : new Error('the live instances were not listed')
      )
      settle(entry, { outcome: 'failed', reason: 'could not check what uses it before deleting', error })
      return false
    }
    const users = live.usersOf(usedBy, usedBy.candidateValue(entry.candidate)).filter((id) => !gone.ids.has(id))
    if (users.length === 0) return true
    const words = users.map((instanceId) => hooks.userWords({ instanceId, region }))
    settle(entry, { outcome: 'in-use', reason: `in use by ${words.join(', ')}` })
    return false
  })
}

/**
 * The builders the removals wait for that are gone now, waited for once per region, and each
 * region's live instances as last listed, where a kind rechecks its users from that listing (a
 * build may have started using a key since the plan was made, and DeleteKeyPair would not
 * refuse). Only the builders this run terminated are waited for; under dry-run nothing was
 * terminated and they count as gone, so the report says what a real run would do. Where a
 * listing is read, each poll of the wait is one listing of the region's live instances.
 */
async function buildersGone(
  scope: Scope,
  dependsOn: readonly InstanceRef[],
  listings: readonly { region: string; link: InstanceLink }[],
  terminated: ReadonlySet<string>
): Promise<Gone> {
  const dryRun = scope.inputs['dry-run']
  const ids = new Set<string>()
  const whyNot = new Map<string, string>()
  const live = new Map<string, LiveInstances | { error: unknown }>()
  const abortSignal = AbortSignal.any([scope.abortSignal, scope.cancelled])
  const regions = [...new Set([...dependsOn.map((user) => user.region), ...listings.map(({ region }) => region)])]
  await Promise.all(
    regions.map(async (region) => {
      const needed = [...new Set(dependsOn.filter((user) => user.region === region).map((user) => user.instanceId))]
      const own = [...new Set(listings.filter((listing) => listing.region === region).map(({ link }) => link))]
      const shared = scope.sharedListings
      const recent = own.length > 0 && needed.length === 0 ? shared?.get(region, own) : undefined
      if (recent) {
        // Listed by the region's own wait, right before its removals: what the account's removals read again.
        live.set(region, recent)
        return
      }
      // A region that lists anyway answers the account's questions too, so the account need not list it again.
      const queries = own.length > 0 || needed.length > 0 ? [...new Set([...own, ...(shared?.links ?? [])])] : own
      const client = scope.ec2For(region)
      const listing = async (watch: readonly string[], signal?: AbortSignal) => {
        const listed = await listLiveInstances(client, { queries, watch, ...(signal ? { abortSignal: signal } : {}) })
        live.set(region, listed)
        shared?.put(region, listed)
        return listed.states
      }
      if (dryRun) needed.forEach((id) => ids.add(id))
      else for (const id of needed) if (!terminated.has(id)) whyNot.set(id, `${id} was not terminated by this run`)
      const toWaitFor = dryRun ? [] : needed.filter((id) => terminated.has(id))
      if (toWaitFor.length === 0) {
        if (queries.length > 0) await listing([], abortSignal).catch((error: unknown) => live.set(region, { error }))
        return
      }
      const result = await waitForTermination(client, toWaitFor, scope.terminationWait, {
        abortSignal,
        ...(scope.deadlineAt !== undefined ? { deadlineAt: scope.deadlineAt } : {}),
        readBackSignal: scope.readBackSignal,
        ...(queries.length > 0 ? { probe: listing } : {})
      })
      result.terminated.forEach((id) => ids.add(id))
      result.notTerminated.forEach((why, id) => whyNot.set(id, why))
      if (queries.length > 0 && !live.has(region))
        live.set(region, { error: result.probeError ?? new Error('the live instances could not be listed') })
    })
  )
  return { ids, whyNot, live }
}
