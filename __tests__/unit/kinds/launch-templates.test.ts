import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../../src/model/types.js'
import {
  inputsOf,
  orphanContext,
  planAndSweep,
  REGION,
  useSandbox,
  planLeftovers,
  actOn,
  type LeftoverRun
} from '../engine/harness.js'
import { hoursBefore, NOW } from '../../../__fixtures__/support.js'

const { sandbox, seed } = useSandbox()
const context = (inputs: Partial<Inputs> = {}): LeftoverRun =>
  orphanContext({ resources: ['launch-templates'], ...inputs })
const SPOT = 'i-05b07000'
const at = (hours: number) => hoursBefore(NOW, hours).toISOString()

describe('launch templates', () => {
  it("deletes a spot build's stale template nothing launched from is still running", async () => {
    seed({
      launchTemplates: [
        { launchTemplateId: 'lt-old', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime: at(3) },
        { launchTemplateId: 'lt-new', launchTemplateName: 'packer-fleet-launch-template-def5678', createTime: at(1) }
      ]
    })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({
        id: 'lt-old',
        name: 'packer-fleet-launch-template-abc1234',
        ageSource: 'create-time',
        outcome: 'deleted'
      })
    ])
    expect(inputsOf(sandbox(), 'DescribeLaunchTemplates')).toContainEqual(
      expect.objectContaining({
        MaxResults: 200,
        Filters: [{ Name: 'launch-template-name', Values: ['packer-fleet-launch-template-*'] }]
      })
    )
    expect(inputsOf(sandbox(), 'DeleteLaunchTemplate')).toContainEqual(
      expect.objectContaining({ LaunchTemplateId: 'lt-old', DryRun: false })
    )
    expect(
      sandbox()
        .fleet.launchTemplates(REGION)
        .map((template) => template.launchTemplateId)
    ).toEqual(['lt-new'])
  })

  it('keeps a template a live instance was launched from (aws:ec2launchtemplate:id)', async () => {
    seed({
      launchTemplates: [
        { launchTemplateId: 'lt-1', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime: at(3) }
      ],
      instances: [{ id: SPOT, state: 'running', launchTemplateId: 'lt-1' }]
    })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({ id: 'lt-1', outcome: 'skipped', reason: `in use by instance ${SPOT}` })
    ])
    expect(sandbox().callsOf('DeleteLaunchTemplate')).toEqual([])
    // Read from the one listing of the region's live instances, by the tag on each.
    expect(inputsOf(sandbox(), 'DescribeInstances')).toEqual([
      {
        MaxResults: 1000,
        Filters: [
          { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }
        ]
      }
    ])
  })

  it('deletes the template of a spot builder this run terminates, after it terminated', async () => {
    seed({
      launchTemplates: [
        { launchTemplateId: 'lt-1', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime: at(3) }
      ],
      instances: [{ id: SPOT, state: 'running', launchTemplateId: 'lt-1' }]
    })
    const ctx = context()
    const plan = await planLeftovers(ctx, new Set([SPOT]))
    sandbox().fleet.update(SPOT, { state: 'terminated' })
    expect(await actOn(ctx, plan, [SPOT])).toEqual([expect.objectContaining({ outcome: 'deleted' })])
  })

  it('requires the tags input on templates too', async () => {
    seed({
      launchTemplates: [
        {
          launchTemplateId: 'lt-untagged',
          launchTemplateName: 'packer-fleet-launch-template-abc1234',
          createTime: at(3)
        },
        {
          launchTemplateId: 'lt-run',
          launchTemplateName: 'packer-fleet-launch-template-def5678',
          createTime: at(3),
          tags: { 'github-run-id': '42' }
        }
      ]
    })
    const { findings } = await planAndSweep(context({ tags: [{ key: 'github-run-id', value: '42' }] }))
    expect(findings.map((finding) => finding.id)).toEqual(['lt-run'])
  })

  it('skips a template without CreateTime as age unknown', async () => {
    seed({
      launchTemplates: [
        { launchTemplateId: 'lt-1', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime: null }
      ]
    })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([expect.objectContaining({ outcome: 'skipped', reason: 'age unknown' })])
  })
})
