/**
 * The regional leftovers take as few sequential round trips as the work allows: one listing of
 * the live instances serves every kind instances use, reads do not wait for the builders, the
 * wait's last poll is the recheck, and a group's usage lookups run side by side.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { EC2Client } from '@aws-sdk/client-ec2'
import { clientConfig } from '../../../src/aws/clients.js'
import { startSandbox, type Sandbox, type SandboxOptions } from '../../../sandbox/index.js'
import { defaultInputs, NOW, packerName } from '../../../__fixtures__/support.js'
import {
  inputsOf,
  orphanContext,
  REGION,
  regionalKindsFor,
  useSandbox,
  planLeftovers,
  actOn,
  heldBack,
  testScope
} from './harness.js'

const { sandbox, seed } = useSandbox()
const BUILDER = 'i-0b111de0'
const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3600 * 1000).toISOString()

describe('one listing of the live instances', () => {
  it('serves the plan of key pairs and launch templates together', async () => {
    seed({
      keyPairs: [{ keyName: packerName(3 * 3600, NOW), createTime: at(3) }],
      launchTemplates: [
        { launchTemplateId: 'lt-1', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime: at(3) }
      ]
    })
    await planLeftovers(orphanContext({ resources: ['key-pairs', 'launch-templates'] }))
    expect(inputsOf(sandbox(), 'DescribeInstances')).toHaveLength(1)
  })

  it('is not made when no selected kind is used by instances', async () => {
    seed({ securityGroups: [] })
    await planLeftovers(orphanContext({ resources: ['security-groups'] }))
    expect(inputsOf(sandbox(), 'DescribeInstances')).toEqual([])
  })

  it('is read before the builders to terminate are known; only the judgement waits for them', async () => {
    const name = packerName(3 * 3600, NOW)
    seed({
      keyPairs: [{ keyName: name, createTime: at(3) }],
      instances: [{ id: BUILDER, state: 'running', keyName: name }]
    })
    let release: (ids: ReadonlySet<string>) => void = () => undefined
    const terminating = new Promise<ReadonlySet<string>>((resolve) => (release = resolve))
    const planning = planLeftovers(orphanContext({ resources: ['key-pairs'] }), terminating)
    await until(() =>
      ['DescribeKeyPairs', 'DescribeInstances'].every((action) =>
        sandbox()
          .callsOf(action)
          .some((c) => c.outcome === 'answered')
      )
    )
    release(new Set([BUILDER]))
    const plan = await planning
    expect(plan.changes).toBe(1)
    expect(heldBack(plan).map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['notified', `not deleted: this run made no changes (used by ${BUILDER})`]
    ])
  })

  it("the wait's last poll is the recheck before deleting: no listing after it", async () => {
    const name = packerName(3 * 3600, NOW)
    seed({
      keyPairs: [{ keyName: name, createTime: at(3) }],
      instances: [{ id: BUILDER, state: 'running', keyName: name }]
    })
    const ctx = orphanContext({ resources: ['key-pairs'] })
    const plan = await planLeftovers(ctx, new Set([BUILDER]))
    sandbox().fleet.update(BUILDER, { state: 'terminated' })
    const before = sandbox().callsOf('DescribeInstances').length
    const findings = await actOn(ctx, plan, [BUILDER])
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted'])
    expect(sandbox().callsOf('DescribeInstances').length - before).toBe(1)
  })
})

/**
 * A sandbox that answers the calls `matches` selects only once `count` of them are in flight
 * together (or after 10 s, when the client never sends that many at once): a call received after
 * the first answer proves it was not in flight beside the others, however busy the machine is.
 * Closed after each test.
 */
let delayed: Sandbox | undefined
afterEach(async () => {
  await delayed?.close()
  delayed = undefined
})
async function delayedSandbox(holdUntilInFlight: SandboxOptions['holdUntilInFlight']): Promise<Sandbox> {
  delayed = await startSandbox({ regions: [REGION], holdUntilInFlight })
  return delayed
}
const isUsageLookup = (c: { seq: number; action: string }) =>
  c.action === 'DescribeNetworkInterfaces' || (c.action === 'DescribeSecurityGroups' && c.seq > 1)

describe("a security group's usage", () => {
  it('is looked up with its three calls side by side', async () => {
    const delayed = await delayedSandbox({ matches: isUsageLookup, count: 3, maxHoldMs: 10_000 })
    delayed.fleet.seed(
      {
        [REGION]: {
          securityGroups: [
            { groupId: 'sg-1', groupName: packerName(3 * 3600, NOW), description: 'Temporary group for Packer' }
          ]
        }
      },
      NOW.getTime()
    )
    const client = new EC2Client({
      region: REGION,
      endpoint: delayed.url,
      credentials: { accessKeyId: 'AKIASANDBOXUNIT00001', secretAccessKey: 'x' },
      maxAttempts: 1
    })
    try {
      const inputs = defaultInputs({ resources: ['security-groups'], action: 'terminate' })
      const kinds = regionalKindsFor(inputs)
      await planLeftovers({
        kinds,
        scope: testScope({ region: REGION, inputs, now: NOW, ec2For: () => client }, kinds)
      })
    } finally {
      client.destroy()
    }
    const lookups = delayed.calls.filter(isUsageLookup)
    expect(lookups).toHaveLength(3)
    const firstAnswer = Math.min(...lookups.map((c) => c.answeredAt ?? Infinity))
    for (const call of lookups) expect(call.receivedAt).toBeLessThan(firstAnswer)
  })
})

describe("a region's deletes", () => {
  it('of three kinds, 25 each, are all in flight at once with the clients the run makes', async () => {
    const delayed = await delayedSandbox({
      matches: (c) => c.action.startsWith('Delete'),
      count: 75,
      maxHoldMs: 10_000
    })
    const name = (n: number) => packerName(3 * 3600 + n * 60, NOW)
    delayed.fleet.seed(
      {
        [REGION]: {
          keyPairs: Array.from({ length: 25 }, (_, n) => ({ keyName: name(n), createTime: at(3) })),
          securityGroups: Array.from({ length: 25 }, (_, n) => ({
            groupId: `sg-${n}`,
            groupName: name(n),
            description: 'Temporary group for Packer'
          })),
          launchTemplates: Array.from({ length: 25 }, (_, n) => ({
            launchTemplateId: `lt-${n}`,
            launchTemplateName: `packer-fleet-launch-template-${n}`,
            createTime: at(3)
          }))
        }
      },
      NOW.getTime()
    )
    const client = new EC2Client({
      ...clientConfig({ region: REGION, credentials: { accessKeyId: 'AKIASANDBOXUNIT00001', secretAccessKey: 'x' } }),
      endpoint: delayed.url,
      maxAttempts: 1
    })
    try {
      const inputs = defaultInputs({
        resources: ['key-pairs', 'security-groups', 'launch-templates'],
        action: 'terminate'
      })
      const kinds = regionalKindsFor(inputs)
      const ctx = { kinds, scope: testScope({ region: REGION, inputs, now: NOW, ec2For: () => client }, kinds) }
      await actOn(ctx, await planLeftovers(ctx))
    } finally {
      client.destroy()
    }
    const deletes = delayed.calls.filter((c) => c.action.startsWith('Delete'))
    expect(deletes).toHaveLength(75)
    const firstAnswer = Math.min(...deletes.map((c) => c.answeredAt ?? Infinity))
    for (const call of deletes) expect(call.receivedAt).toBeLessThan(firstAnswer)
  })
})

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 5))
}
