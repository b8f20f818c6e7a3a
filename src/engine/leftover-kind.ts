/**
 * What a kind of leftover gives the one leftover engine (engine/leftovers.ts): how to find its
 * resources, its rules, what uses them, how to look again before a write, and how to remove one.
 * The engine owns the protocol (discover → judge → find users → wait for the builders → recheck →
 * remove → settle); a kind owns its reads, its rules, its calls and its words. A kind is swept
 * in a scope: one region, or the account (several regions, and IAM, which has no region).
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import type { Finding, Inputs, InstanceRecord, Outcome, AwsErrorInfo, SweepAction } from '../model/types.js'
import type { InstanceUseQuery, InstanceLink, LiveInstances, SharedListings } from './instance-usage.js'
import type { DerivedAge, InstanceRef, Judgement, Users } from './leftover-model.js'

export type { InstanceRef, Users } from './leftover-model.js'
import type { PhaseSignals } from './run-control.js'
import type { BuildersInEveryState } from './discovery.js'
import type { TerminationWait } from './termination-wait.js'

/**
 * One phase (reading, or acting) of one region or of the account: the one object that carries
 * the clients, the deadlines, the cancellation, the read-back window and the settlement callback
 * through the phase. Built once per phase by engine/sweep.ts; no layer repacks it.
 */
export interface Scope extends PhaseSignals {
  /** The region, or GLOBAL_REGION for the account. */
  region: string
  /** The swept regions the scope covers: its own region, or every swept region for the account. */
  regions: readonly string[]
  inputs: Inputs
  now: Date
  ec2For(region: string): EC2Client
  /** A swept region's one listing of its live instances; undefined when the run makes none there. */
  instancesIn(region: string): Promise<LiveInstances> | undefined
  /**
   * The stale builders the region's survey matched (excluded ones included), once it is done; none
   * for the account. What a builder leaves behind itself (its volumes) is found from them.
   */
  staleBuilders(): Promise<readonly InstanceRecord[]>
  /**
   * A swept region's builders in every state, terminated included: from its one pass over the
   * instances when a selected kind asked for them (`buildersInEveryState`), else listed apart.
   */
  buildersInEveryState(region: string): Promise<BuildersInEveryState>
  /** Every region enabled for the account: the swept ones under `regions: all`, else asked once. */
  enabledRegions(): Promise<readonly string[]>
  /** The IAM client, loaded on first use: runs without an IAM kind never load it. */
  iam(): Promise<IAMClient>
  /** How long to wait for the builders this run terminated. */
  terminationWait: TerminationWait
  /** In the act phase: the regions' listings of live instances, which the account's removals read again. */
  sharedListings?: SharedListings
  /** Called with each change's findings the moment they are known. */
  onSettled(findings: readonly Finding[]): void
}

/** One resource of a kind's plan, judged: to remove (after `dependsOn` are gone), or reported only. */
export interface Planned<C> {
  candidate: C
  age: DerivedAge
  verdict: 'orphan' | 'skip'
  /** For `skip`: why. */
  skipReason?: string
  /** Builders this run terminates that still use it: it is removed once they are gone. */
  dependsOn: readonly InstanceRef[]
}

/** How one removal ended: the finding's outcome, reason and error. */
export interface Settlement {
  outcome: Outcome
  reason?: string
  error?: AwsErrorInfo
}

/**
 * A kind's part in the leftover engine, for candidates of type C (what its discovery gives).
 */
export interface LeftoverHooks<C> {
  /** `region`: swept in each swept region. `account`: once per run, beside the regions. */
  scope: 'region' | 'account'
  /** For an account kind: how its run errors start (`IAM instance profiles`). */
  label?: string
  /** An account kind whose users are looked for in every enabled region, not only the swept ones. */
  usersInEnabledRegions?: boolean
  /** Its discovery reads the builders in every state: the regions' pass then lists terminated instances too. */
  buildersInEveryState?: boolean
  /** Resources matching the kind's filters; throws when they cannot be read. */
  discover(scope: Scope): Promise<C[]>
  /** The pure rules: fresh (not reported), skipped with a reason, or worth the usage check. */
  judge(candidate: C, inputs: Inputs, now: Date): Judgement
  /** The report's order within the kind. */
  sortKey(candidate: C): readonly string[]
  /**
   * Instances use it, and say so (a key's name, a template's ID): its users are read from the
   * region's one listing of live instances, and read again from the last listing of the
   * termination wait right before removing (the default recheck).
   */
  usedBy?: InstanceUseQuery<C>
  /**
   * What uses the stale candidates (and the skipped ones whose reason names users): the kind's
   * own read, where `usedBy` does not say. Throws when it cannot be read.
   */
  users?(scope: Scope, stale: readonly C[], reworded: readonly C[]): Promise<UsersRead<C>>
  /**
   * With `usedBy`: the reason of a skipped candidate whose judgement `namesUsers`, once the listing
   * shows instances using it (a rule that comes after the use says less than the use itself).
   */
  rewordUsed?(candidate: C, users: readonly InstanceRef[]): string | undefined
  /** Where a candidate lives, when the scope is the account (default: the scope's region). */
  regionOf?(candidate: C): string
  /**
   * When the usage read fails: the reason a stale candidate is skipped with (undefined: it needed
   * no users read); the kind's plan stands and the read's error is reported. Without this hook,
   * the kind fails in the scope.
   */
  usersUnknown?(candidate: C): string | undefined
  /** How a use that stays is said in a reason (`instance i-0abc`). */
  userWords(user: InstanceRef): string
  /**
   * The kind's own look right before its first write, when nothing was removed yet: answers
   * which of `free` may still be removed (each with what its removal needs) and settles the rest.
   */
  recheck?(
    scope: Scope,
    free: readonly Planned<C>[],
    settle: (planned: Planned<C>, settlement: Settlement) => void
  ): Promise<readonly Rechecked<C>[]>
  /**
   * Removes one (`current`: as the recheck saw it); never throws: the settlement says how it
   * ended, with the finding itself when the removal has more to tell. Under dry-run, it proves
   * what it can.
   */
  remove(scope: Scope, planned: Planned<C>, current: C): Promise<Settlement & { finding?: Finding }>
  /** Removals in flight at once, per kind and region (EC2 throttles each region apart). */
  concurrency: number
  /** The finding of one planned resource. */
  finding(planned: Planned<C>, region: string, settlement: Settlement): Finding
  words: LeftoverWords<C>
}

/** One that may still be removed after the recheck, as the recheck saw it. */
export interface Rechecked<C> {
  planned: Planned<C>
  current: C
}

/** What a usage read found: each candidate's users, and the skips it words. */
export interface UsersRead<C> {
  of(candidate: C): Users | undefined
  reword?(candidate: C): string | undefined
}

/** What a kind says where the engine settles for it. */
export interface LeftoverWords<C> {
  /** On what was not removed because the job was cancelled first. */
  cancelled: string
  /** On what a cap held back, when the action would have removed it (default: `notActed`). */
  overCap?: string
  /** Why a planned removal is only reported under `action` (stop, or a run that made no changes). */
  notActed(planned: Planned<C>, action: SweepAction): string | undefined
  /** Why one waited on builders that did not reach `terminated` (`why`: each one's reason). */
  holding(holding: readonly InstanceRef[], why: readonly string[]): string
}

/**
 * A kind's hooks with their types closed over: the registry holds every kind's part alike, and
 * the engine opens each with `open`, in which C is the kind's own again.
 */
export interface LeftoverPart {
  scope: 'region' | 'account'
  usedBy?: InstanceLink
  buildersInEveryState?: boolean
  open<R>(use: <C>(hooks: LeftoverHooks<C>) => R): R
}

/** Closes a kind's hooks over its candidate type. */
export function leftoverPart<C>(hooks: LeftoverHooks<C>): LeftoverPart {
  return {
    scope: hooks.scope,
    ...(hooks.usedBy ? { usedBy: hooks.usedBy } : {}),
    ...(hooks.buildersInEveryState ? { buildersInEveryState: true } : {}),
    open: (use) => use(hooks)
  }
}
