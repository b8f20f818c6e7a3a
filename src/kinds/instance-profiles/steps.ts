/**
 * How a build's IAM leftovers are taken apart: Packer's own clean-up steps, in stages, each step
 * one IAM write call. IAM has no DryRun: a dry run makes none of them.
 */
import { describeAwsError, errorCode, gotNoAnswer } from '../../aws/errors.js'
import { describeReadError } from '../../aws/describe-error.js'
import type { Planned, Scope, Settlement } from '../../engine/leftover-kind.js'
import { PERMISSION, type Permission } from '../../model/permissions.js'
import { readDetails } from './reads.js'
import {
  IAM_IN_USE_CODES,
  judgeLeftover,
  removalSteps,
  type IamLeftover,
  type RemovalStep,
  type RemovalStepOutcome
} from './rules.js'

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

/** How a removal ended, with each step's outcome in Packer's order. */
export type Removal = Settlement & { steps: RemovalStepOutcome[] }

/**
 * Removes one build's leftovers, `current` being the build as the profiles listed right before
 * the first write show it. Its tags and policies are read once more first: a policy attached, a
 * tag added or a profile holding the role since the plan stops the removal before any part of
 * the set is taken apart. A step IAM refuses ends the removal (DeleteConflict is reported
 * `in-use`, never forced); NoSuchEntity means the step's goal is already reached.
 */
export async function removeLeftover(
  scope: Scope,
  planned: Planned<IamLeftover>,
  current: IamLeftover
): Promise<Removal> {
  const {
    RemoveRoleFromInstanceProfileCommand,
    DeleteRolePolicyCommand,
    DeleteRoleCommand,
    DeleteInstanceProfileCommand
  } = await import('@aws-sdk/client-iam')
  const iam = await scope.iam()
  const options = { abortSignal: scope.abortSignal }
  const { name } = planned.candidate
  const calls: Record<RemovalStep, () => Promise<unknown>> = {
    'remove-role-from-profile': () =>
      iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }), options),
    'delete-role-policy': () => iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: name }), options),
    'delete-role': () => iam.send(new DeleteRoleCommand({ RoleName: name }), options),
    'delete-instance-profile': () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name }), options)
  }
  let read: IamLeftover
  try {
    read = await readDetails(scope, current)
  } catch (error) {
    return { outcome: 'failed', reason: NOT_READ_AGAIN, error: describeReadError(error), steps: [] }
  }
  const { inputs } = scope
  const rules = { maxAgeSeconds: inputs['max-age'], excludeTag: inputs['exclude-tag'], tags: inputs.tags }
  const recheck = judgeLeftover(read, planned.age, rules)
  if (recheck.verdict !== 'check-usage') {
    const why = recheck.verdict === 'skip' ? recheck.reason : 'it no longer matches tags'
    return { outcome: 'in-use', reason: `changed since it was planned (${why}); nothing was removed`, steps: [] }
  }
  const needed = removalSteps(read)
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
    const { step, error } = refused.outcome
    const with_ = { ...(error ? { error } : {}), steps }
    const done = describeSteps(steps.filter((outcome) => !isRefused(outcome)))
    if (refused.outcome.outcome === 'unknown')
      return { outcome: 'unknown', reason: `${step} got no answer${done}`, ...with_ }
    if (IAM_IN_USE_CODES.includes(errorCode(refused.error)))
      return { outcome: 'in-use', reason: `IAM refused ${step}: something else uses it${done}`, ...with_ }
    return { outcome: 'failed', reason: `${step} failed${done}`, ...with_ }
  }
  return { outcome: 'deleted', reason: `${after(planned)}${stepWords(steps)}`, steps }
}

/** The reason on a build whose details could not be read again right before its removal. */
export const NOT_READ_AGAIN = 'could not read it again before removing it; nothing was removed'

/** `after i-0abc terminated: `, or nothing. The outcome (`deleted`) is said around the reason: not again in it. */
function after(planned: Planned<IamLeftover>): string {
  return planned.dependsOn.length > 0
    ? `after ${planned.dependsOn.map((user) => user.instanceId).join(', ')} terminated: `
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
