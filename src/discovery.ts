import { paginateDescribeInstances, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2'
import { ageSeconds, tagMap } from './aws-data.js'
import { isStale } from './plan.js'
import type { InstanceRecord, Inputs } from './types.js'
import { tagMatcher, wildcardMatcher } from './wildcard.js'

/** DescribeInstances' largest page: one call per 1,000 matching instances. */
export const DESCRIBE_PAGE_SIZE = 1000

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
export function instanceMatcher(inputs: FilterInputs): (instance: Instance, tags: ReadonlyMap<string, string>) => boolean {
  const keyNameMatches = inputs['key-name'].length > 0 ? wildcardMatcher(inputs['key-name']) : () => true
  const states = new Set<string>(inputs['instance-states'])
  const tagsMatch = tagMatcher(inputs.tags)
  return (instance, tags) => keyNameMatches(instance.KeyName) && states.has(instance.State?.Name ?? '') && tagsMatch(tags)
}

export function toRecord(instance: Instance, region: string, tags: ReadonlyMap<string, string>, excludeTag: string): InstanceRecord | undefined {
  if (!instance.InstanceId || !instance.LaunchTime) return undefined
  const record: InstanceRecord = {
    id: instance.InstanceId,
    region,
    launchTime: instance.LaunchTime.toISOString(),
    state: instance.State?.Name ?? 'unknown',
    excluded: tags.has(excludeTag),
    instanceType: instance.InstanceType ?? 'unknown'
  }
  if (instance.KeyName) record.keyName = instance.KeyName
  if (instance.InstanceLifecycle) record.lifecycle = instance.InstanceLifecycle
  if (instance.Placement?.AvailabilityZone) record.availabilityZone = instance.Placement.AvailabilityZone
  const name = tags.get('Name')
  if (name) record.name = name
  return record
}

export interface RegionDiscovery {
  /** Stale instances, excluded ones included (they are reported as skipped). */
  stale: InstanceRecord[]
  matched: number
  fresh: number
  /** Returned by the endpoint but not matching the filters on a second look; ignored. */
  ignored: number
}

/**
 * Every instance of one region that matches the filters, one page of up to 1,000 at a time.
 * Only stale ones are kept, as small records, so memory follows what is reported rather than
 * the size of the fleet.
 */
export async function discoverInstances(client: EC2Client, region: string, inputs: Inputs, now: Date, abortSignal?: AbortSignal): Promise<RegionDiscovery> {
  const matches = instanceMatcher(inputs)
  const result: RegionDiscovery = { stale: [], matched: 0, fresh: 0, ignored: 0 }
  const pages = paginateDescribeInstances({ client, pageSize: DESCRIBE_PAGE_SIZE }, { Filters: instanceFilters(inputs) }, { abortSignal })
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        const tags = tagMap(instance.Tags)
        const record = matches(instance, tags) ? toRecord(instance, region, tags, inputs['exclude-tag']) : undefined
        if (!record) {
          result.ignored++
          continue
        }
        result.matched++
        if (isStale(ageSeconds(record.launchTime, now), inputs['max-age'])) result.stale.push(record)
        else result.fresh++
      }
    }
  }
  return result
}
