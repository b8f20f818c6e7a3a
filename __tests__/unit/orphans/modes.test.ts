import { describe, expect, it } from '@jest/globals'
import {
  DeleteKeyPairCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand
} from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { planOrphans, plannedChanges, reportOnly, sweepOrphans } from '../../../src/orphans/index.js'
import { ec2 } from './fake-ec2.js'
import { orphanContext, planAndSweep, useFakeEc2 } from './harness.js'
import { ec2Error, hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const fake = useFakeEc2()
const DELETES = [DeleteKeyPairCommand, DeleteSecurityGroupCommand, DeleteLaunchTemplateCommand] as const

/** A killed build's debris of every kind, all stale and unused. */
function leaveDebris(): void {
  const name = packerName(3 * 3600, NOW)
  fake.world().keyPairs = [{ name, id: 'key-1', createTime: hoursBefore(NOW, 3) }]
  fake.world().groups = [{ id: 'sg-1', name, description: 'Temporary group for Packer' }]
  fake.world().templates = [{ id: 'lt-1', name: 'packer-fleet-launch-template-abc1234', createTime: hoursBefore(NOW, 3) }]
}

describe('what each action does with the leftovers', () => {
  it.each([
    ['notify', undefined],
    ['stop', /^stop leaves (key pairs|security groups|launch templates) alone/]
  ] as const)('%s reports them as notified and deletes nothing', async (action, reason) => {
    leaveDebris()
    const { plan, findings } = await planAndSweep(orphanContext({ action }))
    expect(plannedChanges(plan)).toBe(0)
    expect(findings.map((finding) => [finding.kind, finding.outcome])).toEqual([
      ['key-pairs', 'notified'],
      ['security-groups', 'notified'],
      ['launch-templates', 'notified']
    ])
    for (const finding of findings) {
      if (reason) expect(finding.reason).toMatch(reason)
      else expect(finding).not.toHaveProperty('reason')
    }
    for (const command of DELETES) expect(ec2).not.toHaveReceivedCommand(command)
  })

  it('terminate deletes each kind', async () => {
    leaveDebris()
    const { plan, findings } = await planAndSweep(orphanContext())
    expect(plannedChanges(plan)).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted', 'deleted', 'deleted'])
  })

  it('dry-run makes only DryRun deletes and changes nothing', async () => {
    leaveDebris()
    const before = structuredClone(fake.world())
    const { plan, findings } = await planAndSweep(orphanContext({ 'dry-run': true }))
    expect(plannedChanges(plan)).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['dry-run', 'dry-run', 'dry-run'])
    for (const command of DELETES) {
      expect(ec2).toHaveReceivedCommandTimes(command, 1)
      expect(ec2).toHaveReceivedCommandWith(command, { DryRun: true })
    }
    expect(fake.world()).toEqual(before)
  })

  it('reportOnly (a tripped cap) reports the plan without a single call', async () => {
    leaveDebris()
    const plan = await planOrphans(orphanContext(), new Set())
    const callsBefore = ec2.calls().length
    expect(reportOnly(plan).map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes']
    ])
    expect(ec2.calls()).toHaveLength(callsBefore)
  })

  it('terminate skips every kind carrying the exclude-tag', async () => {
    leaveDebris()
    const keep = { 'packer-sweeper:keep': 'yes' }
    fake.world().keyPairs[0]!.tags = keep
    fake.world().groups[0]!.tags = keep
    fake.world().templates[0]!.tags = keep
    const { plan, findings } = await planAndSweep(orphanContext())
    expect(plannedChanges(plan)).toBe(0)
    expect(findings.map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['skipped', 'exclude-tag'],
      ['skipped', 'exclude-tag'],
      ['skipped', 'exclude-tag']
    ])
    for (const command of DELETES) expect(ec2).not.toHaveReceivedCommand(command)
  })

  it('sweeps only the kinds in resources', async () => {
    leaveDebris()
    const { findings } = await planAndSweep(orphanContext({ resources: ['instances', 'security-groups'] }))
    expect(findings.map((finding) => finding.kind)).toEqual(['security-groups'])
    expect(ec2).not.toHaveReceivedCommand(DescribeKeyPairsCommand)
    expect(ec2).not.toHaveReceivedCommand(DescribeLaunchTemplatesCommand)
  })
})

describe('errors', () => {
  it('names the missing IAM action when a delete is refused, per kind', async () => {
    leaveDebris()
    const denied = ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.')
    for (const command of DELETES) ec2.on(command).rejects(denied)
    const { findings } = await planAndSweep(orphanContext({ 'dry-run': true }))
    expect(findings.map((finding) => [finding.outcome, finding.error?.missingPermission])).toEqual([
      ['failed', 'ec2:DeleteKeyPair'],
      ['failed', 'ec2:DeleteSecurityGroup'],
      ['failed', 'ec2:DeleteLaunchTemplate']
    ])
    expect(findings[0]?.error?.message).toMatch(/missing IAM permission ec2:DeleteKeyPair/)
  })

  it('returns a kind that cannot be read as a plan error naming the permission; the other kinds go on', async () => {
    leaveDebris()
    ec2.on(DescribeNetworkInterfacesCommand).rejects(ec2Error('UnauthorizedOperation', 'not authorized'))
    ec2.on(DescribeKeyPairsCommand).rejects(ec2Error('UnauthorizedOperation', 'not authorized'))
    const ctx = orphanContext()
    const plan = await planOrphans(ctx, new Set())
    expect(plan.errors).toEqual([
      { kind: 'key-pairs', error: expect.objectContaining({ code: 'UnauthorizedOperation', missingPermission: 'ec2:DescribeKeyPairs' }) },
      {
        kind: 'security-groups',
        error: expect.objectContaining({ code: 'UnauthorizedOperation', missingPermission: 'ec2:DescribeNetworkInterfaces' })
      }
    ])
    expect(plan.orphans.map((orphan) => orphan.candidate.id)).toEqual(['lt-1'])
    expect((await sweepOrphans(ctx, plan, new Set())).map((finding) => finding.outcome)).toEqual(['deleted'])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
  })

  it('keeps the skipped findings of a kind whose usage check failed', async () => {
    fake.world().groups = [{ id: 'sg-x', name: 'packer_custom', description: 'Temporary group for Packer' }]
    fake.world().groups.push({ id: 'sg-1', name: packerName(3 * 3600, NOW), description: 'Temporary group for Packer' })
    ec2.on(DescribeSecurityGroupsCommand, { Filters: [{ Name: 'ip-permission.group-id', Values: ['sg-1'] }] }).rejects(ec2Error('Throttling', 'slow down'))
    const plan = await planOrphans(orphanContext(), new Set())
    expect(plan.errors).toEqual([{ kind: 'security-groups', error: expect.objectContaining({ code: 'Throttling' }) }])
    expect(reportOnly(plan).map((finding) => [finding.id, finding.outcome])).toEqual([['sg-x', 'skipped']])
  })

  it('fails an orphan whose use cannot be checked again right before deleting', async () => {
    leaveDebris()
    const ctx = orphanContext({ resources: ['key-pairs'] })
    const plan = await planOrphans(ctx, new Set())
    ec2.on(DescribeInstancesCommand).rejects(ec2Error('UnauthorizedOperation', 'not authorized'))
    expect(await sweepOrphans(ctx, plan, new Set())).toEqual([
      expect.objectContaining({ outcome: 'failed', error: expect.objectContaining({ missingPermission: 'ec2:DescribeInstances' }) })
    ])
    expect(ec2).not.toHaveReceivedCommand(DeleteKeyPairCommand)
  })
})
