/**
 * A small in-memory EC2 behind aws-sdk-client-mock, for the orphan sweep's tests: the describe
 * calls apply their filters (EC2 wildcards by the sandbox's matcher, written independently of the
 * code under test; OR within a filter, AND across filters) and page with NextToken in pages of
 * `pageSize`, so every test goes through the SDK paginators;
 * the deletes change the world and refuse the way EC2 does (DryRun, DependencyViolation).
 */
import {
  DeleteKeyPairCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type Filter,
  type Instance,
  type SecurityGroup,
  type Tag
} from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { ec2Error } from '../../../__fixtures__/support.js'
import { wildcard } from '../../../sandbox/index.js'

export const ec2 = mockClient(EC2Client)

export const LAUNCH_TEMPLATE_ID_TAG = 'aws:ec2launchtemplate:id'

export interface FakeInstance {
  id: string
  state: 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped'
  keyName?: string
  launchTemplateId?: string
}
export interface FakeKeyPair {
  name: string
  id?: string
  createTime?: Date
  tags?: Record<string, string>
}
export interface FakeGroup {
  id: string
  name: string
  description: string
  tags?: Record<string, string>
  /** Groups its ingress rules point at. */
  ingressFrom?: string[]
  /** Groups its egress rules point at. */
  egressTo?: string[]
}
export interface FakeInterface {
  id: string
  groupIds: string[]
  instanceId?: string
}
export interface FakeTemplate {
  id: string
  name: string
  createTime?: Date
  tags?: Record<string, string>
}
export interface FakeWorld {
  instances: FakeInstance[]
  keyPairs: FakeKeyPair[]
  groups: FakeGroup[]
  interfaces: FakeInterface[]
  templates: FakeTemplate[]
}

export function emptyWorld(): FakeWorld {
  return { instances: [], keyPairs: [], groups: [], interfaces: [], templates: [] }
}

type Attributes = (name: string) => string[] | undefined

/** `attributes(filterName)` = the resource's values for that filter; undefined = unsupported filter. */
function passes(filters: Filter[] | undefined, attributes: Attributes): boolean {
  return (filters ?? []).every((filter) => {
    const values = attributes(filter.Name ?? '')
    if (values === undefined) throw ec2Error('InvalidParameterValue', `The filter '${filter.Name}' is invalid`)
    return values.some((value) => (filter.Values ?? []).some((pattern) => wildcard(pattern)(value)))
  })
}

function tagAttributes(tags: Record<string, string> | undefined, name: string): string[] | undefined {
  if (!name.startsWith('tag:')) return undefined
  const value = tags?.[name.slice(4)]
  return value === undefined ? [] : [value]
}

function toTags(tags: Record<string, string> | undefined): Tag[] | undefined {
  return tags && Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
}

function page<T>(items: T[], token: string | undefined, pageSize: number): { items: T[]; NextToken?: string } {
  const start = token ? Number(token) : 0
  const end = start + pageSize
  return end < items.length ? { items: items.slice(start, end), NextToken: String(end) } : { items: items.slice(start) }
}

/** Wires the mock to `world`; the world may be changed between calls (an instance terminating). */
export function installFakeEc2(world: FakeWorld, pageSize = 2): void {
  ec2.on(DescribeKeyPairsCommand).callsFake((input) => ({
    KeyPairs: world.keyPairs
      .filter((key) => passes(input.Filters, (name) => (name === 'key-name' ? [key.name] : tagAttributes(key.tags, name))))
      .map((key) => ({ KeyName: key.name, KeyPairId: key.id, CreateTime: key.createTime, Tags: toTags(key.tags) }))
  }))

  ec2.on(DescribeInstancesCommand).callsFake((input) => {
    let matching = world.instances.filter((instance) =>
      passes(input.Filters, (name) => {
        if (name === 'key-name') return instance.keyName === undefined ? [] : [instance.keyName]
        if (name === 'instance-state-name') return [instance.state]
        if (name === `tag:${LAUNCH_TEMPLATE_ID_TAG}`) return instance.launchTemplateId ? [instance.launchTemplateId] : []
        return undefined
      })
    )
    if (input.InstanceIds) {
      const unknown = input.InstanceIds.find((id: string) => !world.instances.some((instance) => instance.id === id))
      if (unknown) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${unknown}' does not exist`)
      matching = matching.filter((instance) => input.InstanceIds?.includes(instance.id))
    }
    const { items, NextToken } = page(matching, input.NextToken, input.InstanceIds ? 1000 : pageSize)
    const instances: Instance[] = items.map((instance) => ({
      InstanceId: instance.id,
      KeyName: instance.keyName,
      State: { Name: instance.state },
      Tags: instance.launchTemplateId ? [{ Key: LAUNCH_TEMPLATE_ID_TAG, Value: instance.launchTemplateId }] : []
    }))
    return { Reservations: instances.map((instance) => ({ Instances: [instance] })), NextToken }
  })

  ec2.on(DescribeSecurityGroupsCommand).callsFake((input) => {
    const matching = world.groups.filter((group) =>
      passes(input.Filters, (name) => {
        if (name === 'group-name') return [group.name]
        if (name === 'description') return [group.description]
        if (name === 'ip-permission.group-id') return group.ingressFrom ?? []
        if (name === 'egress.ip-permission.group-id') return group.egressTo ?? []
        return tagAttributes(group.tags, name)
      })
    )
    const { items, NextToken } = page(matching, input.NextToken, pageSize)
    const SecurityGroups: SecurityGroup[] = items.map((group) => ({
      GroupId: group.id,
      GroupName: group.name,
      Description: group.description,
      Tags: toTags(group.tags),
      IpPermissions: (group.ingressFrom ?? []).map((GroupId) => ({ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId }] })),
      IpPermissionsEgress: (group.egressTo ?? []).map((GroupId) => ({ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId }] }))
    }))
    return { SecurityGroups, NextToken }
  })

  ec2.on(DescribeNetworkInterfacesCommand).callsFake((input) => {
    const matching = world.interfaces.filter((eni) => passes(input.Filters, (name) => (name === 'group-id' ? eni.groupIds : undefined)))
    const { items, NextToken } = page(matching, input.NextToken, pageSize)
    return {
      NetworkInterfaces: items.map((eni) => ({
        NetworkInterfaceId: eni.id,
        Groups: eni.groupIds.map((GroupId) => ({ GroupId })),
        Attachment: eni.instanceId ? { InstanceId: eni.instanceId } : undefined
      })),
      NextToken
    }
  })

  ec2.on(DescribeLaunchTemplatesCommand).callsFake((input) => {
    const matching = world.templates.filter((template) =>
      passes(input.Filters, (name) => (name === 'launch-template-name' ? [template.name] : tagAttributes(template.tags, name)))
    )
    const { items, NextToken } = page(matching, input.NextToken, pageSize)
    return {
      LaunchTemplates: items.map((template) => ({
        LaunchTemplateId: template.id,
        LaunchTemplateName: template.name,
        CreateTime: template.createTime,
        Tags: toTags(template.tags)
      })),
      NextToken
    }
  })

  ec2.on(DeleteKeyPairCommand).callsFake((input) => {
    if (input.DryRun) throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
    // Like EC2: deleting a key pair never fails because an instance uses it, nor when it is gone.
    world.keyPairs = world.keyPairs.filter((key) => (input.KeyPairId ? key.id !== input.KeyPairId : key.name !== input.KeyName))
    return {}
  })

  ec2.on(DeleteSecurityGroupCommand).callsFake((input) => {
    if (!world.groups.some((group) => group.id === input.GroupId)) throw ec2Error('InvalidGroup.NotFound')
    if (input.DryRun) throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
    const attached = world.interfaces.find((eni) => eni.groupIds.includes(input.GroupId ?? ''))
    const referencing = world.groups.find(
      (group) => group.id !== input.GroupId && [...(group.ingressFrom ?? []), ...(group.egressTo ?? [])].includes(input.GroupId ?? '')
    )
    if (attached || referencing) {
      throw ec2Error('DependencyViolation', `resource ${input.GroupId} has a dependent object`)
    }
    world.groups = world.groups.filter((group) => group.id !== input.GroupId)
    return {}
  })

  ec2.on(DeleteLaunchTemplateCommand).callsFake((input) => {
    if (!world.templates.some((template) => template.id === input.LaunchTemplateId)) throw ec2Error('InvalidLaunchTemplateId.NotFound')
    if (input.DryRun) throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
    world.templates = world.templates.filter((template) => template.id !== input.LaunchTemplateId)
    return {}
  })
}

/** Test-speed waits: a stuck instance gives up after two seconds, not five minutes. */
export const QUICK_WAIT = { maxWaitSeconds: 2, minDelaySeconds: 1, maxDelaySeconds: 1 }
