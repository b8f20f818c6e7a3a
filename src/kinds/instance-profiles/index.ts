/**
 * Packer's temporary IAM instance profiles and roles (`temporary_iam_instance_profile_policy_document`).
 * IAM is global: swept once per run beside the regions (the survey below); what makes them
 * Packer's is in rules.ts, the reads and removal steps in sweep.ts.
 */
import { clientConfig } from '../../aws/clients.js'
import { resolveRegions } from '../../aws/regions.js'
import { regionDeadline } from '../../engine/run-control.js'
import { formatAwsError } from '../../model/format.js'
import { BY_INSTANCE_PROFILE, IAM_IN_USE_CODES } from './rules.js'
import {
  checkInstanceProfileUsers,
  discoverInstanceProfiles,
  judgeInstanceProfiles,
  NOT_REMOVED_CANCELLED,
  plannedInstanceProfileChanges,
  reportInstanceProfilesOnly,
  sweepInstanceProfiles,
  type InstanceProfileContext,
  type InstanceProfilePlan
} from './sweep.js'
import { PERMISSION } from '../../model/permissions.js'
import {
  leftoverPermissions,
  OVER_CAP,
  selectedIdsOutput,
  type AccountLeftoverKind,
  type AccountScope,
  type AccountSurvey
} from '../../engine/kind.js'

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
  engine: 'account-leftovers',
  survey: surveyInstanceProfiles,
  // Which instances run with a profile: from the swept regions' listings when the run makes them.
  instanceUse: { link: BY_INSTANCE_PROFILE, elsewhere: PERMISSION.describeIamInstanceProfileAssociations }
} satisfies AccountLeftoverKind

/**
 * The kind's survey, beside the regions': read while they are surveyed (discovery needs neither
 * the region list nor the builders, so it starts at once), judged once the run knows which
 * builders it terminates, carried out after the regions acted. Its failures are run errors: IAM
 * has no region to fail.
 */
async function surveyInstanceProfiles(
  scope: AccountScope,
  terminating: Promise<ReadonlySet<string>>
): Promise<AccountSurvey> {
  const { inputs, control } = scope
  const timeoutMs = inputs['region-timeout'] * 1000
  // Loaded only when the kind is swept: other runs never pay for the IAM client.
  const { IAMClient } = await import('@aws-sdk/client-iam')
  const iam = new IAMClient(clientConfig({ region: scope.home, credentials: scope.credentials }))
  const errors: string[] = []
  let enabledRegions: readonly string[] = scope.regions
  const context = (abortSignal: AbortSignal): InstanceProfileContext => ({
    iam,
    enabledRegions,
    ec2For: scope.ec2For,
    instancesIn: scope.instancesIn,
    inputs,
    now: scope.now,
    abortSignal,
    cancelled: control.cancelled,
    readBackSignal: scope.readBackSignal,
    onSettled: (finding) => scope.onSettled([finding])
  })
  try {
    const plan = await planWithin(regionDeadline(timeoutMs, control))
    return {
      errors,
      changes: plannedInstanceProfileChanges(plan, inputs),
      act: async (_signals, terminated) => {
        const deadlineAt = Date.now() + timeoutMs
        return new Map([
          [
            'instance-profiles',
            await sweepInstanceProfiles(
              { ...context(regionDeadline(timeoutMs, control)), deadlineAt },
              plan,
              terminated
            )
          ]
        ])
      },
      holdBack: (why) =>
        new Map([
          [
            'instance-profiles',
            reportInstanceProfilesOnly(
              plan,
              inputs,
              inputs.action === 'terminate' ? (why === 'over-cap' ? OVER_CAP : NOT_REMOVED_CANCELLED) : undefined
            )
          ]
        ]),
      dispose: () => iam.destroy()
    }
  } catch (error) {
    iam.destroy()
    throw error
  }

  async function planWithin(deadline: AbortSignal): Promise<InstanceProfilePlan> {
    // Also aborted when the plan is known to touch nothing: no read is left running behind it.
    const nothing = new AbortController()
    const abortSignal = AbortSignal.any([deadline, nothing.signal])
    const discovering = discoverInstanceProfiles(context(abortSignal))
    try {
      if (inputs.regions !== 'all')
        enabledRegions = await resolveRegions({ regions: 'all' }, scope.ec2For(scope.home), abortSignal)
    } catch (error) {
      nothing.abort()
      errors.push(
        `IAM instance profiles: which regions to check for instances using them is unknown, so none was touched: ${error instanceof Error ? error.message : String(error)}`
      )
      return { planned: [], errors: [] }
    }
    const reading = await checkInstanceProfileUsers(context(abortSignal), await discovering)
    if (deadline.aborted) {
      errors.push(`IAM instance profiles were not read within region-timeout: nothing of them was acted on`)
      return { planned: [], errors: [] }
    }
    // Only the judgement needs the builders this run terminates.
    const plan = judgeInstanceProfiles(reading, await terminating, inputs)
    errors.push(...plan.errors.map((error) => `IAM instance profiles: ${formatAwsError(error)}`))
    return plan
  }
}
