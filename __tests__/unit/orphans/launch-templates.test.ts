import { describe, expect, it } from '@jest/globals'
import { DeleteLaunchTemplateCommand, DescribeInstancesCommand, DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { type OrphanContext, planOrphans, sweepOrphans } from '../../../src/orphans/index.js'
import type { Inputs } from '../../../src/types.js'
import { ec2 } from './fake-ec2.js'
import { orphanContext, planAndSweep, useFakeEc2 } from './harness.js'
import { hoursBefore, NOW } from '../../../__fixtures__/support.js'

const fake = useFakeEc2()
const context = (inputs: Partial<Inputs> = {}): OrphanContext => orphanContext({ resources: ['launch-templates'], ...inputs })

describe('launch templates', () => {
  it("deletes a spot build's stale template nothing launched from is still running", async () => {
    fake.world().templates = [
      { id: 'lt-old', name: 'packer-fleet-launch-template-abc1234', createTime: hoursBefore(NOW, 3) },
      { id: 'lt-new', name: 'packer-fleet-launch-template-def5678', createTime: hoursBefore(NOW, 1) }
    ]
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({ id: 'lt-old', name: 'packer-fleet-launch-template-abc1234', ageSource: 'create-time', outcome: 'deleted' })
    ])
    expect(ec2).toHaveReceivedCommandWith(DescribeLaunchTemplatesCommand, {
      MaxResults: 200,
      Filters: [{ Name: 'launch-template-name', Values: ['packer-fleet-launch-template-*'] }]
    })
    expect(ec2).toHaveReceivedCommandWith(DeleteLaunchTemplateCommand, { LaunchTemplateId: 'lt-old', DryRun: false })
    expect(fake.world().templates.map((template) => template.id)).toEqual(['lt-new'])
  })

  it('keeps a template a live instance was launched from (aws:ec2launchtemplate:id)', async () => {
    fake.world().templates = [{ id: 'lt-1', name: 'packer-fleet-launch-template-abc1234', createTime: hoursBefore(NOW, 3) }]
    fake.world().instances = [{ id: 'i-spot', state: 'running', launchTemplateId: 'lt-1' }]
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([expect.objectContaining({ id: 'lt-1', outcome: 'skipped', reason: 'in use by instance i-spot' })])
    expect(ec2).not.toHaveReceivedCommand(DeleteLaunchTemplateCommand)
    expect(ec2).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:aws:ec2launchtemplate:id', Values: ['lt-1'] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
      ]
    })
  })

  it('deletes the template of a spot builder this run terminates, after it terminated', async () => {
    fake.world().templates = [{ id: 'lt-1', name: 'packer-fleet-launch-template-abc1234', createTime: hoursBefore(NOW, 3) }]
    fake.world().instances = [{ id: 'i-spot', state: 'running', launchTemplateId: 'lt-1' }]
    const ctx = context()
    const plan = await planOrphans(ctx, new Set(['i-spot']))
    fake.world().instances = [{ id: 'i-spot', state: 'terminated', launchTemplateId: 'lt-1' }]
    expect(await sweepOrphans(ctx, plan, new Set(['i-spot']))).toEqual([expect.objectContaining({ outcome: 'deleted' })])
  })

  it('requires the tags input on templates too', async () => {
    fake.world().templates = [
      { id: 'lt-untagged', name: 'packer-fleet-launch-template-abc1234', createTime: hoursBefore(NOW, 3) },
      { id: 'lt-run', name: 'packer-fleet-launch-template-def5678', createTime: hoursBefore(NOW, 3), tags: { 'github-run-id': '42' } }
    ]
    const { findings } = await planAndSweep(context({ tags: [{ key: 'github-run-id', value: '42' }] }))
    expect(findings.map((finding) => finding.id)).toEqual(['lt-run'])
  })

  it('skips a template without CreateTime as age unknown', async () => {
    fake.world().templates = [{ id: 'lt-1', name: 'packer-fleet-launch-template-abc1234' }]
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'age unknown' })])
  })
})
