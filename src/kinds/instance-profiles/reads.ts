/**
 * The IAM instance profile kind's reads: every profile and role named like Packer's, each build's
 * tags and policies, and which instances use a profile in every enabled region.
 */
import { paginateDescribeIamInstanceProfileAssociations } from '@aws-sdk/client-ec2'
import { collect, inOrder, mapWithConcurrency } from '../../aws/batches.js'
import { describing } from '../../aws/describe-error.js'
import type { InstanceRef, Scope } from '../../engine/leftover-kind.js'
import { tagMap } from '../../model/aws-data.js'
import { PERMISSION } from '../../model/permissions.js'
import {
  BY_INSTANCE_PROFILE,
  groupLeftovers,
  isPackerIamName,
  leftoverAge,
  type IamLeftover,
  type ListedProfile,
  type ListedRole
} from './rules.js'

/**
 * Builds' leftovers read or removed at once: IAM's rate limits are account-wide and low. Each has
 * up to four independent listings, or two writes, in flight at a time.
 */
export const IAM_CONCURRENCY = 4

/**
 * Every profile and role named like Packer's, grouped by build, with every profile (at any path)
 * that holds each build's role, and the tags and policies of those old enough to matter. A role
 * or profile of Packer's name that is not Packer's is kept as foreign, so that nothing sharing
 * its name is ever taken apart.
 */
export async function discoverLeftovers(scope: Scope): Promise<IamLeftover[]> {
  const { paginateListRoles } = await import('@aws-sdk/client-iam')
  const iam = await scope.iam()
  const [profiles, listedRoles] = await inOrder([
    listProfiles(scope),
    describing(PERMISSION.listRoles, () =>
      collect(
        paginateListRoles({ client: iam }, { PathPrefix: '/' }, { abortSignal: scope.abortSignal }),
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
    const age = leftoverAge(leftover, scope.now)
    return age.ageSeconds === undefined || scope.inputs['max-age'] === 0 || age.ageSeconds > scope.inputs['max-age']
  })
  return mapWithConcurrency(worthReading, IAM_CONCURRENCY, (leftover) => readDetails(scope, leftover))
}

/**
 * Every instance profile of the account, at every path, with the roles it holds: not only
 * Packer's, for any of them may hold a Packer role.
 */
export async function listProfiles(scope: Scope): Promise<ListedProfile[]> {
  const { paginateListInstanceProfiles } = await import('@aws-sdk/client-iam')
  const iam = await scope.iam()
  const listed = await describing(PERMISSION.listInstanceProfiles, () =>
    collect(
      paginateListInstanceProfiles({ client: iam }, { PathPrefix: '/' }, { abortSignal: scope.abortSignal }),
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
export async function readDetails(scope: Scope, leftover: IamLeftover): Promise<IamLeftover> {
  const {
    paginateListInstanceProfileTags,
    paginateListRoleTags,
    paginateListRolePolicies,
    paginateListAttachedRolePolicies
  } = await import('@aws-sdk/client-iam')
  const options = { abortSignal: scope.abortSignal }
  const client = { client: await scope.iam() }
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
export async function profileUsers(scope: Scope, arns: readonly string[]): Promise<Map<string, InstanceRef[]>> {
  const users = new Map<string, InstanceRef[]>()
  const add = (arn: string, instanceId: string, region: string) =>
    users.set(arn, [...(users.get(arn) ?? []), { instanceId, region }])
  await Promise.all(
    (await scope.enabledRegions()).map(async (region) => {
      const listed = scope.instancesIn(region)
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
        for await (const page of paginateDescribeIamInstanceProfileAssociations(
          { client: scope.ec2For(region) },
          input,
          {
            abortSignal: scope.abortSignal
          }
        )) {
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
