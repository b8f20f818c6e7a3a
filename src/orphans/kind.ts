import type { EC2Client, Filter } from '@aws-sdk/client-ec2'
import type { Permission } from '../permissions.js'
import type { Inputs } from '../types.js'
import type { Candidate, Usage } from './model.js'

/** The EC2 edges of one regional kind of leftover; the decisions about it live in rules.ts. */
export interface OrphanKindSweeper {
  /** Resources matching the kind's name, description and `tags` filters (server-side, then re-checked). */
  discover(client: EC2Client, inputs: Inputs, abortSignal?: AbortSignal): Promise<Candidate[]>
  /** What uses each candidate, keyed by candidate ID; a candidate nothing uses has no entry. */
  findUsage(client: EC2Client, candidates: readonly Candidate[], abortSignal?: AbortSignal): Promise<Map<string, Usage>>
  /**
   * DeleteKeyPair and DeleteLaunchTemplate succeed while an instance still uses the resource, so
   * their use is looked up again right before deleting. DeleteSecurityGroup refuses by itself
   * (DependencyViolation), which is the check that cannot race.
   */
  recheckBeforeDelete: boolean
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
