/**
 * Packer's temporary IAM instance profiles and roles (`temporary_iam_instance_profile_policy_document`).
 * IAM is global: swept once per run beside the regions (phase.ts); what makes them Packer's is in
 * rules.ts, the reads and removal steps in sweep.ts.
 */
import { BY_INSTANCE_PROFILE, IAM_IN_USE_CODES } from './rules.js'
import { NOT_REMOVED_CANCELLED, reportInstanceProfilesOnly } from './sweep.js'
import { startInstanceProfilePhase } from './phase.js'
import { PERMISSION } from '../../model/permissions.js'
import { leftoverPermissions, OVER_CAP, selectedIdsOutput, type AccountLeftoverKind, type AccountScope, type AccountSurvey } from '../../engine/kind.js'

export const instanceProfiles = {
  name: 'instance-profiles',
  nouns: { singular: 'IAM instance profile and role', plural: 'IAM instance profiles and roles', title: 'IAM instance profiles and roles' },
  description:
    'Packer’s temporary IAM instance profile, role and inline policy (`packer-<uuid>`, role described “Temporary role for Packer”) that no instance in any enabled region uses and no other instance profile holds.',
  outputs: [selectedIdsOutput('instance-profiles')],
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
    remove: [PERMISSION.removeRoleFromInstanceProfile, PERMISSION.deleteRolePolicy, PERMISSION.deleteRole, PERMISSION.deleteInstanceProfile]
  }),
  inUseCodes: IAM_IN_USE_CODES,
  nameHeader: 'Name',
  dryRunCaveat: 'the IAM permissions to remove instance profiles and roles were not proven (IAM has no DryRun)',
  engine: 'account-leftovers',
  survey: surveyInstanceProfiles,
  // Which instances run with a profile: from the swept regions' listings when the run makes them.
  instanceUse: { link: BY_INSTANCE_PROFILE, elsewhere: PERMISSION.describeIamInstanceProfileAssociations }
} satisfies AccountLeftoverKind

async function surveyInstanceProfiles(scope: AccountScope, terminating: Promise<ReadonlySet<string>>): Promise<AccountSurvey> {
  const { inputs } = scope
  const phase = await startInstanceProfilePhase(scope)
  try {
    const plan = await phase.plan(terminating)
    return {
      errors: phase.errors,
      changes: phase.changes(plan),
      act: async (_signals, terminated) => new Map([['instance-profiles', await phase.settle(plan, terminated)]]),
      holdBack: (why) =>
        new Map([
          [
            'instance-profiles',
            reportInstanceProfilesOnly(plan, inputs, inputs.action === 'terminate' ? (why === 'over-cap' ? OVER_CAP : NOT_REMOVED_CANCELLED) : undefined)
          ]
        ]),
      dispose: () => phase.dispose()
    }
  } catch (error) {
    phase.dispose()
    throw error
  }
}
