import { type EC2Client, type Filter, type Instance, paginateDescribeInstances } from '@aws-sdk/client-ec2'
import { PERMISSION } from '../permissions.js'
import { chunk, MAX_FILTER_VALUES } from '../batches.js'
import { describing } from './describe-error.js'
import type { OrphanKindSweeper } from './kind.js'
import type { Candidate, Usage } from './model.js'

/** Every state but `terminated`: a stopped builder still holds its key pair. */
export const LIVE_INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped']

/** The tag EC2 puts on every instance launched from a launch template (CreateFleet included). */
export const LAUNCH_TEMPLATE_ID_TAG = 'aws:ec2launchtemplate:id'

export interface InstanceUseQuery {
  /** The DescribeInstances filter naming the used resource, e.g. `key-name`. */
  filterName: string
  /** What instances know the candidate by: the key's name, the template's ID. */
  candidateValue: (candidate: Candidate) => string
  /** What the instance uses, read from the instance, matched against the candidates' values. */
  usedValue: (instance: Instance) => string | undefined
}

export const BY_KEY_NAME: InstanceUseQuery = {
  filterName: 'key-name',
  candidateValue: (candidate) => candidate.name,
  usedValue: (instance) => instance.KeyName
}

export const BY_LAUNCH_TEMPLATE: InstanceUseQuery = {
  filterName: `tag:${LAUNCH_TEMPLATE_ID_TAG}`,
  candidateValue: (candidate) => candidate.id,
  usedValue: (instance) => instance.Tags?.find((tag) => tag.Key === LAUNCH_TEMPLATE_ID_TAG)?.Value
}

/** A kind's `findUsage` for resources whose only users are instances. */
export function instanceUsageOf(query: InstanceUseQuery): OrphanKindSweeper['findUsage'] {
  return async (client, candidates, abortSignal) => {
    const byValue = await instanceUsage(client, query, candidates.map(query.candidateValue), abortSignal)
    const usage = new Map<string, Usage>()
    for (const candidate of candidates) {
      const found = byValue.get(query.candidateValue(candidate))
      if (found) usage.set(candidate.id, found)
    }
    return usage
  }
}

/**
 * A literal value as an EC2 filter value: key names may contain `*`, `?` or `\`, which the filter
 * would otherwise read as wildcards and match other keys with.
 */
export function literalFilterValue(value: string): string {
  return value.replace(/[*?\\]/g, '\\$&')
}

/**
 * The non-terminated instances that use each of `values` (key names or template IDs), in
 * batches of 200 filter values. Values are sent as literals: a key name may contain `*`.
 */
async function instanceUsage(
  client: EC2Client,
  query: InstanceUseQuery,
  values: readonly string[],
  abortSignal: AbortSignal | undefined
): Promise<Map<string, Usage>> {
  const wanted = new Set(values)
  const usage = new Map<string, Usage>()
  for (const batch of chunk([...wanted], MAX_FILTER_VALUES)) {
    const filters: Filter[] = [
      { Name: query.filterName, Values: batch.map(literalFilterValue) },
      { Name: 'instance-state-name', Values: LIVE_INSTANCE_STATES }
    ]
    await describing(PERMISSION.describeInstances, async () => {
      for await (const page of paginateDescribeInstances({ client }, { Filters: filters, MaxResults: 1000 }, { abortSignal })) {
        for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
          // A terminated instance holds nothing, whatever an endpoint's filtering let through.
          if (instance.State?.Name === 'terminated') continue
          const used = query.usedValue(instance)
          if (!used || !wanted.has(used) || !instance.InstanceId) continue
          const entry = usage.get(used) ?? { instanceIds: [], others: [] }
          entry.instanceIds.push(instance.InstanceId)
          usage.set(used, entry)
        }
      }
    })
  }
  return usage
}
