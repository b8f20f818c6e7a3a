/**
 * The EC2 Query API operations the sweep calls, with EC2's documented shapes, filters and
 * refusals (see shared/REFERENCE.md). Each handler returns the XML inside `<XResponse>`.
 */
import { LAUNCH_TEMPLATE_TAG, stateCode, type Fleet } from './fleet.js'
import { EBS_HANDLERS } from './ebs.js'
import { describeSpotPriceHistory } from './pricing.js'
import {
  ACCOUNT_ID,
  type InstanceStateName,
  type SandboxInstance,
  type SandboxIpPermission,
  type SandboxKeyPair,
  type SandboxLaunchTemplate,
  type SandboxNetworkInterface,
  type SandboxSecurityGroup
} from './types.js'
import {
  AwsFault,
  boolParam,
  compileFilters,
  dryRun,
  el,
  filtersParam,
  items,
  listParam,
  paginate,
  tagSet,
  type FilterFields,
  type Params
} from './wire.js'

export { ACCOUNT_ID }

export interface Ec2Context {
  params: Params
  region: string
  fleet: Fleet
  /** Regions enabled for the account, and opt-in regions that are not. */
  regions: { enabled: string[]; notOptedIn: string[] }
  /** The sandbox's `pageSize`: at most this many items per page of a paginated answer. */
  pageSize?: number
  /**
   * Whether IAM denies the account an EC2 action in this region now (a `faults.deny` rule without
   * `params`, not used up): for calls that act on further resources themselves, such as DeregisterImage
   * deleting snapshots.
   */
  denied?: (action: string) => boolean
}

export type Ec2Handler = (ctx: Ec2Context) => string

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/

const instanceFields: FilterFields<SandboxInstance> = {
  'instance-id': (i) => [i.id],
  'key-name': (i) => [i.keyName],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(stateCode(i.state))],
  'instance-lifecycle': (i) => [i.lifecycle],
  'instance-type': (i) => [i.instanceType],
  'availability-zone': (i) => [i.availabilityZone],
  'reservation-id': (i) => [i.reservationId],
  'launch-time': (i) => [i.launchTime.toISOString()],
  'instance.group-id': (i) => i.securityGroupIds,
  'root-device-type': (i) => [i.rootDeviceType]
}

/** Validates `InstanceId.N` the way EC2 does: a malformed or unknown ID fails the whole call. */
function targetInstances(ctx: Ec2Context): SandboxInstance[] {
  const ids = listParam(ctx.params, 'InstanceId')
  if (ids.length === 0) throw new AwsFault('MissingParameter', "The request must contain the parameter 'InstanceId'")
  if (ids.length > 1000) throw new AwsFault('InvalidParameterValue', 'Too many instance IDs: at most 1000 per call')
  const malformed = ids.find((id) => !INSTANCE_ID.test(id))
  if (malformed) throw new AwsFault('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`)
  const found = ids.map((id) => ctx.fleet.instance(id))
  const missing = ids.filter((id, n) => found[n] === undefined || found[n]?.region !== ctx.region)
  if (missing.length === 1)
    throw new AwsFault('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`)
  if (missing.length > 1)
    throw new AwsFault('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`)
  return [...new Set(found as SandboxInstance[])]
}

function stateChange(i: SandboxInstance, previous: InstanceStateName): string {
  return (
    el('instanceId', i.id) +
    `<currentState>${el('code', stateCode(i.state))}${el('name', i.state)}</currentState>` +
    `<previousState>${el('code', stateCode(previous))}${el('name', previous)}</previousState>`
  )
}

function renderInstance(i: SandboxInstance, groupNames: Map<string, string>, fleet: Fleet): string {
  return (
    el('instanceId', i.id) +
    el('imageId', i.imageId) +
    `<instanceState>${el('code', stateCode(i.state))}${el('name', i.state)}</instanceState>` +
    el('privateDnsName', '') +
    el('keyName', i.keyName) +
    el('amiLaunchIndex', 0) +
    el('instanceType', i.instanceType) +
    el('launchTime', i.launchTime.toISOString()) +
    `<placement>${el('availabilityZone', i.availabilityZone)}${el('tenancy', 'default')}</placement>` +
    el('ipAddress', associatedAddress(i)?.publicIp) +
    el('rootDeviceType', i.rootDeviceType) +
    el('rootDeviceName', i.rootDeviceName) +
    items('blockDeviceMapping', fleet.attachedVolumes(i.id), (v) => {
      const a = v.attachment
      return (
        el('deviceName', a?.device) +
        `<ebs>${el('volumeId', v.volumeId)}${el('status', 'attached')}${el('attachTime', a?.attachTime.toISOString())}${el('deleteOnTermination', a?.deleteOnTermination)}</ebs>`
      )
    }) +
    el('instanceLifecycle', i.lifecycle) +
    items('groupSet', i.securityGroupIds, (g) => el('groupId', g) + el('groupName', groupNames.get(g))) +
    iamInstanceProfile(i) +
    tagSet(i.tags)
  )
}

/** The instance's Elastic IP while it is associated: termination disassociates it. */
function associatedAddress(i: SandboxInstance) {
  return i.state === 'terminated' ? undefined : i.elasticIp
}

/**
 * DescribeAddresses: the Elastic IPs seeded on the region's instances, by AllocationId.N or
 * PublicIp.N. Only so tests can read back that the user's address survived a sweep; nothing in
 * the action calls it.
 */
const describeAddresses: Ec2Handler = (ctx) => {
  const allocationIds = listParam(ctx.params, 'AllocationId')
  const publicIps = listParam(ctx.params, 'PublicIp')
  const addresses = ctx.fleet
    .instances(ctx.region)
    .flatMap((i) => (i.elasticIp ? [{ ...i.elasticIp, associated: associatedAddress(i) ? i.id : undefined }] : []))
    .filter(
      (a) =>
        (allocationIds.length === 0 || allocationIds.includes(a.allocationId)) &&
        (publicIps.length === 0 || publicIps.includes(a.publicIp))
    )
  return items(
    'addressesSet',
    addresses,
    (a) =>
      el('publicIp', a.publicIp) +
      el('allocationId', a.allocationId) +
      el('domain', 'vpc') +
      el('instanceId', a.associated) +
      el('associationId', a.associated && a.allocationId.replace(/^eipalloc-/, 'eipassoc-'))
  )
}

function iamInstanceProfile(i: SandboxInstance): string {
  return i.iamInstanceProfile
    ? `<iamInstanceProfile>${el('arn', i.iamInstanceProfile.arn)}${el('id', i.iamInstanceProfile.id)}</iamInstanceProfile>`
    : ''
}

const describeInstances: Ec2Handler = (ctx) => {
  const { params } = ctx
  const ids = listParam(params, 'InstanceId')
  if (ids.length > 0 && params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults'
    )
  }
  const keep = compileFilters(filtersParam(params), instanceFields)
  let page: { items: SandboxInstance[]; nextToken?: string }
  if (ids.length > 0) {
    const wanted = targetInstances(ctx)
    page = { items: wanted.filter(keep) }
  } else {
    // Without MaxResults EC2 still cuts long answers: a client that ignores NextToken misses instances.
    page = paginate(ctx.fleet.instances(ctx.region), keep, params, {
      min: 5,
      max: 1000,
      cap: ctx.pageSize,
      defaultMax: 1000
    })
  }
  const groupNames = new Map(ctx.fleet.securityGroups(ctx.region).map((g) => [g.groupId, g.groupName]))
  const reservations: SandboxInstance[][] = []
  for (const i of page.items) {
    const last = reservations[reservations.length - 1]
    if (last && last[0]?.reservationId === i.reservationId) last.push(i)
    else reservations.push([i])
  }
  return (
    items(
      'reservationSet',
      reservations,
      (r) =>
        el('reservationId', r[0]?.reservationId) +
        el('ownerId', ACCOUNT_ID) +
        '<groupSet/>' +
        items('instancesSet', r, (i) => renderInstance(i, groupNames, ctx.fleet))
    ) + el('nextToken', page.nextToken)
  )
}

/**
 * TerminateInstances: atomic refusals (bad ID) fail everything; termination protection fails the
 * call naming the protected instance, and only instances in the protected instances' zones are
 * spared — those in other zones are terminated, as EC2 does.
 */
const terminateInstances: Ec2Handler = (ctx) => {
  const targets = targetInstances(ctx)
  dryRun(ctx.params)
  const protectedOnes = targets.filter((i) => i.disableApiTermination && i.state !== 'terminated')
  const sparedZones = new Set(protectedOnes.map((i) => i.availabilityZone))
  const changes: string[] = []
  for (const i of targets) {
    if (sparedZones.has(i.availabilityZone)) continue
    const previous = i.state
    const lag = i.state === 'pending' || i.state === 'stopping' ? ctx.fleet.terminationLagMs : 0
    if (i.state !== 'terminated' && i.state !== 'shutting-down' && !i.transition?.then)
      ctx.fleet.transition(i, 'shutting-down', 'terminated', lag)
    changes.push(stateChange(i, previous))
  }
  const first = protectedOnes[0]
  if (first) {
    throw new AwsFault(
      'OperationNotPermitted',
      `The instance '${first.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`
    )
  }
  return items('instancesSet', changes, (c) => c)
}

/** StopInstances: any refusal fails the whole call and nothing changes. */
const stopInstances: Ec2Handler = (ctx) => {
  const targets = targetInstances(ctx)
  for (const i of targets) {
    if (i.state === 'pending' || i.state === 'shutting-down' || i.state === 'terminated') {
      throw new AwsFault(
        'IncorrectInstanceState',
        `This instance '${i.id}' is not in a state from which it can be stopped.`
      )
    }
    if (i.state === 'stopped' || i.state === 'stopping') continue
    if (i.lifecycle === 'spot') {
      throw new AwsFault(
        'UnsupportedOperation',
        `You can't stop the Spot Instance '${i.id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with a persistent Spot Instance request.`
      )
    }
    if (i.rootDeviceType === 'instance-store') {
      throw new AwsFault(
        'UnsupportedOperation',
        `The instance '${i.id}' does not have an 'ebs' root device type and cannot be stopped.`
      )
    }
    if (i.disableApiStop) {
      throw new AwsFault(
        'OperationNotPermitted',
        `The instance '${i.id}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`
      )
    }
  }
  dryRun(ctx.params)
  return items('instancesSet', targets, (i) => {
    const previous = i.state
    if (i.state === 'running') ctx.fleet.transition(i, 'stopping', 'stopped')
    return stateChange(i, previous)
  })
}

const describeRegions: Ec2Handler = (ctx) => {
  const all = boolParam(ctx.params, 'AllRegions')
  const named = listParam(ctx.params, 'RegionName')
  const regions = [
    ...ctx.regions.enabled.map((name) => ({ name, status: 'opt-in-not-required' })),
    ...(all || named.length > 0 ? ctx.regions.notOptedIn.map((name) => ({ name, status: 'not-opted-in' })) : [])
  ]
  const unknown = named.find((n) => !regions.some((r) => r.name === n))
  if (unknown) throw new AwsFault('InvalidParameterValue', `Invalid region names: ${unknown}`)
  const keep = compileFilters<{ name: string; status: string; tags: Record<string, string> }>(
    filtersParam(ctx.params),
    {
      'region-name': (r) => [r.name],
      'opt-in-status': (r) => [r.status]
    }
  )
  const shown = regions
    .map((r) => ({ ...r, tags: {} }))
    .filter((r) => (named.length === 0 || named.includes(r.name)) && keep(r))
  return items(
    'regionInfo',
    shown,
    (r) => el('regionName', r.name) + el('regionEndpoint', `ec2.${r.name}.amazonaws.com`) + el('optInStatus', r.status)
  )
}

// ---- orphan sweep: key pairs, security groups, network interfaces, launch templates ----

const describeKeyPairs: Ec2Handler = (ctx) => {
  const names = listParam(ctx.params, 'KeyName')
  const ids = listParam(ctx.params, 'KeyPairId')
  const all = ctx.fleet.keyPairs(ctx.region)
  const missing = names.find((n) => !all.some((k) => k.keyName === n))
  if (missing) throw new AwsFault('InvalidKeyPair.NotFound', `The key pair '${missing}' does not exist`)
  const missingId = ids.find((n) => !all.some((k) => k.keyPairId === n))
  if (missingId) throw new AwsFault('InvalidKeyPair.NotFound', `The key pair '${missingId}' does not exist`)
  const keep = compileFilters<SandboxKeyPair>(filtersParam(ctx.params), {
    'key-name': (k) => [k.keyName],
    'key-pair-id': (k) => [k.keyPairId],
    'key-type': () => ['rsa']
  })
  const shown = all.filter(
    (k) =>
      (names.length === 0 || names.includes(k.keyName)) && (ids.length === 0 || ids.includes(k.keyPairId)) && keep(k)
  )
  return items(
    'keySet',
    shown,
    (k) =>
      el('keyPairId', k.keyPairId) +
      el('keyName', k.keyName) +
      el('keyFingerprint', `sandbox:${k.keyPairId}`) +
      el('keyType', 'rsa') +
      tagSet(k.tags) +
      el('createTime', k.createTime?.toISOString())
  )
}

const deleteKeyPair: Ec2Handler = (ctx) => {
  const name = ctx.params.KeyName
  const id = ctx.params.KeyPairId
  if (!name && !id)
    throw new AwsFault('MissingParameter', 'The request must contain the parameter KeyName or KeyPairId')
  const list = ctx.fleet.keyPairs(ctx.region)
  const index = list.findIndex((k) => (id ? k.keyPairId === id : k.keyName === name))
  if (index < 0 && id) throw new AwsFault('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`)
  dryRun(ctx.params)
  // EC2 deletes a key pair even while instances use it (and a missing name is not an error).
  const [removed] = index >= 0 ? list.splice(index, 1) : []
  return el('return', true) + el('keyPairId', removed?.keyPairId)
}

function referencesGroup(rules: SandboxIpPermission[], groupId: string): boolean {
  return rules.some((r) => r.groupIds.includes(groupId))
}

const groupFields: FilterFields<SandboxSecurityGroup> = {
  'group-id': (g) => [g.groupId],
  'group-name': (g) => [g.groupName],
  description: (g) => [g.description],
  'vpc-id': (g) => [g.vpcId],
  'owner-id': () => [ACCOUNT_ID],
  'ip-permission.group-id': (g) => g.ingress.flatMap((r) => r.groupIds),
  'egress.ip-permission.group-id': (g) => g.egress.flatMap((r) => r.groupIds),
  'ip-permission.cidr': (g) => g.ingress.flatMap((r) => r.cidrs)
}

function renderRules(name: string, rules: SandboxIpPermission[]): string {
  return items(
    name,
    rules,
    (r) =>
      el('ipProtocol', r.protocol) +
      el('fromPort', r.fromPort) +
      el('toPort', r.toPort) +
      items('groups', r.groupIds, (g) => el('userId', ACCOUNT_ID) + el('groupId', g)) +
      items('ipRanges', r.cidrs, (c) => el('cidrIp', c))
  )
}

const describeSecurityGroups: Ec2Handler = (ctx) => {
  const ids = listParam(ctx.params, 'GroupId')
  const names = listParam(ctx.params, 'GroupName')
  if ((ids.length > 0 || names.length > 0) && ctx.params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter groupIds cannot be used with the parameter maxResults'
    )
  }
  const all = ctx.fleet.securityGroups(ctx.region)
  const missing = ids.find((id) => !all.some((g) => g.groupId === id))
  if (missing) throw new AwsFault('InvalidGroup.NotFound', `The security group '${missing}' does not exist`)
  const filter = compileFilters(filtersParam(ctx.params), groupFields)
  const keep = (g: SandboxSecurityGroup) =>
    (ids.length === 0 || ids.includes(g.groupId)) && (names.length === 0 || names.includes(g.groupName)) && filter(g)
  const page = paginate(all, keep, ctx.params, {
    min: 5,
    max: 1000,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  return (
    items(
      'securityGroupInfo',
      page.items,
      (g) =>
        el('ownerId', ACCOUNT_ID) +
        el('groupId', g.groupId) +
        el('groupName', g.groupName) +
        el('groupDescription', g.description) +
        el('vpcId', g.vpcId) +
        renderRules('ipPermissions', g.ingress) +
        renderRules('ipPermissionsEgress', g.egress) +
        tagSet(g.tags)
    ) + el('nextToken', page.nextToken)
  )
}

const deleteSecurityGroup: Ec2Handler = (ctx) => {
  const list = ctx.fleet.securityGroups(ctx.region)
  const { GroupId: id, GroupName: name } = ctx.params
  if (!id && !name)
    throw new AwsFault('MissingParameter', 'The request must contain the parameter GroupId or GroupName')
  const index = list.findIndex((g) => (id ? g.groupId === id : g.groupName === name))
  const group = list[index]
  if (!group) throw new AwsFault('InvalidGroup.NotFound', `The security group '${id ?? name}' does not exist`)
  dryRun(ctx.params)
  const usedByInterface = ctx.fleet.networkInterfaces(ctx.region).some((n) => n.groupIds.includes(group.groupId))
  const referenced = list.some(
    (g) => g !== group && (referencesGroup(g.ingress, group.groupId) || referencesGroup(g.egress, group.groupId))
  )
  if (usedByInterface || referenced)
    throw new AwsFault('DependencyViolation', `resource ${group.groupId} has a dependent object`)
  list.splice(index, 1)
  return el('return', true) + el('groupId', group.groupId)
}

const describeNetworkInterfaces: Ec2Handler = (ctx) => {
  const ids = listParam(ctx.params, 'NetworkInterfaceId')
  const filter = compileFilters<SandboxNetworkInterface>(filtersParam(ctx.params), {
    'group-id': (n) => n.groupIds,
    'network-interface-id': (n) => [n.networkInterfaceId],
    'attachment.instance-id': (n) => [n.attachedInstanceId],
    status: (n) => [n.status],
    description: (n) => [n.description]
  })
  const all = ctx.fleet.networkInterfaces(ctx.region)
  const page = paginate(all, (n) => (ids.length === 0 || ids.includes(n.networkInterfaceId)) && filter(n), ctx.params, {
    min: 5,
    max: 1000,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  const groupNames = new Map(ctx.fleet.securityGroups(ctx.region).map((g) => [g.groupId, g.groupName]))
  return (
    items(
      'networkInterfaceSet',
      page.items,
      (n) =>
        el('networkInterfaceId', n.networkInterfaceId) +
        el('description', n.description) +
        el('status', n.status) +
        (n.attachedInstanceId
          ? `<attachment>${el('instanceId', n.attachedInstanceId)}${el('status', 'attached')}</attachment>`
          : '') +
        items('groupSet', n.groupIds, (g) => el('groupId', g) + el('groupName', groupNames.get(g))) +
        tagSet(n.tags)
    ) + el('nextToken', page.nextToken)
  )
}

const describeLaunchTemplates: Ec2Handler = (ctx) => {
  const ids = listParam(ctx.params, 'LaunchTemplateId')
  const names = listParam(ctx.params, 'LaunchTemplateName')
  const all = ctx.fleet.launchTemplates(ctx.region)
  const missing = ids.find((id) => !all.some((t) => t.launchTemplateId === id))
  if (missing)
    throw new AwsFault(
      'InvalidLaunchTemplateId.NotFound',
      `The specified launch template, with template ID ${missing}, does not exist.`
    )
  const filter = compileFilters<SandboxLaunchTemplate>(filtersParam(ctx.params), {
    'launch-template-name': (t) => [t.launchTemplateName],
    'create-time': (t) => [t.createTime?.toISOString()]
  })
  const keep = (t: SandboxLaunchTemplate) =>
    (ids.length === 0 || ids.includes(t.launchTemplateId)) &&
    (names.length === 0 || names.includes(t.launchTemplateName)) &&
    filter(t)
  const page = paginate(all, keep, ctx.params, {
    min: 1,
    max: 200,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  return (
    items(
      'launchTemplates',
      page.items,
      (t) =>
        el('launchTemplateId', t.launchTemplateId) +
        el('launchTemplateName', t.launchTemplateName) +
        el('createTime', t.createTime?.toISOString()) +
        el('createdBy', `arn:aws:iam::${ACCOUNT_ID}:user/packer`) +
        el('defaultVersionNumber', 1) +
        el('latestVersionNumber', 1) +
        tagSet(t.tags)
    ) + el('nextToken', page.nextToken)
  )
}

const deleteLaunchTemplate: Ec2Handler = (ctx) => {
  const list = ctx.fleet.launchTemplates(ctx.region)
  const { LaunchTemplateId: id, LaunchTemplateName: name } = ctx.params
  if (!id && !name)
    throw new AwsFault(
      'MissingParameter',
      'The request must contain the parameter LaunchTemplateId or LaunchTemplateName'
    )
  const index = list.findIndex((t) => (id ? t.launchTemplateId === id : t.launchTemplateName === name))
  const template = list[index]
  if (!template) {
    if (id)
      throw new AwsFault(
        'InvalidLaunchTemplateId.NotFound',
        `The specified launch template, with template ID ${id}, does not exist.`
      )
    throw new AwsFault(
      'InvalidLaunchTemplateName.NotFoundException',
      `The specified launch template, with template name ${name}, does not exist.`
    )
  }
  dryRun(ctx.params)
  // EC2 deletes a template even while instances launched from it run; they keep the tag.
  list.splice(index, 1)
  return `<launchTemplate>${el('launchTemplateId', template.launchTemplateId)}${el('launchTemplateName', template.launchTemplateName)}${el('createTime', template.createTime?.toISOString())}</launchTemplate>`
}

/**
 * DescribeIamInstanceProfileAssociations: one `associated` association per instance that runs with
 * an instance profile and is not terminated (EC2 disassociates at termination).
 */
const describeIamInstanceProfileAssociations: Ec2Handler = (ctx) => {
  const ids = listParam(ctx.params, 'AssociationId')
  if (ids.length > 0 && ctx.params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter AssociationIds cannot be used with the parameter maxResults'
    )
  }
  const associationId = (i: SandboxInstance) => `iip-assoc-${i.id.slice(2).padStart(17, '0')}`
  const filters = filtersParam(ctx.params)
  // compileFilters would read tag filters from the instance's tags: associations have none.
  const tagFilter = filters.find((f) => f.name.startsWith('tag'))
  if (tagFilter) throw new AwsFault('InvalidParameterValue', `The filter '${tagFilter.name}' is invalid`)
  const filter = compileFilters<SandboxInstance>(filters, { 'instance-id': (i) => [i.id], state: () => ['associated'] })
  const keep = (i: SandboxInstance) =>
    i.iamInstanceProfile !== undefined &&
    i.state !== 'terminated' &&
    (ids.length === 0 || ids.includes(associationId(i))) &&
    filter(i)
  const page = paginate(ctx.fleet.instances(ctx.region), keep, ctx.params, {
    min: 5,
    max: 1000,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  return (
    items(
      'iamInstanceProfileAssociationSet',
      page.items,
      (i) =>
        el('associationId', associationId(i)) +
        el('instanceId', i.id) +
        iamInstanceProfile(i) +
        el('state', 'associated') +
        el('timestamp', i.launchTime.toISOString())
    ) + el('nextToken', page.nextToken)
  )
}

export const EC2_HANDLERS: Record<string, Ec2Handler> = {
  DescribeInstances: describeInstances,
  StopInstances: stopInstances,
  TerminateInstances: terminateInstances,
  DescribeRegions: describeRegions,
  DescribeKeyPairs: describeKeyPairs,
  DeleteKeyPair: deleteKeyPair,
  DescribeSecurityGroups: describeSecurityGroups,
  DeleteSecurityGroup: deleteSecurityGroup,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  DescribeLaunchTemplates: describeLaunchTemplates,
  DeleteLaunchTemplate: deleteLaunchTemplate,
  DescribeSpotPriceHistory: describeSpotPriceHistory,
  DescribeIamInstanceProfileAssociations: describeIamInstanceProfileAssociations,
  DescribeAddresses: describeAddresses,
  ...EBS_HANDLERS
}

export { LAUNCH_TEMPLATE_TAG }
