import type { EC2Client, Filter } from '@aws-sdk/client-ec2'
import type { Permission } from '../permissions.js'
import type { Inputs } from '../types.js'
import type { InstanceUseQuery } from './instance-usage.js'
import type { Candidate, Usage } from './model.js'

/**
 * What uses a kind's resources. Only instances: read from the region's one listing of live
 * instances, and read again right before deleting, since DeleteKeyPair and DeleteLaunchTemplate
 * succeed while an instance still uses the resource. Anything else: the kind looks it up itself,
 * and its delete call must refuse what is still in use (DeleteSecurityGroup's DependencyViolation,
 * the check that cannot race).
 */
export type KindUsage =
  { instanceUse: InstanceUseQuery } | { find(client: EC2Client, candidates: readonly Candidate[], abortSignal?: AbortSignal): Promise<Map<string, Usage>> }

/** The EC2 edges of one regional kind of leftover; the decisions about it live in rules.ts. */
export interface OrphanKindSweeper {
  /** Resources matching the kind's name, description and `tags` filters (server-side, then re-checked). */
  discover(client: EC2Client, inputs: Inputs, abortSignal?: AbortSignal): Promise<Candidate[]>
  usage: KindUsage
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
