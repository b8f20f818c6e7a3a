import { beforeEach, describe, expect, it } from '@jest/globals'
import { DeleteKeyPairCommand, DescribeInstancesCommand, DescribeKeyPairsCommand } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { type OrphanContext, planOrphans, plannedChanges, reportOnly, sweepOrphans } from '../../../src/orphans/index.js'
import type { Inputs } from '../../../src/types.js'
import { ec2 } from './fake-ec2.js'
import { orphanContext, planAndSweep as sweep, useFakeEc2 } from './harness.js'
import { hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const fake = useFakeEc2()
const context = (inputs: Partial<Inputs> = {}): OrphanContext => orphanContext({ resources: ['key-pairs'], ...inputs })

describe('key pairs', () => {
  it("deletes a killed build's stale key that nothing uses, by KeyPairId", async () => {
    const name = packerName(3 * 3600, NOW)
    fake.world().keyPairs = [{ name, id: 'key-1', createTime: hoursBefore(NOW, 3) }]
    const { plan, findings } = await sweep(context())
    expect(plannedChanges(plan)).toBe(1)
    expect(findings).toEqual([
      {
        kind: 'key-pairs',
        id: name,
        name,
        region: 'us-east-1',
        createdAt: hoursBefore(NOW, 3).toISOString(),
        ageSource: 'create-time',
        ageSeconds: 3 * 3600,
        outcome: 'deleted'
      }
    ])
    expect(ec2).toHaveReceivedCommandWith(DeleteKeyPairCommand, { KeyPairId: 'key-1', DryRun: false })
    expect(fake.world().keyPairs).toEqual([])
  })

  it('asks EC2 for the key-name patterns and tags, and for live users in batches of 200', async () => {
    fake.world().keyPairs = Array.from({ length: 250 }, (_, n) => ({ name: `packer_k${n}`, createTime: hoursBefore(NOW, 3), tags: { run: '7' } }))
    const { plan } = await sweep(context({ 'key-name': ['packer_*', 'ci-?'], tags: [{ key: 'run', value: '7' }] }))
    expect(ec2).toHaveReceivedCommandWith(DescribeKeyPairsCommand, {
      Filters: [
        { Name: 'key-name', Values: ['packer_*', 'ci-?'] },
        { Name: 'tag:run', Values: ['7'] }
      ]
    })
    const usageCalls = ec2.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input)
    const firstPages = usageCalls.filter((input) => !input.NextToken && !input.InstanceIds)
    // Twice: once for the plan, once right before deleting.
    expect(firstPages.map((input) => input.Filters?.[0]?.Values?.length)).toEqual([200, 50, 200, 50])
    expect(firstPages[0]).toMatchObject({
      MaxResults: 1000,
      Filters: [expect.anything(), { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }]
    })
    expect(plannedChanges(plan)).toBe(250)
  })

  it('leaves alone a key a stopped instance still uses, and says so', async () => {
    const name = packerName(30 * 3600, NOW)
    fake.world().keyPairs = [{ name, createTime: hoursBefore(NOW, 30) }]
    fake.world().instances = [{ id: 'i-stopped', state: 'stopped', keyName: name }]
    const { plan, findings } = await sweep(context())
    expect(plannedChanges(plan)).toBe(0)
    expect(findings).toEqual([expect.objectContaining({ id: name, outcome: 'skipped', reason: 'in use by instance i-stopped' })])
    expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
  })

  it('does not count terminated instances as users', async () => {
    const name = packerName(30 * 3600, NOW)
    fake.world().keyPairs = [{ name, createTime: hoursBefore(NOW, 30) }]
    fake.world().instances = [{ id: 'i-gone', state: 'terminated', keyName: name }]
    const { findings } = await sweep(context())
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted'])
  })

  it('leaves out a key younger than max-age', async () => {
    fake.world().keyPairs = [{ name: packerName(3600, NOW), createTime: hoursBefore(NOW, 1) }]
    const { findings } = await sweep(context())
    expect(findings).toEqual([])
    expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand)
  })

  it("ages a user's own packer_something key by its CreateTime", async () => {
    fake.world().keyPairs = [
      { name: 'packer_something', createTime: hoursBefore(NOW, 1) },
      { name: 'packer_old-laptop', createTime: hoursBefore(NOW, 500) }
    ]
    const { findings } = await sweep(context())
    expect(findings).toEqual([expect.objectContaining({ name: 'packer_old-laptop', ageSource: 'create-time', outcome: 'deleted' })])
  })

  it('ages by the younger clock when the name and CreateTime disagree, and says so', async () => {
    fake.world().keyPairs = [{ name: packerName(72 * 3600, NOW), createTime: hoursBefore(NOW, 1) }]
    expect((await sweep(context())).findings).toEqual([])
    fake.world().keyPairs = [{ name: packerName(72 * 3600, NOW), createTime: hoursBefore(NOW, 5) }]
    const { findings } = await sweep(context())
    expect(findings).toEqual([expect.objectContaining({ ageSeconds: 5 * 3600, outcome: 'deleted', reason: expect.stringMatching(/disagree/) })])
  })

  it('reports a key without any age as skipped, never deleted', async () => {
    fake.world().keyPairs = [{ name: 'packer_imported' }]
    const { findings } = await sweep(context())
    expect(findings).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'age unknown', ageSource: 'unknown' })])
    expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
  })

  it('matches client-side by EC2 wildcards, whatever the endpoint returned', async () => {
    // An endpoint that ignores filters returns every key; only the pattern's are judged.
    ec2.on(DescribeKeyPairsCommand).resolves({
      KeyPairs: [
        { KeyName: 'prod-deploy', CreateTime: hoursBefore(NOW, 900) },
        { KeyName: 'packer_abc', CreateTime: hoursBefore(NOW, 900), Tags: [{ Key: 'run', Value: '8' }] },
        { KeyName: 'packer_def', CreateTime: hoursBefore(NOW, 900), Tags: [{ Key: 'run', Value: '7' }] }
      ]
    })
    const { findings } = await sweep(context({ tags: [{ key: 'run', value: '7' }] }))
    expect(findings.map((finding) => finding.name)).toEqual(['packer_def'])
  })

  it('sends key names to the usage filter as literals', async () => {
    fake.world().keyPairs = [{ name: 'packer_*odd?', createTime: hoursBefore(NOW, 3) }]
    fake.world().instances = [{ id: 'i-other', state: 'running', keyName: 'packer_*oddX' }]
    const { findings } = await sweep(context())
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: expect.arrayContaining([{ Name: 'key-name', Values: ['packer_\\*odd\\?'] }])
    })
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted'])
  })

  describe('freed by an instance this run terminates', () => {
    const name = packerName(3 * 3600, NOW)
    beforeEach(() => {
      fake.world().keyPairs = [{ name, id: 'key-1', createTime: hoursBefore(NOW, 3) }]
      fake.world().instances = [{ id: 'i-builder', state: 'running', keyName: name }]
    })

    it('is planned before the instance is touched, then deleted after the waiter saw it terminated', async () => {
      const ctx = context()
      const plan = await planOrphans(ctx, new Set(['i-builder']))
      expect(plannedChanges(plan)).toBe(1)
      expect(plan.orphans[0]?.dependsOn).toEqual(['i-builder'])
      fake.world().instances[0] = { id: 'i-builder', state: 'terminated', keyName: name } // the core terminated it
      const findings = await sweepOrphans(ctx, plan, new Set(['i-builder']))
      expect(findings).toEqual([expect.objectContaining({ outcome: 'deleted', reason: 'deleted after i-builder terminated' })])
      const calls = ec2.calls().map((call) => call.args[0])
      const waiterPoll = calls.findIndex((command) => command instanceof DescribeInstancesCommand && command.input.InstanceIds)
      const deletion = calls.findIndex((command) => command instanceof DeleteKeyPairCommand)
      expect(waiterPoll).toBeGreaterThanOrEqual(0)
      expect(deletion).toBeGreaterThan(waiterPoll)
    })

    it('is in use when the instance did not reach terminated within the wait', async () => {
      const ctx = context()
      const plan = await planOrphans(ctx, new Set(['i-builder']))
      fake.world().instances[0] = { id: 'i-builder', state: 'shutting-down', keyName: name }
      const findings = await sweepOrphans(ctx, plan, new Set(['i-builder']))
      expect(findings).toEqual([
        expect.objectContaining({ outcome: 'in-use', reason: expect.stringMatching(/i-builder did not reach terminated.*shutting-down/) })
      ])
      expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
    })

    it('is in use when the termination failed', async () => {
      const { findings } = await sweep(context(), ['i-builder'], [])
      expect(findings).toEqual([expect.objectContaining({ outcome: 'in-use', reason: expect.stringMatching(/i-builder was not terminated by this run/) })])
      expect(ec2).not.toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: ['i-builder'] })
      expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
    })

    it('is in use when a new instance took the key meanwhile (checked again right before deleting)', async () => {
      const ctx = context()
      const plan = await planOrphans(ctx, new Set(['i-builder']))
      fake.world().instances = [
        { id: 'i-builder', state: 'terminated', keyName: name },
        { id: 'i-new', state: 'pending', keyName: name }
      ]
      const findings = await sweepOrphans(ctx, plan, new Set(['i-builder']))
      expect(findings).toEqual([expect.objectContaining({ outcome: 'in-use', reason: 'in use by instance i-new' })])
      expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
    })

    it('is skipped as in use when the run does not terminate that instance', async () => {
      const { plan, findings } = await sweep(context())
      expect(plannedChanges(plan)).toBe(0)
      expect(findings).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'in use by instance i-builder' })])
      expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
    })

    it('under dry-run: no wait, a DryRun delete, outcome dry-run', async () => {
      const { findings } = await sweep(context({ 'dry-run': true }), ['i-builder'], [])
      expect(findings).toEqual([expect.objectContaining({ outcome: 'dry-run', reason: 'would be deleted after i-builder terminated' })])
      expect(ec2).toHaveReceivedCommandWith(DeleteKeyPairCommand, { KeyPairId: 'key-1', DryRun: true })
      expect(ec2).not.toHaveReceivedCommandWith(DescribeInstancesCommand, { InstanceIds: ['i-builder'] })
      expect(fake.world().keyPairs).toHaveLength(1)
    })

    it('under notify the instance is not terminated, so the key stays in use', async () => {
      const ctx = context({ action: 'notify' })
      const plan = await planOrphans(ctx, new Set(['i-builder']))
      expect(reportOnly(plan)).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'in use by instance i-builder' })])
    })
  })
})
