import { describe, expect, it } from '@jest/globals'
import type { Inputs } from '../../../src/model/types.js'
import type { SecurityGroupSeed } from '../../../sandbox/index.js'
import {
  inputsOf,
  orphanContext,
  planAndSweep,
  REGION,
  useSandbox,
  planLeftovers,
  actOn,
  type LeftoverRun,
  heldBack
} from '../engine/harness.js'
import { NOW, packerName } from '../../../__fixtures__/support.js'

const { sandbox, seed } = useSandbox()
const context = (inputs: Partial<Inputs> = {}): LeftoverRun =>
  orphanContext({ resources: ['security-groups'], ...inputs })
const BUILDER = 'i-0b111de0'
const LIVE = 'i-011fe000'
const NEW = 'i-0e3e3000'

/** Rules referencing other groups, as the seed wants them. */
const rulesTo = (groupIds: string[] | undefined) => (groupIds ? [{ protocol: '-1', groupIds }] : undefined)

/** A Packer group whose name sorts like its ID: every random hex digit of the UUID is the ID's last one. */
function packerGroup(
  id: string,
  builtHoursAgo: number,
  {
    ingressFrom,
    egressTo,
    ...overrides
  }: Partial<SecurityGroupSeed> & { ingressFrom?: string[]; egressTo?: string[] } = {}
): SecurityGroupSeed {
  const digit = Number.parseInt(id.slice(-1), 16) / 16
  return {
    groupId: id,
    groupName: packerName(builtHoursAgo * 3600, NOW, () => digit),
    description: 'Temporary group for Packer',
    ingress: rulesTo(ingressFrom),
    egress: rulesTo(egressTo),
    ...overrides
  }
}
const groups = () => sandbox().fleet.securityGroups(REGION)

describe('security groups', () => {
  it("deletes a killed build's group, aged by the build start in its name", async () => {
    seed({ securityGroups: [packerGroup('sg-1', 3)] })
    const { plan, findings } = await planAndSweep(context())
    expect(plan.changes).toBe(1)
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'security-groups',
        id: 'sg-1',
        ageSource: 'name',
        ageSeconds: 3 * 3600,
        outcome: 'deleted'
      })
    ])
    expect(inputsOf(sandbox(), 'DeleteSecurityGroup')).toContainEqual(
      expect.objectContaining({ GroupId: 'sg-1', DryRun: false })
    )
    expect(groups()).toEqual([])
  })

  it("filters by Packer's name and description server-side, and pages through every answer", async () => {
    seed({ securityGroups: [1, 2, 3, 4, 5].map((n) => packerGroup(`sg-${n}`, 3, { tags: { run: '9' } })) })
    const { findings } = await planAndSweep(context({ tags: [{ key: 'run', value: '9' }] }))
    const listing = inputsOf(sandbox(), 'DescribeSecurityGroups').filter(
      (input) => input.Filters?.[0]?.Name === 'group-name'
    )
    // Pages of 2: the first call, then two more with the NextToken of the one before.
    expect(listing).toEqual(
      [undefined, expect.any(String), expect.any(String)].map((NextToken) => ({
        MaxResults: 1000,
        NextToken,
        Filters: [
          { Name: 'group-name', Values: ['packer_*'] },
          { Name: 'description', Values: ['Temporary group for Packer'] },
          { Name: 'tag:run', Values: ['9'] }
        ]
      }))
    )
    expect(findings.map((finding) => finding.id)).toEqual(['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5'])
  })

  it('ignores a packer_ group whose description is not Packer’s', async () => {
    seed({ securityGroups: [packerGroup('sg-1', 3, { description: 'Temporary group for Packer builds' })] })
    // An endpoint that ignores the description filter returns it anyway.
    sandbox().faults.ignoreFilters({ action: 'DescribeSecurityGroups' })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
  })

  it('reports a group without a name timestamp as skipped "age unknown", never deleted', async () => {
    seed({
      securityGroups: [{ groupId: 'sg-1', groupName: 'packer_something', description: 'Temporary group for Packer' }]
    })
    const { plan, findings } = await planAndSweep(context({ 'max-age': 0 }))
    expect(plan.changes).toBe(0)
    expect(findings).toEqual([
      expect.objectContaining({ id: 'sg-1', outcome: 'skipped', reason: 'age unknown', ageSource: 'unknown' })
    ])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
  })

  it('keeps a group a network interface still uses', async () => {
    seed({
      securityGroups: [packerGroup('sg-1', 3)],
      networkInterfaces: [{ networkInterfaceId: 'eni-1', groupIds: ['sg-1'], attachedInstanceId: LIVE }]
    })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({
        id: 'sg-1',
        outcome: 'skipped',
        reason: expect.stringMatching(new RegExp(`^in use by instance ${LIVE}`))
      })
    ])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
    expect(inputsOf(sandbox(), 'DescribeNetworkInterfaces')).toContainEqual(
      expect.objectContaining({ Filters: [{ Name: 'group-id', Values: ['sg-1'] }], MaxResults: 1000 })
    )
  })

  it('keeps a group a detached interface carries, even when its instance is being terminated', async () => {
    seed({
      securityGroups: [packerGroup('sg-1', 3)],
      networkInterfaces: [{ networkInterfaceId: 'eni-loose', groupIds: ['sg-1'] }]
    })
    const { findings } = await planAndSweep(context(), [BUILDER])
    expect(findings).toEqual([
      expect.objectContaining({
        id: 'sg-1',
        outcome: 'skipped',
        reason: expect.stringMatching(/^in use by .*eni-loose/)
      })
    ])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
  })

  it('keeps a group another group references, in ingress or egress; a self-reference does not count', async () => {
    seed({
      securityGroups: [
        packerGroup('sg-1', 3),
        packerGroup('sg-2', 3),
        packerGroup('sg-3', 3, { ingressFrom: ['sg-3'] }),
        {
          groupId: 'sg-app',
          groupName: 'app',
          description: 'app',
          ingress: rulesTo(['sg-1']),
          egress: rulesTo(['sg-2'])
        }
      ]
    })
    const { findings } = await planAndSweep(context())
    expect(findings.map((finding) => [finding.id, finding.outcome, finding.reason])).toEqual([
      ['sg-1', 'skipped', expect.stringMatching(/^in use by .*sg-app/)],
      ['sg-2', 'skipped', expect.stringMatching(/^in use by .*sg-app/)],
      ['sg-3', 'deleted', undefined]
    ])
    const described = inputsOf(sandbox(), 'DescribeSecurityGroups')
    expect(described).toContainEqual(
      expect.objectContaining({ Filters: [{ Name: 'ip-permission.group-id', Values: ['sg-1', 'sg-2', 'sg-3'] }] })
    )
    expect(described).toContainEqual(
      expect.objectContaining({
        Filters: [{ Name: 'egress.ip-permission.group-id', Values: ['sg-1', 'sg-2', 'sg-3'] }]
      })
    )
  })

  it('reports DependencyViolation as in-use with the message, not a failure', async () => {
    seed({ securityGroups: [packerGroup('sg-1', 3)] })
    const ctx = context()
    const plan = await planLeftovers(ctx)
    seed({ networkInterfaces: [{ networkInterfaceId: 'eni-new', groupIds: ['sg-1'], attachedInstanceId: NEW }] }) // a build started using it meanwhile
    const findings = await actOn(ctx, plan)
    expect(findings).toEqual([
      expect.objectContaining({
        outcome: 'in-use',
        reason: 'DependencyViolation: resource sg-1 has a dependent object'
      })
    ])
    expect(findings[0]).not.toHaveProperty('error')
    expect(groups()).toHaveLength(1)
  })

  it('reports a group that vanished meanwhile as deleted, "already deleted"', async () => {
    seed({ securityGroups: [packerGroup('sg-1', 3)] })
    const ctx = context()
    const plan = await planLeftovers(ctx)
    groups().splice(0)
    expect(await actOn(ctx, plan)).toEqual([expect.objectContaining({ outcome: 'deleted', reason: 'already deleted' })])
  })

  it("deletes the group of a builder this run terminates after the builder's interface is gone", async () => {
    // The builder's primary interface carries the group while it runs, and goes when it terminates.
    seed({
      securityGroups: [packerGroup('sg-1', 3)],
      instances: [{ id: BUILDER, state: 'running', securityGroupIds: ['sg-1'] }]
    })
    const ctx = context()
    const plan = await planLeftovers(ctx, new Set([BUILDER]))
    expect(heldBack(plan).map((finding) => finding.reason)).toEqual([
      `not deleted: this run made no changes (used by ${BUILDER})`
    ])
    sandbox().fleet.update(BUILDER, { state: 'terminated' })
    const findings = await actOn(ctx, plan, [BUILDER])
    expect(findings).toEqual([expect.objectContaining({ outcome: 'deleted', reason: `after ${BUILDER} terminated` })])
  })

  it('keeps waiting for a builder stuck in stopping; past the deadline its group is in use', async () => {
    seed({
      securityGroups: [packerGroup('sg-1', 3)],
      instances: [{ id: BUILDER, state: 'running', securityGroupIds: ['sg-1'] }]
    })
    const ctx = context()
    const plan = await planLeftovers(ctx, new Set([BUILDER]))
    sandbox().fleet.update(BUILDER, { state: 'stopping' })
    const findings = await actOn(ctx, plan, [BUILDER])
    const polls = inputsOf(sandbox(), 'DescribeInstances').filter(
      (input) => input.InstanceIds?.length === 1 && input.InstanceIds[0] === BUILDER
    )
    expect(polls.length).toBeGreaterThan(1)
    expect(findings).toEqual([
      expect.objectContaining({ outcome: 'in-use', reason: expect.stringMatching(/state stopping/) })
    ])
    expect(sandbox().callsOf('DeleteSecurityGroup')).toEqual([])
  })

  it('names the missing permission when DeleteSecurityGroup is refused', async () => {
    seed({ securityGroups: [packerGroup('sg-1', 3)] })
    sandbox().faults.deny({ action: 'DeleteSecurityGroup' })
    const { findings } = await planAndSweep(context())
    expect(findings).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        error: expect.objectContaining({ code: 'UnauthorizedOperation', missingPermission: 'ec2:DeleteSecurityGroup' })
      })
    ])
  })
})
