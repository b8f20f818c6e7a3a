import type { EC2Client, Filter, Tag } from '@aws-sdk/client-ec2'
import { tagMap } from '../model/aws-data.js'
import type { Kind } from '../kinds/names.js'
import type { Permission } from '../model/permissions.js'
import type { Inputs } from '../model/types.js'
import type { InstanceUseQuery } from './instance-usage.js'
import type { Candidate, Usage } from './leftover-model.js'
import { matchesTags } from './rules.js'

/**
 * What uses a kind's resources. Only instances: read from the region's one listing of live
 * instances, and read again right before deleting, since DeleteKeyPair and DeleteLaunchTemplate
 * succeed while an instance still uses the resource. Anything else: the kind looks it up itself,
 * and its delete call must refuse what is still in use (DeleteSecurityGroup's DependencyViolation,
 * the check that cannot race).
 */
export type KindUsage =
  | { instanceUse: InstanceUseQuery }
  | {
      find(client: EC2Client, candidates: readonly Candidate[], abortSignal?: AbortSignal): Promise<Map<string, Usage>>
    }

/** The EC2 edges of one regional kind of leftover; the decisions about it live in rules.ts. */
export interface OrphanKindSweeper {
  /** Resources matching the kind's name, description and `tags` filters (server-side, then re-checked). */
  discover(client: EC2Client, inputs: Inputs, abortSignal?: AbortSignal): Promise<Candidate[]>
  usage: KindUsage
  /** Why a stale match of this kind is only reported, never deleted (undefined: it may be); judged before its usage. */
  onlyReported?(candidate: Candidate, inputs: Inputs): string | undefined
  /** Throws what EC2 threw; DryRunOperation when `dryRun` and the call would have been allowed. */
  remove(client: EC2Client, candidate: Candidate, dryRun: boolean, abortSignal?: AbortSignal): Promise<void>
  removePermission: Permission
  /** Error codes meaning the resource is already gone: the goal is reached. */
  alreadyGoneCodes: readonly string[]
}

/** The `tags` input as server-side filters; values keep their wildcards. */
export function tagFilters(inputs: Inputs): Filter[] {
  return inputs.tags.map(({ key, value }) => ({ Name: `tag:${key}`, Values: [value] }))
}

/** A resource as its kind's listing gives it, before it is judged. */
export interface Listed {
  id?: string | undefined
  name?: string | undefined
  tags?: Tag[] | undefined
  createTime?: Date | undefined
  deleteId?: string | undefined
}

/**
 * The candidates among what a kind listed: each with an ID and a name, passing the kind's own
 * test of its name and every `tags` line. Both are checked here again, so an endpoint that ignores
 * a filter never widens the sweep; what two listings both gave counts once.
 */
export function candidatesOf(
  kind: Kind,
  listed: Iterable<Listed>,
  inputs: Pick<Inputs, 'tags'>,
  nameMatches: (name: string) => boolean
): Candidate[] {
  const found = new Map<string, Candidate>()
  for (const { id, name, tags, createTime, deleteId } of listed) {
    if (!id || !name || !nameMatches(name)) continue
    const candidate: Candidate = { kind, id, name, tags: tagMap(tags) }
    if (createTime) candidate.createTime = createTime
    if (deleteId) candidate.deleteId = deleteId
    if (matchesTags(candidate.tags, inputs.tags, 'case-sensitive')) found.set(id, candidate)
  }
  return [...found.values()]
}
