import {
  DeleteSecurityGroupCommand,
  type EC2Client,
  type IpPermission,
  paginateDescribeNetworkInterfaces,
  paginateDescribeSecurityGroups
} from '@aws-sdk/client-ec2'
import { chunk, collect, inOrder, MAX_FILTER_VALUES } from '../aws/batches.js'
import { describing } from '../aws/describe-error.js'
import { candidatesOf, regionalLeftover, tagFilters } from '../engine/regional-kind.js'
import type { Candidate, Usage } from '../engine/leftover-model.js'
import { matchesAnyPattern } from '../engine/rules.js'
import { PERMISSION } from '../model/permissions.js'
import { leftoverPermissions, selectedIdsOutput } from '../engine/kind.js'

/** Packer's temporary group: `packer_<uuid>` with this exact description (common/step_security_group.go). */
export const SECURITY_GROUP_NAME_PATTERN = 'packer_*'
export const PACKER_GROUP_DESCRIPTION = 'Temporary group for Packer'

/**
 * Packer's temporary security groups. Their only age is the build start in their name; what uses
 * them is any network interface carrying them and any other group whose rules point at them.
 */
export const securityGroups = regionalLeftover({
  name: 'security-groups',
  nouns: { singular: 'security group', plural: 'security groups', title: 'Security groups' },
  description:
    'Packer’s temporary security groups (`packer_<uuid>`, described “Temporary group for Packer”) that no network interface or other group uses.',
  outputs: [
    {
      ...selectedIdsOutput('security-groups'),
      description:
        'JSON array of the IDs of the orphaned security groups found (with their outcome in report); one still in use by something this run does not terminate is only in report, as skipped.'
    }
  ],
  permissions: leftoverPermissions({
    read: [PERMISSION.describeSecurityGroups, PERMISSION.describeNetworkInterfaces],
    remove: [PERMISSION.deleteSecurityGroup]
  }),
  // DeleteSecurityGroup refuses a group still in use by itself: the check that cannot race.
  inUseCodes: ['DependencyViolation'],
  nameHeader: 'Name',
  sweeper: {
    async discover(client, inputs, abortSignal) {
      const filters = [
        { Name: 'group-name', Values: [SECURITY_GROUP_NAME_PATTERN] },
        { Name: 'description', Values: [PACKER_GROUP_DESCRIPTION] },
        ...tagFilters(inputs)
      ]
      const groups = await describing(PERMISSION.describeSecurityGroups, () =>
        collect(
          paginateDescribeSecurityGroups({ client }, { Filters: filters, MaxResults: 1000 }, { abortSignal }),
          (page) => page.SecurityGroups
        )
      )
      const listed = groups
        .filter((group) => group.Description === PACKER_GROUP_DESCRIPTION)
        .map((group) => ({ id: group.GroupId, name: group.GroupName, tags: group.Tags }))
      return candidatesOf('security-groups', listed, inputs, (name) =>
        matchesAnyPattern(name, [SECURITY_GROUP_NAME_PATTERN])
      )
    },

    usage: { find: groupUsage },

    async remove(client, candidate, dryRun, abortSignal) {
      await client.send(new DeleteSecurityGroupCommand({ GroupId: candidate.id, DryRun: dryRun }), { abortSignal })
    },

    removePermission: PERMISSION.deleteSecurityGroup,
    alreadyGoneCodes: ['InvalidGroup.NotFound']
  }
})

/**
 * What uses each candidate group: network interfaces carrying it and other groups whose rules
 * point at it. The three lookups of each batch of 200 IDs run side by side.
 */
async function groupUsage(
  client: EC2Client,
  candidates: readonly Candidate[],
  abortSignal?: AbortSignal
): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>()
  const usageOf = (groupId: string): Usage => {
    const entry = usage.get(groupId) ?? { instanceIds: [], others: [] }
    usage.set(groupId, entry)
    return entry
  }
  const batches = chunk(
    candidates.map((candidate) => candidate.id),
    MAX_FILTER_VALUES
  )
  await inOrder(
    batches.flatMap((groupIds) => {
      const wanted = new Set(groupIds)
      return [
        addInterfaceUse(client, groupIds, wanted, usageOf, abortSignal),
        // Separate calls: values of separate filters are AND'd.
        ...['ip-permission.group-id', 'egress.ip-permission.group-id'].map((filterName) =>
          addGroupReferences(client, filterName, groupIds, wanted, usageOf, abortSignal)
        )
      ]
    })
  )
  return usage
}

/**
 * Network interfaces carrying a candidate. One attached to an instance is that instance's use
 * (freed when it terminates and the interface goes with it); any other interface (detached, or
 * a service's) is a use no termination in this run frees.
 */
async function addInterfaceUse(
  client: EC2Client,
  groupIds: string[],
  wanted: ReadonlySet<string>,
  usageOf: (groupId: string) => Usage,
  abortSignal: AbortSignal | undefined
): Promise<void> {
  const input = { Filters: [{ Name: 'group-id', Values: groupIds }], MaxResults: 1000 }
  await describing(PERMISSION.describeNetworkInterfaces, async () => {
    for await (const page of paginateDescribeNetworkInterfaces({ client }, input, { abortSignal })) {
      for (const networkInterface of page.NetworkInterfaces ?? []) {
        const instanceId = networkInterface.Attachment?.InstanceId
        for (const { GroupId } of networkInterface.Groups ?? []) {
          if (!GroupId || !wanted.has(GroupId)) continue
          if (instanceId) usageOf(GroupId).instanceIds.push(instanceId)
          else
            usageOf(GroupId).others.push(
              `${networkInterface.NetworkInterfaceId ?? 'a network interface'} (not attached to an instance)`
            )
        }
      }
    }
  })
}

/**
 * Other groups whose ingress (`ip-permission.group-id`) or egress rules name a candidate. A
 * group's rules naming itself do not stop it from being deleted, so they do not count.
 */
async function addGroupReferences(
  client: EC2Client,
  filterName: string,
  groupIds: string[],
  wanted: ReadonlySet<string>,
  usageOf: (groupId: string) => Usage,
  abortSignal: AbortSignal | undefined
): Promise<void> {
  const input = { Filters: [{ Name: filterName, Values: groupIds }], MaxResults: 1000 }
  await describing(PERMISSION.describeSecurityGroups, async () => {
    for await (const page of paginateDescribeSecurityGroups({ client }, input, { abortSignal })) {
      for (const referencing of page.SecurityGroups ?? []) {
        const rules = [...(referencing.IpPermissions ?? []), ...(referencing.IpPermissionsEgress ?? [])]
        for (const referenced of referencedGroupIds(rules)) {
          if (!wanted.has(referenced) || referenced === referencing.GroupId) continue
          const entry = usageOf(referenced)
          const note = `group ${referencing.GroupId ?? '(no ID)'} (its rules reference it)`
          if (!entry.others.includes(note)) entry.others.push(note)
        }
      }
    }
  })
}

function referencedGroupIds(rules: readonly IpPermission[]): Set<string> {
  const ids = new Set<string>()
  for (const rule of rules) for (const pair of rule.UserIdGroupPairs ?? []) if (pair.GroupId) ids.add(pair.GroupId)
  return ids
}
