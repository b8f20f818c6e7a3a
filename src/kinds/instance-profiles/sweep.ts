/**
 * Packer's temporary IAM instance profiles and roles (issue: `temporary_iam_instance_profile_policy_document`).
 * IAM is global: this kind is swept once per run, whatever `regions` says, in the partition of the
 * credentials (the IAM client takes the run's home region and the SDK picks that partition's
 * endpoint). A profile an instance still uses, in any region enabled for the account, is never
 * touched: removing its role would take a live build's credentials away. The kind's survey
 * (index.ts) reads and judges with these functions, and removes with sweepInstanceProfiles once
 * the regions acted.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { paginateDescribeIamInstanceProfileAssociations } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import { describeAwsError, errorCode, gotNoAnswer } from '../../aws/errors.js'
import { collect, inOrder, mapWithConcurrency } from '../../aws/batches.js'
import { tagMap } from '../../model/aws-data.js'
import { PERMISSION, type Permission } from '../../model/permissions.js'
import { describeReadError, describing } from '../../aws/describe-error.js'
import { leftoverFinding, sortByJudgement } from '../../engine/rules.js'
import type { DerivedAge } from '../../engine/leftover-model.js'
import type { LiveInstances } from '../../engine/instance-usage.js'
import { DEFAULT_TERMINATION_WAIT, waitForTermination, type TerminationWait } from '../../engine/termination-wait.js'
import type { AwsErrorInfo, Inputs } from '../../model/types.js'
import {
  groupLeftovers,
  heldByReason,
  isPackerIamName,
  judgeLeftover,
  leftoverAge,
  placeInProfiles,
  removalSteps,
  type IamLeftover,
  type ListedProfile,
  type ListedRole,
  type IamFinding,
  type RemovalStep,
  type RemovalStepOutcome,
  IAM_IN_USE_CODES,
  BY_INSTANCE_PROFILE
} from './rules.js'
import { GLOBAL_REGION, type PhaseSignals } from '../../engine/kind.js'

/**
 * Builds' leftovers read or removed at once: IAM's rate limits are account-wide and low. Each has
 * up to four independent listings, or two writes, in flight at a time.
 */
const IAM_CONCURRENCY = 4

export interface InstanceProfileContext extends Partial<PhaseSignals> {
  /** Loaded lazily by the caller: runs without this kind never load the IAM client. */
  iam: IAMClient
  /** Every region enabled for the account, not only the swept ones: a live build anywhere keeps its profile. */
  enabledRegions: readonly string[]
  ec2For(region: string): EC2Client
  /** A swept region's listing of its live instances, when the run made one: it says which instances use a profile. */
  instancesIn?: (region: string) => Promise<LiveInstances> | undefined
  inputs: Inputs
  now: Date
  terminationWait?: TerminationWait
  onSettled?: (finding: IamFinding) => void
}

/** An instance that uses a profile, and where. */
export interface ProfileUser {
  instanceId: string
  region: string
}

export interface PlannedInstanceProfile {
  leftover: IamLeftover
  age: DerivedAge
  verdict: 'orphan' | 'skip'
  skipReason?: string
  /** Builders this run terminates that use the profile: it is removed after they are gone. */
  dependsOn: ProfileUser[]
  /** For a build skipped because other profiles hold its role: those profiles, whose users the reason names. */
  heldBy?: readonly ListedProfile[]
}

export interface InstanceProfilePlan {
  planned: PlannedInstanceProfile[]
  errors: AwsErrorInfo[]
}

/**
 * What the plan is judged from: the leftovers the rules keep (`orphan` still waiting for the usage
 * check), then which instances use their profiles. Read in parts so that a caller can start
 * discovery before it knows the regions to check, and read everything before it knows which
 * builders it terminates.
 */
export interface InstanceProfileReading {
  planned: PlannedInstanceProfile[]
  /** Instances using each profile (by ARN), in every enabled region: empty until the usage check ran. */
  users: ReadonlyMap<string, ProfileUser[]>
  errors: AwsErrorInfo[]
}

/** Discovery and the rules: needs neither the region list nor the builders. Never throws: a failed read is in `errors`, with nothing planned. */
export async function discoverInstanceProfiles(
  ctx: Omit<InstanceProfileContext, 'enabledRegions'>
): Promise<InstanceProfileReading> {
  let leftovers: IamLeftover[]
  try {
    leftovers = await discoverLeftovers(ctx)
  } catch (error) {
    return { planned: [], users: new Map(), errors: [describeReadError(error)] }
  }
  const rules = { maxAgeSeconds: ctx.inputs['max-age'], excludeTag: ctx.inputs['exclude-tag'], tags: ctx.inputs.tags }
  const heldBy = new Map<IamLeftover, readonly ListedProfile[]>()
  const judged = sortByJudgement(leftovers, (leftover) => {
    const age = leftoverAge(leftover, ctx.now)
    const verdict = judgeLeftover(leftover, age, rules)
    if (verdict.verdict === 'skip' && verdict.heldBy) heldBy.set(leftover, verdict.heldBy)
    return { age, ...verdict }
  })
  const planned = [
    ...judged.skipped.map(({ item, age, reason }): PlannedInstanceProfile => {
      const holders = heldBy.get(item)
      return {
        leftover: item,
        age,
        verdict: 'skip',
        skipReason: reason,
        dependsOn: [],
        ...(holders ? { heldBy: holders } : {})
      }
    }),
    ...judged.stale.map(({ item, age }): PlannedInstanceProfile => ({
      leftover: item,
      age,
      verdict: 'orphan',
      dependsOn: []
    }))
  ]
  return { planned: byName(planned), users: new Map(), errors: [] }
}

/**
 * The usage check, in `ctx.enabledRegions`, when a profile is left to remove (without its answer
 * no profile may be touched), or when other profiles hold a skipped build's role (the reason then
 * names the instances that use them).
 */
export async function checkInstanceProfileUsers(
  ctx: InstanceProfileContext,
  reading: InstanceProfileReading
): Promise<InstanceProfileReading> {
  const { planned } = reading
  const arns = [
    ...new Set(
      planned.flatMap((entry) => [
        ...(entry.verdict === 'orphan' && entry.leftover.profile ? [entry.leftover.profile.arn] : []),
        ...(entry.heldBy ?? []).map((profile) => profile.arn)
      ])
    )
  ]
  if (arns.length === 0) return reading
  try {
    return { ...reading, users: await profileUsers(ctx, arns) }
  } catch (error) {
    const skipReason = 'could not check which instances use the profile'
    return {
      planned: planned.map((entry) =>
        entry.verdict === 'orphan' && entry.leftover.profile ? { ...entry, verdict: 'skip', skipReason } : entry
      ),
      users: new Map(),
      errors: [...reading.errors, describeReadError(error)]
    }
  }
}

/** The plan: a profile an instance uses stays, unless every such instance is a builder this run terminates (then it waits for them). */
export function judgeInstanceProfiles(
  reading: InstanceProfileReading,
  terminating: ReadonlySet<string>,
  inputs: Pick<Inputs, 'action'>
): InstanceProfilePlan {
  const usedBy = (arn: string) => (reading.users.get(arn) ?? []).map(userWords)
  const judged = reading.planned.map((entry): PlannedInstanceProfile => {
    if (entry.heldBy) return { ...entry, skipReason: heldByReason(entry.heldBy, (profile) => usedBy(profile.arn)) }
    const arn = entry.leftover.profile?.arn
    const using = arn ? (reading.users.get(arn) ?? []) : []
    if (entry.verdict !== 'orphan' || using.length === 0) return entry
    const staying = using.filter((user) => !(inputs.action === 'terminate' && terminating.has(user.instanceId)))
    if (staying.length > 0)
      return { ...entry, verdict: 'skip', skipReason: `in use by ${staying.map(userWords).join(', ')}` }
    return { ...entry, dependsOn: using }
  })
  return { planned: byName(judged), errors: reading.errors }
}

/** `i-0abc in eu-west-1`: no parentheses, since the outcome is printed around the reason. */
function userWords(user: ProfileUser): string {
  return `${user.instanceId} in ${user.region}`
}

function byName(planned: PlannedInstanceProfile[]): PlannedInstanceProfile[] {
  return planned.sort((a, b) => a.leftover.name.localeCompare(b.leftover.name))
}

/** A profile with its role counts as one resource for max-resources. */
export function plannedInstanceProfileChanges(plan: InstanceProfilePlan, inputs: Pick<Inputs, 'action'>): number {
  return inputs.action === 'terminate' ? plan.planned.filter((entry) => entry.verdict === 'orphan').length : 0
}

/**
 * Every profile and role named like Packer's, grouped by build, with every profile (at any path)
 * that holds each build's role, and the tags and policies of those old enough to matter. A role
 * or profile of Packer's name that is not Packer's is kept as foreign, so that nothing sharing
 * its name is ever taken apart.
 */
async function discoverLeftovers(ctx: Omit<InstanceProfileContext, 'enabledRegions'>): Promise<IamLeftover[]> {
  const { paginateListRoles } = await import('@aws-sdk/client-iam')
  const [profiles, listedRoles] = await inOrder([
    listProfiles(ctx),
    describing(PERMISSION.listRoles, () =>
      collect(
        paginateListRoles({ client: ctx.iam }, { PathPrefix: '/' }, { abortSignal: ctx.abortSignal }),
        (page) => page.Roles
      )
    )
  ] as const)
  const roles: ListedRole[] = []
  for (const role of listedRoles) {
    if (!role.RoleName || !role.Arn || !isPackerIamName(role.RoleName)) continue
    const listed: ListedRole = { name: role.RoleName, arn: role.Arn, path: role.Path ?? '' }
    if (role.Description !== undefined) listed.description = role.Description
    if (role.AssumeRolePolicyDocument !== undefined) listed.trustPolicy = role.AssumeRolePolicyDocument
    if (role.CreateDate) listed.createDate = role.CreateDate
    roles.push(listed)
  }
  // Only a leftover that is not fresh by its name and dates needs its tags and policies read.
  const worthReading = groupLeftovers(profiles, roles).filter((leftover) => {
    const age = leftoverAge(leftover, ctx.now)
    return age.ageSeconds === undefined || ctx.inputs['max-age'] === 0 || age.ageSeconds > ctx.inputs['max-age']
  })
  return mapWithConcurrency(worthReading, IAM_CONCURRENCY, (leftover) => readDetails(ctx, leftover))
}

/**
 * Every instance profile of the account, at every path, with the roles it holds: not only
 * Packer's, for any of them may hold a Packer role.
 */
async function listProfiles(ctx: Pick<InstanceProfileContext, 'iam' | 'abortSignal'>): Promise<ListedProfile[]> {
  const { paginateListInstanceProfiles } = await import('@aws-sdk/client-iam')
  const listed = await describing(PERMISSION.listInstanceProfiles, () =>
    collect(
      paginateListInstanceProfiles({ client: ctx.iam }, { PathPrefix: '/' }, { abortSignal: ctx.abortSignal }),
      (page) => page.InstanceProfiles
    )
  )
  return listed.flatMap((profile) => {
    if (!profile.InstanceProfileName || !profile.Arn) return []
    const one: ListedProfile = {
      name: profile.InstanceProfileName,
      arn: profile.Arn,
      path: profile.Path ?? '',
      roles: (profile.Roles ?? []).flatMap((role) => (role.RoleName ? [role.RoleName] : []))
    }
    if (profile.CreateDate) one.createDate = profile.CreateDate
    return [one]
  })
}

/** Tags of the profile and the role, and the role's inline and managed policies: four independent listings, side by side. */
async function readDetails(
  ctx: Omit<InstanceProfileContext, 'enabledRegions'>,
  leftover: IamLeftover
): Promise<IamLeftover> {
  const {
    paginateListInstanceProfileTags,
    paginateListRoleTags,
    paginateListRolePolicies,
    paginateListAttachedRolePolicies
  } = await import('@aws-sdk/client-iam')
  const options = { abortSignal: ctx.abortSignal }
  const client = { client: ctx.iam }
  const { profile, role } = leftover
  const byRole = { RoleName: leftover.name }
  const none = Promise.resolve(undefined)
  const [profileTags, roleTags, inlinePolicies, managedPolicies] = await inOrder([
    profile
      ? describing(PERMISSION.listInstanceProfileTags, () =>
          collect(
            paginateListInstanceProfileTags(client, { InstanceProfileName: leftover.name }, options),
            (page) => page.Tags
          )
        )
      : none,
    role
      ? describing(PERMISSION.listRoleTags, () =>
          collect(paginateListRoleTags(client, byRole, options), (page) => page.Tags)
        )
      : none,
    role
      ? describing(PERMISSION.listRolePolicies, () =>
          collect(paginateListRolePolicies(client, byRole, options), (page) => page.PolicyNames)
        )
      : none,
    role
      ? describing(PERMISSION.listAttachedRolePolicies, () =>
          collect(paginateListAttachedRolePolicies(client, byRole, options), (page) =>
            (page.AttachedPolicies ?? []).flatMap((policy) => (policy.PolicyArn ? [policy.PolicyArn] : []))
          )
        )
      : none
  ] as const)
  const read = { ...leftover }
  if (profile) read.profile = { ...profile, tags: tagMap(profileTags ?? []) }
  if (role)
    read.role = {
      ...role,
      tags: tagMap(roleTags ?? []),
      inlinePolicies: inlinePolicies ?? [],
      managedPolicies: managedPolicies ?? []
    }
  return read
}

/**
 * Which instances use each of `arns`, in every enabled region. A swept region that listed its
 * live instances already knows; the others are asked for their profile associations.
 * Terminated instances hold none.
 */
async function profileUsers(ctx: InstanceProfileContext, arns: readonly string[]): Promise<Map<string, ProfileUser[]>> {
  const users = new Map<string, ProfileUser[]>()
  const add = (arn: string, instanceId: string, region: string) =>
    users.set(arn, [...(users.get(arn) ?? []), { instanceId, region }])
  await Promise.all(
    ctx.enabledRegions.map(async (region) => {
      const listed = ctx.instancesIn?.(region)
      if (listed) {
        const live = await listed
        for (const arn of arns)
          for (const instanceId of live.usersOf(BY_INSTANCE_PROFILE, arn)) add(arn, instanceId, region)
        return
      }
      await describing(PERMISSION.describeIamInstanceProfileAssociations, async () => {
        const input = {
          Filters: [{ Name: 'state', Values: ['associating', 'associated', 'disassociating'] }],
          MaxResults: 1000
        }
        for await (const page of paginateDescribeIamInstanceProfileAssociations({ client: ctx.ec2For(region) }, input, {
          abortSignal: ctx.abortSignal
        })) {
          for (const association of page.IamInstanceProfileAssociations ?? []) {
            const arn = association.IamInstanceProfile?.Arn
            if (arn && association.InstanceId) add(arn, association.InstanceId, region)
          }
        }
      })
    })
  )
  return users
}

const STEP_PERMISSION: Record<RemovalStep, Permission> = {
  'remove-role-from-profile': PERMISSION.removeRoleFromInstanceProfile,
  'delete-role-policy': PERMISSION.deleteRolePolicy,
  'delete-role': PERMISSION.deleteRole,
  'delete-instance-profile': PERMISSION.deleteInstanceProfile
}

const STEP_WORDS: Record<RemovalStep, string> = {
  'remove-role-from-profile': 'role removed from the profile',
  'delete-role-policy': 'inline policy deleted',
  'delete-role': 'role deleted',
  'delete-instance-profile': 'profile deleted'
}

/**
 * The removal's stages, each started only once the one before had no step refused or unanswered.
 * Taking the role out of the profile and deleting its inline policy are independent, so they go
 * side by side; DeleteRole needs both done. DeleteInstanceProfile waits for DeleteRole: a role IAM
 * refuses to delete keeps its profile, as when the steps ran one after another.
 */
const REMOVAL_STAGES: readonly (readonly RemovalStep[])[] = [
  ['remove-role-from-profile', 'delete-role-policy'],
  ['delete-role'],
  ['delete-instance-profile']
]

/** One step's outcome, with what the call threw when it failed. */
interface Attempt {
  outcome: RemovalStepOutcome
  error?: unknown
}

/** One write call: NoSuchEntity means its goal is already reached. */
async function attempt(step: RemovalStep, call: () => Promise<unknown>): Promise<Attempt> {
  try {
    await call()
    return { outcome: { step, outcome: 'done' } }
  } catch (error) {
    if (errorCode(error) === 'NoSuchEntity') return { outcome: { step, outcome: 'already-gone' } }
    const info = describeAwsError(error, STEP_PERMISSION[step])
    return { outcome: { step, outcome: gotNoAnswer(error) ? 'unknown' : 'failed', error: info }, error }
  }
}

function isRefused(outcome: RemovalStepOutcome): boolean {
  return outcome.outcome === 'failed' || outcome.outcome === 'unknown'
}

/** The reason on a profile whose removal was never started because the job was cancelled. */
export const NOT_REMOVED_CANCELLED = 'not removed: the job was cancelled first'

/** Findings for a plan that is not carried out (notify, stop, a cap, a cancellation). */
export function reportInstanceProfilesOnly(
  plan: InstanceProfilePlan,
  inputs: Pick<Inputs, 'action'>,
  reason?: string
): IamFinding[] {
  return plan.planned.map((entry) => {
    if (entry.verdict === 'skip') return finding(entry, 'skipped', entry.skipReason)
    const why =
      reason ??
      (inputs.action === 'stop'
        ? 'stop leaves IAM alone: there is nothing to stop'
        : inputs.action === 'terminate'
          ? 'not removed: this run made no changes'
          : undefined)
    return finding(entry, 'notified', why)
  })
}

/**
 * Removes what the plan found, in terminate mode, after the builders that used a profile read
 * `terminated`. Each step's outcome is in the finding; a step IAM refuses ends that build's
 * removal (DeleteConflict is reported `in-use`, never forced); NoSuchEntity means the step's
 * goal is already reached. Dry-run makes no IAM write call: IAM has no DryRun.
 */
export async function sweepInstanceProfiles(
  ctx: InstanceProfileContext,
  plan: InstanceProfilePlan,
  terminated: ReadonlySet<string>
): Promise<IamFinding[]> {
  const { inputs } = ctx
  if (inputs.action !== 'terminate') return reportInstanceProfilesOnly(plan, inputs)
  const settled = new Map<PlannedInstanceProfile, IamFinding>()
  const settle = (
    entry: PlannedInstanceProfile,
    outcome: IamFinding['outcome'],
    reason?: string,
    error?: AwsErrorInfo,
    steps?: RemovalStepOutcome[]
  ) => {
    const result = finding(entry, outcome, reason, error, steps)
    settled.set(entry, result)
    if (outcome !== 'skipped') ctx.onSettled?.(result)
  }
  for (const entry of plan.planned) if (entry.verdict === 'skip') settle(entry, 'skipped', entry.skipReason)
  let orphans = plan.planned.filter((entry) => entry.verdict === 'orphan')
  if (inputs['dry-run']) {
    for (const entry of orphans)
      settle(entry, 'dry-run', 'would be removed; IAM has no DryRun, so the IAM permissions were not proven')
    return plan.planned.map((entry) => settled.get(entry) as IamFinding)
  }
  const gone = await buildersGone(ctx, orphans, terminated)
  orphans = orphans.filter((entry) => {
    const holding = entry.dependsOn.filter((user) => !gone.has(user.instanceId))
    if (holding.length === 0) return true
    settle(entry, 'in-use', `still used by ${holding.map(userWords).join(', ')}, which did not reach terminated`)
    return false
  })
  if (orphans.length === 0) return plan.planned.map((entry) => settled.get(entry) as IamFinding)
  // Every profile listed once more, right before the first write: a profile that took one of the
  // roles since the plan must stop its removal before any part of the set is taken apart.
  let profiles: ListedProfile[]
  try {
    profiles = await listProfiles(ctx)
  } catch (error) {
    for (const entry of orphans) settle(entry, 'failed', NOT_READ_AGAIN, describeReadError(error))
    return plan.planned.map((entry) => settled.get(entry) as IamFinding)
  }
  await mapWithConcurrency(orphans, IAM_CONCURRENCY, async (entry) => {
    if (ctx.cancelled?.aborted) return settle(entry, 'notified', NOT_REMOVED_CANCELLED)
    await removeLeftover(ctx, entry, profiles, settle)
  })
  return plan.planned.map((entry) => settled.get(entry) as IamFinding)
}

/** The builders a plan waits on that read `terminated` now, waited for per region like the regional leftovers. */
async function buildersGone(
  ctx: InstanceProfileContext,
  orphans: readonly PlannedInstanceProfile[],
  terminated: ReadonlySet<string>
): Promise<Set<string>> {
  const byRegion = new Map<string, string[]>()
  for (const user of orphans.flatMap((entry) => entry.dependsOn)) {
    if (terminated.has(user.instanceId))
      byRegion.set(user.region, [...new Set([...(byRegion.get(user.region) ?? []), user.instanceId])])
  }
  const gone = new Set<string>()
  const signals = [ctx.abortSignal, ctx.cancelled].filter((signal): signal is AbortSignal => signal !== undefined)
  await Promise.all(
    [...byRegion].map(async ([region, ids]) => {
      const result = await waitForTermination(
        ctx.ec2For(region),
        ids,
        ctx.terminationWait ?? DEFAULT_TERMINATION_WAIT,
        {
          ...(signals.length > 0 ? { abortSignal: AbortSignal.any(signals) } : {}),
          ...(ctx.deadlineAt !== undefined ? { deadlineAt: ctx.deadlineAt } : {}),
          ...(ctx.readBackSignal ? { readBackSignal: ctx.readBackSignal } : {})
        }
      )
      result.terminated.forEach((id) => gone.add(id))
    })
  )
  return gone
}

const NOT_READ_AGAIN = 'could not read it again before removing it; nothing was removed'

async function removeLeftover(
  ctx: InstanceProfileContext,
  entry: PlannedInstanceProfile,
  profiles: readonly ListedProfile[],
  settle: (
    entry: PlannedInstanceProfile,
    outcome: IamFinding['outcome'],
    reason?: string,
    error?: AwsErrorInfo,
    steps?: RemovalStepOutcome[]
  ) => void
): Promise<void> {
  const {
    RemoveRoleFromInstanceProfileCommand,
    DeleteRolePolicyCommand,
    DeleteRoleCommand,
    DeleteInstanceProfileCommand
  } = await import('@aws-sdk/client-iam')
  const { leftover } = entry
  const name = leftover.name
  const calls: Record<RemovalStep, () => Promise<unknown>> = {
    'remove-role-from-profile': () =>
      ctx.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }), {
        abortSignal: ctx.abortSignal
      }),
    'delete-role-policy': () =>
      ctx.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: name }), { abortSignal: ctx.abortSignal }),
    'delete-role': () => ctx.iam.send(new DeleteRoleCommand({ RoleName: name }), { abortSignal: ctx.abortSignal }),
    'delete-instance-profile': () =>
      ctx.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name }), { abortSignal: ctx.abortSignal })
  }
  // Looked at once more right before the first write: a policy attached, a tag added or a profile
  // holding the role since the plan must stop the removal before any part of the set is taken apart.
  let current: IamLeftover
  try {
    current = placeInProfiles(await readDetails(ctx, leftover), profiles)
  } catch (error) {
    return settle(entry, 'failed', NOT_READ_AGAIN, describeReadError(error))
  }
  const rules = { maxAgeSeconds: ctx.inputs['max-age'], excludeTag: ctx.inputs['exclude-tag'], tags: ctx.inputs.tags }
  const recheck = judgeLeftover(current, entry.age, rules)
  if (recheck.verdict !== 'check-usage') {
    const why = recheck.verdict === 'skip' ? recheck.reason : 'it no longer matches tags'
    return settle(entry, 'in-use', `changed since it was planned (${why}); nothing was removed`)
  }
  const needed = removalSteps(current)
  const attempted = new Map<RemovalStep, Attempt>()
  for (const stage of REMOVAL_STAGES) {
    await Promise.all(
      needed
        .filter((step) => stage.includes(step))
        .map(async (step) => attempted.set(step, await attempt(step, calls[step])))
    )
    // A step refused or unanswered ends the removal: nothing of a later stage is started.
    if ([...attempted.values()].some(({ outcome }) => isRefused(outcome))) break
  }
  // Packer's order, whatever order the answers came in.
  const tried = needed.flatMap((step) => attempted.get(step) ?? [])
  const steps = tried.map(({ outcome }) => outcome)
  const refused = tried.find(({ outcome }) => isRefused(outcome))
  if (refused) {
    const { step, error: info } = refused.outcome
    const done = describeSteps(steps.filter((outcome) => !isRefused(outcome)))
    if (refused.outcome.outcome === 'unknown')
      return settle(entry, 'unknown', `${step} got no answer${done}`, info, steps)
    if (IAM_IN_USE_CODES.includes(errorCode(refused.error)))
      return settle(entry, 'in-use', `IAM refused ${step}: something else uses it${done}`, info, steps)
    return settle(entry, 'failed', `${step} failed${done}`, info, steps)
  }
  settle(entry, 'deleted', `${after(entry)}${stepWords(steps)}`, undefined, steps)
}

/** `after i-0abc terminated: `, or nothing. The outcome (`deleted`) is said around the reason: not again in it. */
function after(entry: PlannedInstanceProfile): string {
  return entry.dependsOn.length > 0
    ? `after ${entry.dependsOn.map((user) => user.instanceId).join(', ')} terminated: `
    : ''
}

/** `role removed from the profile already, role deleted`: no parentheses, as the reason is printed inside some. */
function stepWords(steps: readonly RemovalStepOutcome[]): string {
  return steps.map((step) => `${STEP_WORDS[step.step]}${step.outcome === 'already-gone' ? ' already' : ''}`).join(', ')
}

/** `; done before: role removed from the profile`, or nothing when no step had been done. */
function describeSteps(steps: readonly RemovalStepOutcome[]): string {
  return steps.length === 0 ? '' : `; done before: ${stepWords(steps)}`
}

function finding(
  entry: PlannedInstanceProfile,
  outcome: IamFinding['outcome'],
  reason?: string,
  error?: AwsErrorInfo,
  steps?: RemovalStepOutcome[]
): IamFinding {
  const { leftover, age } = entry
  const resource = { kind: 'instance-profiles' as const, id: leftover.name, name: leftover.name, region: GLOBAL_REGION }
  const result: IamFinding = {
    ...leftoverFinding(resource, age, outcome, reason, error),
    iam: {
      profile: leftover.profile !== undefined,
      ...(leftover.role ? { role: leftover.role.name } : {}),
      inlinePolicies: leftover.role?.inlinePolicies ?? [],
      steps: steps ?? []
    }
  }
  return result
}
