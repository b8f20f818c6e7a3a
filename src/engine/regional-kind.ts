/**
 * The regional EC2 leftover kinds (key pairs, security groups, launch templates) alike: each
 * brings its EC2 edges (discovery, what uses it, one delete call); this gives the one leftover
 * engine their shared rules (engine/rules.ts), error codes and words.
 */
import type { EC2Client, Filter, Tag } from '@aws-sdk/client-ec2'
import { describeAwsError, errorCode, gotNoAnswer } from '../aws/errors.js'
import { tagMap } from '../model/aws-data.js'
import { formatAwsError } from '../model/format.js'
import type { Kind } from '../kinds/names.js'
import type { Permission } from '../model/permissions.js'
import type { Inputs } from '../model/types.js'
import type { InstanceUseQuery } from './instance-usage.js'
import type { Declaration, LeftoverKindModule } from './kind.js'
import { leftoverPart, type Planned, type Settlement, type UsersRead } from './leftover-kind.js'
import type { Candidate, Usage } from './leftover-model.js'
import { deriveAge, judgeCandidate, leftoverFinding, matchesTags } from './rules.js'

/**
 * What uses a kind's resources. Only instances: read from the region's one listing of live
 * instances, and read again right before deleting, since DeleteKeyPair and DeleteLaunchTemplate
 * succeed while an instance still uses the resource. Anything else: the kind looks it up itself,
 * and its delete call must refuse what is still in use (DeleteSecurityGroup's DependencyViolation,
 * the check that cannot race).
 */
export type KindUsage =
  | { instanceUse: InstanceUseQuery<Candidate> }
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

/** The reason on leftovers whose delete was never started because the job was cancelled. */
export const NOT_DELETED_CANCELLED = 'not deleted: the job was cancelled first'

/**
 * Deletes in flight at once, per kind and region. EC2 throttles each API per account and region
 * with a bucket of tokens (50 for most mutating calls, refilled at 5 a second): half of it lets a
 * region's leftovers of a kind go in one wave without starving other clients of the account.
 */
const DELETE_CONCURRENCY = 25

/** A regional EC2 leftover kind: its declaration and its EC2 edges, as the registry holds it. */
export function regionalLeftover<const D extends Declaration>({
  sweeper,
  ...declaration
}: D & { sweeper: OrphanKindSweeper }): Omit<D, 'sweeper'> & LeftoverKindModule {
  const { usage } = sweeper
  const instanceUse = 'instanceUse' in usage ? usage.instanceUse : undefined
  const after = (planned: Planned<Candidate>) =>
    planned.dependsOn.length > 0 ? planned.dependsOn.map((user) => user.instanceId).join(', ') : undefined
  const leftovers = leftoverPart<Candidate>({
    scope: 'region',
    discover: (scope) => sweeper.discover(scope.ec2For(scope.region), scope.inputs, scope.abortSignal),
    judge(candidate, inputs, now) {
      const age = deriveAge(candidate, now)
      const rules = {
        maxAgeSeconds: inputs['max-age'],
        excludeTag: inputs['exclude-tag'],
        onlyReported: (item: Candidate) => sweeper.onlyReported?.(item, inputs)
      }
      return { age, ...judgeCandidate(candidate, age, rules) }
    },
    sortKey: (candidate) => [candidate.name, candidate.id],
    ...(instanceUse
      ? { usedBy: instanceUse }
      : {
          async users(scope, stale): Promise<UsersRead<Candidate>> {
            if (!('find' in usage) || stale.length === 0) return { of: () => undefined }
            const found = await usage.find(scope.ec2For(scope.region), stale, scope.abortSignal)
            return {
              of(candidate) {
                const used = found.get(candidate.id)
                if (!used) return undefined
                const instances = used.instanceIds.map((instanceId) => ({ instanceId, region: scope.region }))
                return { instances, others: used.others }
              }
            }
          }
        }),
    userWords: (user) => `instance ${user.instanceId}`,
    async remove(scope, planned): Promise<Settlement> {
      const client = scope.ec2For(scope.region)
      return settleDelete(() => sweeper.remove(client, planned.candidate, scope.inputs['dry-run'], scope.abortSignal), {
        permission: sweeper.removePermission,
        alreadyGoneCodes: sweeper.alreadyGoneCodes,
        inUseCodes: declaration.inUseCodes,
        waited: after(planned)
      })
    },
    concurrency: DELETE_CONCURRENCY,
    finding: ({ candidate, age }, region, { outcome, reason, error }) =>
      leftoverFinding(
        { kind: candidate.kind, id: candidate.id, name: candidate.name, region },
        age,
        outcome,
        reason,
        error
      ),
    words: {
      cancelled: NOT_DELETED_CANCELLED,
      notActed(planned, action) {
        if (action === 'stop') return `stop leaves ${declaration.nouns.plural} alone: there is nothing to stop`
        if (action !== 'terminate') return undefined
        const waitingFor = planned.dependsOn.length > 0 ? ` (used by ${after(planned)})` : ''
        return `not deleted: this run made no changes${waitingFor}`
      },
      holding: (holding, why) => `still used by ${holding.map((user) => user.instanceId).join(', ')}: ${why.join('; ')}`
    }
  })
  return { ...declaration, engine: 'leftovers', leftovers }
}

/** What a delete call's errors mean, for settleDelete. */
export interface DeleteCodes {
  /** The permission the call needs, named when it is refused. */
  permission: Permission
  /** The resource is already gone: the goal is reached. */
  alreadyGoneCodes: readonly string[]
  /** Something still uses it: reported `in-use`, never forced. */
  inUseCodes: readonly string[]
  /** Something else keeps it on purpose (an image's deregistration protection): reported `skipped`. */
  keptCodes?: readonly string[]
  /** The builders it waited for, in words, when it waited. */
  waited?: string | undefined
}

/**
 * How one delete call (EC2, with DryRun under dry-run) ended, as every kind settles it: deleted,
 * proven by DryRun, already gone, in use, kept, failed, or unknown when it got no answer.
 */
export async function settleDelete(call: () => Promise<unknown>, codes: DeleteCodes): Promise<Settlement> {
  const { waited } = codes
  try {
    await call()
    return { outcome: 'deleted', ...(waited ? { reason: `after ${waited} terminated` } : {}) }
  } catch (error) {
    const code = errorCode(error)
    if (gotNoAnswer(error))
      return {
        outcome: 'unknown',
        reason: 'the delete call got no answer: it may or may not have been deleted',
        error: describeAwsError(error)
      }
    if (code === 'DryRunOperation')
      return { outcome: 'dry-run', ...(waited ? { reason: `would be deleted after ${waited} terminated` } : {}) }
    if (codes.alreadyGoneCodes.includes(code)) return { outcome: 'deleted', reason: 'already deleted' }
    if (codes.inUseCodes.includes(code)) return { outcome: 'in-use', reason: formatAwsError(describeAwsError(error)) }
    if (codes.keptCodes?.includes(code)) return { outcome: 'skipped', reason: formatAwsError(describeAwsError(error)) }
    return { outcome: 'failed', error: describeAwsError(error, codes.permission) }
  }
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
