import { paginateDescribeInstances, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2'
import { ageSeconds, tagMap } from '../model/aws-data.js'
import { DESCRIBE_PAGE_SIZE } from '../aws/batches.js'
import { listLiveInstances, type InstanceLink, type LiveInstances } from './instance-usage.js'
import { excludedBy } from './rules.js'
import { isStale } from './plan.js'
import { INSTANCE_STATES, type InstanceDevice, type InstanceRecord, type Inputs } from '../model/types.js'
import { tagMatcher, wildcardMatcher } from '../model/wildcard.js'

type FilterInputs = Pick<Inputs, 'key-name' | 'tags' | 'instance-states'>

/** The server-side filters: key-name patterns OR'd, states OR'd, each tag AND'd. */
export function instanceFilters(inputs: FilterInputs): Filter[] {
  const filters: Filter[] = []
  if (inputs['key-name'].length > 0) filters.push({ Name: 'key-name', Values: [...inputs['key-name']] })
  filters.push({ Name: 'instance-state-name', Values: [...inputs['instance-states']] })
  for (const tag of inputs.tags) filters.push({ Name: `tag:${tag.key}`, Values: [tag.value] })
  return filters
}

/**
 * The same filters, checked again on what came back, so that an endpoint which ignores a filter
 * can never widen the sweep.
 */
export function instanceMatcher(
  inputs: FilterInputs
): (instance: Instance, tags: ReadonlyMap<string, string>) => boolean {
  const keyNameMatches = inputs['key-name'].length > 0 ? wildcardMatcher(inputs['key-name']) : () => true
  const states = new Set<string>(inputs['instance-states'])
  const tagsMatch = tagMatcher(inputs.tags)
  return (instance, tags) =>
    keyNameMatches(instance.KeyName) && states.has(instance.State?.Name ?? '') && tagsMatch(tags)
}

export function toRecord(
  instance: Instance,
  region: string,
  tags: ReadonlyMap<string, string>,
  excludeTag: readonly string[]
): InstanceRecord | undefined {
  if (!instance.InstanceId || !instance.LaunchTime) return undefined
  const record: InstanceRecord = {
    id: instance.InstanceId,
    region,
    launchTime: instance.LaunchTime.toISOString(),
    state: instance.State?.Name ?? 'unknown',
    instanceType: instance.InstanceType ?? 'unknown'
  }
  const excludingKey = excludedBy(tags, excludeTag, 'case-sensitive')
  if (excludingKey !== undefined) record.excludedBy = excludingKey
  if (instance.KeyName) record.keyName = instance.KeyName
  if (instance.InstanceLifecycle) record.lifecycle = instance.InstanceLifecycle
  if (instance.Placement?.AvailabilityZone) record.availabilityZone = instance.Placement.AvailabilityZone
  const name = tags.get('Name')
  if (name) record.name = name
  if (instance.ImageId) record.imageId = instance.ImageId
  const devices = devicesOf(instance)
  if (devices.length > 0) record.devices = devices
  return record
}

/** An instance's EBS devices; one whose DeleteOnTermination is not said counts as kept (it outlives the instance). */
export function devicesOf(instance: Pick<Instance, 'BlockDeviceMappings'>): InstanceDevice[] {
  return (instance.BlockDeviceMappings ?? []).flatMap(({ DeviceName, Ebs }) =>
    DeviceName && Ebs?.VolumeId
      ? [{ deviceName: DeviceName, volumeId: Ebs.VolumeId, deleteOnTermination: Ebs.DeleteOnTermination === true }]
      : []
  )
}

export interface RegionDiscovery {
  /** Stale instances, excluded ones included (they are reported as skipped). */
  stale: InstanceRecord[]
  matched: number
  fresh: number
  /** Returned by the endpoint but not matching the filters on a second look; ignored. */
  ignored: number
}

/** Sorts the instances of one region as they are read: only stale builders are kept, as small records. */
function builderCollector(
  region: string,
  inputs: Inputs,
  now: Date
): { visit: (instance: Instance) => void; result: RegionDiscovery } {
  const matches = instanceMatcher(inputs)
  const result: RegionDiscovery = { stale: [], matched: 0, fresh: 0, ignored: 0 }
  const visit = (instance: Instance) => {
    const tags = tagMap(instance.Tags)
    const record = matches(instance, tags) ? toRecord(instance, region, tags, inputs['exclude-tag']) : undefined
    if (!record) {
      result.ignored++
      return
    }
    result.matched++
    if (isStale(ageSeconds(record.launchTime, now), inputs['max-age'])) result.stale.push(record)
    else result.fresh++
  }
  return { visit, result }
}

/**
 * Every instance of one region that matches the filters, one page of up to 1,000 at a time.
 * Only stale ones are kept, as small records, so memory follows what is reported rather than
 * the size of the fleet.
 */
export async function discoverInstances(
  client: EC2Client,
  region: string,
  inputs: Inputs,
  now: Date,
  abortSignal?: AbortSignal
): Promise<RegionDiscovery> {
  const { visit, result } = builderCollector(region, inputs, now)
  const pages = paginateDescribeInstances(
    { client, pageSize: DESCRIBE_PAGE_SIZE },
    { Filters: instanceFilters(inputs) },
    { abortSignal }
  )
  for await (const page of pages)
    for (const reservation of page.Reservations ?? [])
      for (const instance of reservation.Instances ?? []) visit(instance)
  return result
}

/** One pass over a region's live instances: the builders, and who uses what the leftover kinds ask about. */
export interface RegionPass {
  builders: RegionDiscovery
  live: LiveInstances
  /** When a kind asked for them: the builders in every state, terminated included. */
  everyState?: BuildersInEveryState
}

/** A region's builders in every state (shutting-down and terminated included), and every instance listed. */
export interface BuildersInEveryState {
  /** Instances matching the builder filters (key-name, tags) in any state. */
  matched: ReadonlySet<string>
  /** Every instance the listing returned, in any state. */
  listed: ReadonlySet<string>
}

/** Picks the builders in every state out of a listing of every instance. */
function everyStateCollector(inputs: Inputs): {
  visit: (instance: Instance) => void
  result: { matched: Set<string>; listed: Set<string> }
} {
  const matches = instanceMatcher({ ...inputs, 'instance-states': [...INSTANCE_STATES] })
  const result = { matched: new Set<string>(), listed: new Set<string>() }
  const visit = (instance: Instance) => {
    if (!instance.InstanceId) return
    result.listed.add(instance.InstanceId)
    if (matches(instance, tagMap(instance.Tags))) result.matched.add(instance.InstanceId)
  }
  return { visit, result }
}

/** The builders in every state, in a listing of their own: for a scope the run made no pass for. */
export async function listBuildersInEveryState(
  client: EC2Client,
  inputs: Inputs,
  abortSignal?: AbortSignal
): Promise<BuildersInEveryState> {
  const { visit, result } = everyStateCollector(inputs)
  await listLiveInstances(client, { queries: [], everyState: visit, ...(abortSignal ? { abortSignal } : {}) })
  return result
}

/**
 * The builders and the users of every leftover in one DescribeInstances pass, for a sweep of
 * leftovers that instances use: the pass lists every live instance of the region (one page per
 * 1,000) and picks the builders out of it with the same filters, checked on each instance.
 */
export async function surveyLiveInstances(
  client: EC2Client,
  region: string,
  inputs: Inputs,
  now: Date,
  queries: readonly InstanceLink[],
  abortSignal?: AbortSignal,
  everyState = false
): Promise<RegionPass> {
  const { visit, result } = builderCollector(region, inputs, now)
  if (!everyState) return { builders: result, live: await listLiveInstances(client, { queries, visit, abortSignal }) }
  const ended = everyStateCollector(inputs)
  const live = await listLiveInstances(client, { queries, visit, everyState: ended.visit, abortSignal })
  return { builders: result, live, everyState: ended.result }
}
