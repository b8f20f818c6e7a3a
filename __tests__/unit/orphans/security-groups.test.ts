import { describe, expect, it } from '@jest/globals'
import { DeleteSecurityGroupCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { type OrphanContext, planOrphans, plannedChanges, sweepOrphans } from '../../../src/orphans/index.js'
import type { Inputs } from '../../../src/types.js'
import { ec2, type FakeGroup } from './fake-ec2.js'
import { orphanContext, planAndSweep, useFakeEc2 } from './harness.js'
import { ec2Error, NOW, packerName } from '../../../__fixtures__/support.js'

const fake = useFakeEc2()
const context = (inputs: Partial<Inputs> = {}): OrphanContext => orphanContext({ resources: ['security-groups'], ...inputs })

/** A Packer group whose name sorts like its ID: every random hex digit of the UUID is the ID's last one. */
function packerGroup(id: string, builtHoursAgo: number, overrides: Partial<FakeGroup> = {}): FakeGroup {
  const digit = Number.parseInt(id.slice(-1), 16) / 16
  return { id, name: packerName(builtHoursAgo * 3600, NOW, () => digit), description: 'Temporary group for Packer', ...overrides }
}

describe('security groups', () => {
  it("deletes a killed build's group, aged by the build start in its name", async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    const { plan, findings } = await planAndSweep(context())
    expect(plannedChanges(plan)).toBe(1)
    expect(findings).toEqual([expect.objectContaining({ kind: 'security-groups', id: 'sg-1', ageSource: 'name', ageSeconds: 3 * 3600, outcome: 'deleted' })])
    expect(ec2).toHaveReceivedCommandWith(DeleteSecurityGroupCommand, { GroupId: 'sg-1', DryRun: false })
    expect(fake.world().groups).toEqual([])
  })

  it("filters by Packer's name and description server-side, and pages through every answer", async () => {
    fake.world().groups = [1, 2, 3, 4, 5].map((n) => packerGroup(`sg-${n}`, 3, { tags: { run: '9' } }))
    const { findings } = await planAndSweep(context({ tags: [{ key: 'run', value: '9' }] }))
    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, {
      MaxResults: 1000,
      Filters: [
        { Name: 'group-name', Values: ['packer_*'] },
        { Name: 'description', Values: ['Temporary group for Packer'] },
        { Name: 'tag:run', Values: ['9'] }
      ]
    })
    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, { NextToken: '4' })
    expect(findings.map((finding) => finding.id)).toEqual(['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5'])
  })

  it('ignores a packer_ group whose description is not Packer’s', async () => {
    fake.world().groups = [packerGroup('sg-1', 3, { description: 'Temporary group for Packer builds' })]
    ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [{ GroupId: 'sg-1', GroupName: fake.world().groups[0]?.name, Description: 'Temporary group for Packer builds' }]
    })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
  })

  it('reports a group without a name timestamp as skipped "age unknown", never deleted', async () => {
    fake.world().groups = [{ id: 'sg-1', name: 'packer_something', description: 'Temporary group for Packer' }]
    const { plan, findings } = await planAndSweep(context({ 'max-age': 0 }))
    expect(plannedChanges(plan)).toBe(0)
    expect(findings).toEqual([expect.objectContaining({ id: 'sg-1', outcome: 'skipped', reason: 'age unknown', ageSource: 'unknown' })])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
  })

  it('keeps a group a network interface still uses', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    fake.world().interfaces = [{ id: 'eni-1', groupIds: ['sg-1'], instanceId: 'i-live' }]
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([expect.objectContaining({ id: 'sg-1', outcome: 'skipped', reason: expect.stringMatching(/^in use by instance i-live/) })])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
    expect(ec2).toHaveReceivedCommandWith(DescribeNetworkInterfacesCommand, { Filters: [{ Name: 'group-id', Values: ['sg-1'] }], MaxResults: 1000 })
  })

  it('keeps a group a detached interface carries, even when its instance is being terminated', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    fake.world().interfaces = [{ id: 'eni-loose', groupIds: ['sg-1'] }]
    const { findings } = await planAndSweep(context(), ['i-builder'])
    expect(findings).toEqual([expect.objectContaining({ id: 'sg-1', outcome: 'skipped', reason: expect.stringMatching(/^in use by .*eni-loose/) })])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
  })

  it('keeps a group another group references, in ingress or egress; a self-reference does not count', async () => {
    fake.world().groups = [
      packerGroup('sg-1', 3),
      packerGroup('sg-2', 3),
      packerGroup('sg-3', 3, { ingressFrom: ['sg-3'] }),
      { id: 'sg-app', name: 'app', description: 'app', ingressFrom: ['sg-1'], egressTo: ['sg-2'] }
    ]
    const { findings } = await planAndSweep(context())
    expect(findings.map((finding) => [finding.id, finding.outcome, finding.reason])).toEqual([
      ['sg-1', 'skipped', expect.stringMatching(/^in use by .*sg-app/)],
      ['sg-2', 'skipped', expect.stringMatching(/^in use by .*sg-app/)],
      ['sg-3', 'deleted', undefined]
    ])
    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, { Filters: [{ Name: 'ip-permission.group-id', Values: ['sg-1', 'sg-2', 'sg-3'] }] })
    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, {
      Filters: [{ Name: 'egress.ip-permission.group-id', Values: ['sg-1', 'sg-2', 'sg-3'] }]
    })
  })

  it('reports DependencyViolation as in-use with the message, not a failure', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    const ctx = context()
    const plan = await planOrphans(ctx, new Set())
    fake.world().interfaces = [{ id: 'eni-new', groupIds: ['sg-1'], instanceId: 'i-new' }] // a build started using it meanwhile
    const findings = await sweepOrphans(ctx, plan, new Set())
    expect(findings).toEqual([expect.objectContaining({ outcome: 'in-use', reason: 'DependencyViolation: resource sg-1 has a dependent object' })])
    expect(findings[0]).not.toHaveProperty('error')
    expect(fake.world().groups).toHaveLength(1)
  })

  it('reports a group that vanished meanwhile as deleted, "already deleted"', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    const ctx = context()
    const plan = await planOrphans(ctx, new Set())
    fake.world().groups = []
    expect(await sweepOrphans(ctx, plan, new Set())).toEqual([expect.objectContaining({ outcome: 'deleted', reason: 'already deleted' })])
  })

  it("deletes the group of a builder this run terminates after the builder's interface is gone", async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    fake.world().instances = [{ id: 'i-builder', state: 'running' }]
    fake.world().interfaces = [{ id: 'eni-1', groupIds: ['sg-1'], instanceId: 'i-builder' }]
    const ctx = context()
    const plan = await planOrphans(ctx, new Set(['i-builder']))
    expect(plan.orphans.map((orphan) => orphan.dependsOn)).toEqual([['i-builder']])
    fake.world().instances = [{ id: 'i-builder', state: 'terminated' }]
    fake.world().interfaces = []
    const findings = await sweepOrphans(ctx, plan, new Set(['i-builder']))
    expect(findings).toEqual([expect.objectContaining({ outcome: 'deleted', reason: 'deleted after i-builder terminated' })])
  })

  it('keeps waiting for a builder stuck in stopping; past the deadline its group is in use', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    fake.world().instances = [{ id: 'i-builder', state: 'running' }]
    fake.world().interfaces = [{ id: 'eni-1', groupIds: ['sg-1'], instanceId: 'i-builder' }]
    const ctx = context()
    const plan = await planOrphans(ctx, new Set(['i-builder']))
    fake.world().instances = [{ id: 'i-builder', state: 'stopping' }]
    const findings = await sweepOrphans(ctx, plan, new Set(['i-builder']))
    expect(ec2.commandCalls(DescribeInstancesCommand, { InstanceIds: ['i-builder'] }).length).toBeGreaterThan(1)
    expect(findings).toEqual([expect.objectContaining({ outcome: 'in-use', reason: expect.stringMatching(/state stopping/) })])
    expect(ec2).not.toHaveReceivedCommand(DeleteSecurityGroupCommand)
  })

  it('names the missing permission when DeleteSecurityGroup is refused', async () => {
    fake.world().groups = [packerGroup('sg-1', 3)]
    ec2.on(DeleteSecurityGroupCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'))
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ code: 'UnauthorizedOperation', missingPermission: 'ec2:DeleteSecurityGroup' })
      })
    ])
  })
})
