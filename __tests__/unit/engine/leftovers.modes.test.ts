import { describe, expect, it } from '@jest/globals'
import { planOrphans, plannedChanges, reportOnly, sweepOrphans } from '../../../src/engine/leftovers.js'
import { inputsOf, orphanContext, planAndSweep, REGIONAL_KINDS, useSandbox } from './harness.js'
import { hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const { sandbox, seed } = useSandbox()
const DELETES = ['DeleteKeyPair', 'DeleteSecurityGroup', 'DeleteLaunchTemplate'] as const
const DENIED = 'UnauthorizedOperation'

/** A killed build's debris of every kind, all stale and unused. */
function leaveDebris(tags: Record<string, string> = {}): void {
  const name = packerName(3 * 3600, NOW)
  const createTime = hoursBefore(NOW, 3).toISOString()
  seed({
    keyPairs: [{ keyName: name, keyPairId: 'key-1', createTime, tags }],
    securityGroups: [{ groupId: 'sg-1', groupName: name, description: 'Temporary group for Packer', tags }],
    launchTemplates: [
      { launchTemplateId: 'lt-1', launchTemplateName: 'packer-fleet-launch-template-abc1234', createTime, tags }
    ]
  })
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
    for (const action of DELETES) expect(sandbox().callsOf(action)).toEqual([])
  })

  it('terminate deletes each kind', async () => {
    leaveDebris()
    const { plan, findings } = await planAndSweep(orphanContext())
    expect(plannedChanges(plan)).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted', 'deleted', 'deleted'])
  })

  it('dry-run makes only DryRun deletes and changes nothing', async () => {
    leaveDebris()
    const before = sandbox().fleet.snapshot()
    const { plan, findings } = await planAndSweep(orphanContext({ 'dry-run': true }))
    expect(plannedChanges(plan)).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['dry-run', 'dry-run', 'dry-run'])
    for (const action of DELETES)
      expect(inputsOf(sandbox(), action)).toEqual([expect.objectContaining({ DryRun: true })])
    expect(sandbox().fleet.snapshot()).toEqual(before)
  })

  it('reportOnly (a tripped cap) reports the plan without a single call', async () => {
    leaveDebris()
    const plan = await planOrphans(orphanContext(), new Set())
    const callsBefore = sandbox().calls.length
    expect(reportOnly(REGIONAL_KINDS, plan).map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes']
    ])
    expect(sandbox().calls).toHaveLength(callsBefore)
  })

  it('terminate skips every kind carrying the exclude-tag', async () => {
    leaveDebris({ 'packer-sweeper:keep': 'yes' })
    const { plan, findings } = await planAndSweep(orphanContext())
    expect(plannedChanges(plan)).toBe(0)
    expect(findings.map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['skipped', 'carries the packer-sweeper:keep tag'],
      ['skipped', 'carries the packer-sweeper:keep tag'],
      ['skipped', 'carries the packer-sweeper:keep tag']
    ])
    for (const action of DELETES) expect(sandbox().callsOf(action)).toEqual([])
  })

  it('sweeps only the kinds in resources', async () => {
    leaveDebris()
    const { findings } = await planAndSweep(orphanContext({ resources: ['instances', 'security-groups'] }))
    expect(findings.map((finding) => finding.kind)).toEqual(['security-groups'])
    expect(sandbox().callsOf('DescribeKeyPairs')).toEqual([])
    expect(sandbox().callsOf('DescribeLaunchTemplates')).toEqual([])
  })
})

describe('errors', () => {
  it('names the missing IAM action when a delete is refused, per kind', async () => {
    leaveDebris()
    for (const action of DELETES) sandbox().faults.deny({ action })
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
    sandbox().faults.deny({ action: 'DescribeNetworkInterfaces' }).deny({ action: 'DescribeKeyPairs' })
    const ctx = orphanContext()
    const plan = await planOrphans(ctx, new Set())
    expect(plan.errors).toEqual([
      {
        kind: 'key-pairs',
        error: expect.objectContaining({ code: DENIED, missingPermission: 'ec2:DescribeKeyPairs' })
      },
      {
        kind: 'security-groups',
        error: expect.objectContaining({ code: DENIED, missingPermission: 'ec2:DescribeNetworkInterfaces' })
      }
    ])
    expect(plan.orphans.map((orphan) => orphan.candidate.id)).toEqual(['lt-1'])
    expect((await sweepOrphans(ctx, plan, new Set())).map((finding) => finding.outcome)).toEqual(['deleted'])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
  })

  it('keeps the skipped findings of a kind whose usage check failed', async () => {
    seed({
      securityGroups: [
        { groupId: 'sg-x', groupName: 'packer_custom', description: 'Temporary group for Packer' },
        { groupId: 'sg-1', groupName: packerName(3 * 3600, NOW), description: 'Temporary group for Packer' }
      ]
    })
    sandbox().faults.fail({
      action: 'DescribeSecurityGroups',
      params: { 'Filter.1.Name': 'ip-permission.group-id', 'Filter.1.Value.1': 'sg-1' },
      code: 'Throttling',
      message: 'slow down'
    })
    const plan = await planOrphans(orphanContext(), new Set())
    expect(plan.errors).toEqual([{ kind: 'security-groups', error: expect.objectContaining({ code: 'Throttling' }) }])
    expect(reportOnly(REGIONAL_KINDS, plan).map((finding) => [finding.id, finding.outcome])).toEqual([
      ['sg-x', 'skipped']
    ])
  })

  it('fails an orphan whose use cannot be checked again right before deleting', async () => {
    leaveDebris()
    const ctx = orphanContext({ resources: ['key-pairs'] })
    const plan = await planOrphans(ctx, new Set())
    sandbox().faults.deny({ action: 'DescribeInstances' })
    expect(await sweepOrphans(ctx, plan, new Set())).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ missingPermission: 'ec2:DescribeInstances' })
      })
    ])
    expect(sandbox().callsOf('DeleteKeyPair')).toEqual([])
  })
})
