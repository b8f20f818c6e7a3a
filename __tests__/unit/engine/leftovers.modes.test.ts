import { describe, expect, it } from '@jest/globals'
import { inputsOf, orphanContext, planAndSweep, useSandbox, planLeftovers, actOn, heldBack } from './harness.js'
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
    expect(plan.changes).toBe(0)
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
    expect(plan.changes).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['deleted', 'deleted', 'deleted'])
  })

  it('dry-run makes only DryRun deletes and changes nothing', async () => {
    leaveDebris()
    const before = sandbox().fleet.snapshot()
    const { plan, findings } = await planAndSweep(orphanContext({ 'dry-run': true }))
    expect(plan.changes).toBe(3)
    expect(findings.map((finding) => finding.outcome)).toEqual(['dry-run', 'dry-run', 'dry-run'])
    for (const action of DELETES)
      expect(inputsOf(sandbox(), action)).toEqual([expect.objectContaining({ DryRun: true })])
    expect(sandbox().fleet.snapshot()).toEqual(before)
  })

  it('reportOnly (a tripped cap) reports the plan without a single call', async () => {
    leaveDebris()
    const plan = await planLeftovers(orphanContext())
    const callsBefore = sandbox().calls.length
    expect(heldBack(plan).map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes'],
      ['notified', 'not deleted: this run made no changes']
    ])
    expect(sandbox().calls).toHaveLength(callsBefore)
  })

  it('terminate skips every kind carrying the exclude-tag', async () => {
    leaveDebris({ 'packer-sweeper:keep': 'yes' })
    const { plan, findings } = await planAndSweep(orphanContext())
    expect(plan.changes).toBe(0)
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
    const plan = await planLeftovers(ctx)
    expect(plan.errors).toEqual([
      expect.objectContaining({ kind: 'key-pairs', code: DENIED, missingPermission: 'ec2:DescribeKeyPairs' }),
      expect.objectContaining({
        kind: 'security-groups',
        code: DENIED,
        missingPermission: 'ec2:DescribeNetworkInterfaces'
      })
    ])
    expect(heldBack(plan).map((finding) => finding.id)).toEqual(['lt-1'])
    expect((await actOn(ctx, plan)).map((finding) => finding.outcome)).toEqual(['deleted'])
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
    const plan = await planLeftovers(orphanContext())
    expect(plan.errors).toEqual([expect.objectContaining({ kind: 'security-groups', code: 'Throttling' })])
    expect(heldBack(plan).map((finding) => [finding.id, finding.outcome])).toEqual([['sg-x', 'skipped']])
  })

  it('fails an orphan whose use cannot be checked again right before deleting', async () => {
    leaveDebris()
    const ctx = orphanContext({ resources: ['key-pairs'] })
    const plan = await planLeftovers(ctx)
    sandbox().faults.deny({ action: 'DescribeInstances' })
    expect(await actOn(ctx, plan)).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ missingPermission: 'ec2:DescribeInstances' })
      })
    ])
    expect(sandbox().callsOf('DeleteKeyPair')).toEqual([])
  })
})

// Moved from rules.test.ts's reportedFinding, now through the engine's holdBack.
describe('what a plan held back reports', () => {
  /** A stale key pair whose name says 5 hours and whose CreateTime says 3: the age note says so. */
  function disagreeingKey(): string {
    const name = packerName(5 * 3600, NOW)
    seed({ keyPairs: [{ keyName: name, keyPairId: 'key-1', createTime: hoursBefore(NOW, 3).toISOString() }] })
    return name
  }

  it('reports orphans as notified, with why stop leaves them and the age note', async () => {
    const name = disagreeingKey()
    const note = expect.stringMatching(/disagree; aged by the younger \(CreateTime\)$/)
    const notify = heldBack(await planLeftovers(orphanContext({ action: 'notify', resources: ['key-pairs'] })))
    expect(notify).toEqual([
      {
        kind: 'key-pairs',
        id: name,
        name,
        region: 'us-east-1',
        createdAt: hoursBefore(NOW, 3).toISOString(),
        ageSource: 'create-time',
        ageSeconds: 3 * 3600,
        outcome: 'notified',
        reason: note
      }
    ])
    const stop = heldBack(await planLeftovers(orphanContext({ action: 'stop', resources: ['key-pairs'] })))
    expect(stop[0]?.reason).toMatch(/^stop leaves key pairs alone: there is nothing to stop; name timestamp/)
  })

  it('keeps the skip reason and leaves out an unknown age', async () => {
    seed({ keyPairs: [{ keyName: 'packer_imported', createTime: null }] })
    const [finding] = heldBack(
      await planLeftovers(orphanContext({ resources: ['key-pairs'], 'key-name': ['packer_*'] }))
    )
    expect(finding).toMatchObject({ outcome: 'skipped', reason: 'age unknown', ageSource: 'unknown' })
    expect(finding).not.toHaveProperty('createdAt')
    expect(finding).not.toHaveProperty('ageSeconds')
  })
})
