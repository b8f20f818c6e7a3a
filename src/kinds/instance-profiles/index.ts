/**
 * Packer's temporary IAM instance profiles and roles (`temporary_iam_instance_profile_policy_document`).
 * IAM is global: the kind is swept in the account's scope, once per run whatever `regions` says,
 * in the partition of the credentials. A profile an instance still uses, in any region enabled for
 * the account, is never touched: removing its role would take a live build's credentials away.
 * What makes them Packer's is in rules.ts, the reads in reads.ts, the removal steps in steps.ts;
 * the one leftover engine (engine/leftovers.ts) does the rest.
 */
import {
  GLOBAL_REGION,
  leftoverPermissions,
  OVER_CAP,
  selectedIdsOutput,
  type LeftoverKindModule
} from '../../engine/kind.js'
import { leftoverPart, type InstanceRef, type Planned, type Settlement } from '../../engine/leftover-kind.js'
import { leftoverFinding } from '../../engine/rules.js'
import { describeReadError } from '../../aws/describe-error.js'
import { PERMISSION } from '../../model/permissions.js'
import { discoverLeftovers, IAM_CONCURRENCY, listProfiles, profileUsers } from './reads.js'
import {
  BY_INSTANCE_PROFILE,
  heldByReason,
  IAM_IN_USE_CODES,
  judgeLeftover,
  leftoverAge,
  placeInProfiles,
  type IamFinding,
  type IamLeftover,
  type RemovalStepOutcome
} from './rules.js'
import { NOT_READ_AGAIN, removeLeftover } from './steps.js'

/** The reason on a profile whose removal was never started because the job was cancelled. */
const NOT_REMOVED_CANCELLED = 'not removed: the job was cancelled first'

/** `i-0abc in eu-west-1`: no parentheses, since the outcome is printed around the reason. */
function userWords(user: InstanceRef): string {
  return `${user.instanceId} in ${user.region}`
}

function finding(
  { candidate: leftover, age }: Planned<IamLeftover>,
  { outcome, reason, error }: Settlement,
  steps: RemovalStepOutcome[] = []
): IamFinding {
  const resource = { kind: 'instance-profiles' as const, id: leftover.name, name: leftover.name, region: GLOBAL_REGION }
  return {
    ...leftoverFinding(resource, age, outcome, reason, error),
    iam: {
      profile: leftover.profile !== undefined,
      ...(leftover.role ? { role: leftover.role.name } : {}),
      inlinePolicies: leftover.role?.inlinePolicies ?? [],
      steps
    }
  }
}

export const instanceProfiles = {
  name: 'instance-profiles',
  nouns: {
    singular: 'IAM instance profile and role',
    plural: 'IAM instance profiles and roles',
    title: 'IAM instance profiles and roles'
  },
  description:
    'Packer’s temporary IAM instance profile, role and inline policy (`packer-<uuid>`, role described “Temporary role for Packer”) that no instance in any enabled region uses and no other instance profile holds.',
  outputs: [
    {
      ...selectedIdsOutput('instance-profiles'),
      description:
        "JSON array of the names of Packer's temporary IAM instance profiles and roles selected (removed in terminate mode; each removal step's outcome is in report); one an instance still uses, in any enabled region, is only in report, as skipped."
    }
  ],
  // Global: every enabled region is checked for instances using a profile, whatever `regions` says.
  permissions: leftoverPermissions({
    read: [
      PERMISSION.describeRegions,
      PERMISSION.listInstanceProfiles,
      PERMISSION.listInstanceProfileTags,
      PERMISSION.listRoles,
      PERMISSION.listRoleTags,
      PERMISSION.listRolePolicies,
      PERMISSION.listAttachedRolePolicies
    ],
    remove: [
      PERMISSION.removeRoleFromInstanceProfile,
      PERMISSION.deleteRolePolicy,
      PERMISSION.deleteRole,
      PERMISSION.deleteInstanceProfile
    ]
  }),
  inUseCodes: IAM_IN_USE_CODES,
  nameHeader: 'Name',
  dryRunCaveat: 'the IAM permissions to remove instance profiles and roles were not proven (IAM has no DryRun)',
  engine: 'leftovers',
  // Which instances run with a profile: from the swept regions' listings when the run makes them.
  instanceUse: { link: BY_INSTANCE_PROFILE, elsewhere: PERMISSION.describeIamInstanceProfileAssociations },
  leftovers: leftoverPart<IamLeftover>({
    scope: 'account',
    label: 'IAM instance profiles',
    usersInEnabledRegions: true,
    discover: discoverLeftovers,
    judge(leftover, inputs, now) {
      const age = leftoverAge(leftover, now)
      const rules = { maxAgeSeconds: inputs['max-age'], excludeTag: inputs['exclude-tag'], tags: inputs.tags }
      const verdict = judgeLeftover(leftover, age, rules)
      if (verdict.verdict !== 'skip') return { age, verdict: verdict.verdict }
      return { age, verdict: 'skip', reason: verdict.reason, ...(verdict.heldBy ? { namesUsers: true } : {}) }
    },
    sortKey: (leftover) => [leftover.name],
    /**
     * The usage check, in every enabled region, when a profile is left to remove (without its
     * answer no profile may be touched), or when other profiles hold a skipped build's role (the
     * reason then names the instances that use them).
     */
    async users(scope, stale, reworded) {
      const arns = [
        ...new Set([
          ...stale.flatMap((leftover) => (leftover.profile ? [leftover.profile.arn] : [])),
          ...reworded.flatMap((leftover) => (leftover.heldBy ?? []).map((profile) => profile.arn))
        ])
      ]
      const users = arns.length > 0 ? await profileUsers(scope, arns) : new Map<string, InstanceRef[]>()
      const usedBy = (arn: string) => users.get(arn) ?? []
      return {
        of: (leftover) => (leftover.profile ? { instances: usedBy(leftover.profile.arn), others: [] } : undefined),
        reword: (leftover) =>
          leftover.heldBy && heldByReason(leftover.heldBy, (profile) => usedBy(profile.arn).map(userWords))
      }
    },
    usersUnknown: (leftover) => (leftover.profile ? 'could not check which instances use the profile' : undefined),
    userWords,
    /**
     * Every profile listed once more, right before the first write: a profile that took one of the
     * roles since the plan must stop its removal before any part of the set is taken apart. A dry
     * run makes no IAM write, so it reads nothing again.
     */
    async recheck(scope, free, settle) {
      if (scope.inputs['dry-run']) return free.map((planned) => ({ planned, current: planned.candidate }))
      try {
        const profiles = await listProfiles(scope)
        return free.map((planned) => ({ planned, current: placeInProfiles(planned.candidate, profiles) }))
      } catch (error) {
        free.forEach((planned) =>
          settle(planned, { outcome: 'failed', reason: NOT_READ_AGAIN, error: describeReadError(error) })
        )
        return []
      }
    },
    async remove(scope, planned, current) {
      if (scope.inputs['dry-run'])
        return {
          outcome: 'dry-run',
          reason: 'would be removed; IAM has no DryRun, so the IAM permissions were not proven'
        }
      const { steps, ...settlement } = await removeLeftover(scope, planned, current)
      return { ...settlement, finding: finding(planned, settlement, steps) }
    },
    concurrency: IAM_CONCURRENCY,
    finding: (planned, _region, settlement) => finding(planned, settlement),
    words: {
      cancelled: NOT_REMOVED_CANCELLED,
      overCap: OVER_CAP,
      notActed: (_planned, action) =>
        action === 'stop'
          ? 'stop leaves IAM alone: there is nothing to stop'
          : action === 'terminate'
            ? 'not removed: this run made no changes'
            : undefined,
      holding: (holding) => `still used by ${holding.map(userWords).join(', ')}, which did not reach terminated`
    }
  })
} satisfies LeftoverKindModule
