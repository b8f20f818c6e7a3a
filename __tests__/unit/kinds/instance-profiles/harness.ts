/** The kind's reads and judgement in one call, as its survey makes them, for tests of the plan. */
import {
  checkInstanceProfileUsers,
  discoverInstanceProfiles,
  judgeInstanceProfiles,
  type InstanceProfileContext,
  type InstanceProfilePlan
} from '../../../../src/kinds/instance-profiles/sweep.js'

/** Discovery, the rules and the usage check; no change is made. A read that fails leaves nothing to act on. */
export async function planInstanceProfiles(
  ctx: InstanceProfileContext,
  terminating: ReadonlySet<string>
): Promise<InstanceProfilePlan> {
  return judgeInstanceProfiles(
    await checkInstanceProfileUsers(ctx, await discoverInstanceProfiles(ctx)),
    terminating,
    ctx.inputs
  )
}
