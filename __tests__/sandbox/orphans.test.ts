/** Key pairs, security groups, network interfaces and launch templates, through the real SDK. */
import {
  DeleteKeyPairCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  TerminateInstancesCommand,
  paginateDescribeSecurityGroups
} from '@aws-sdk/client-ec2'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { LAUNCH_TEMPLATE_TAG, startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2, errorOf } from './sdk.js'

const R = 'us-west-2'
let s: Sandbox

beforeAll(async () => {
  s = await startSandbox({
    fleet: {
      [R]: {
        instances: [
          {
            id: 'i-000000a1',
            keyName: 'packer_used',
            securityGroupIds: ['sg-00000001'],
            launchTemplateId: 'lt-00000001'
          }
        ],
        keyPairs: [
          { keyName: 'packer_used', keyPairId: 'key-00000001', age: '5h', tags: { run: '1' } },
          { keyName: 'packer_free', keyPairId: 'key-00000002', age: '1d' },
          { keyName: 'deploy', keyPairId: 'key-00000003', createTime: '2020-01-01T00:00:00.000Z' }
        ],
        securityGroups: [
          { groupId: 'sg-00000001', groupName: 'packer_a', description: 'Temporary group for Packer' },
          { groupId: 'sg-00000002', groupName: 'packer_b', description: 'Temporary group for Packer' },
          { groupId: 'sg-00000003', groupName: 'packer_c', description: 'Temporary group for Packer' },
          {
            groupId: 'sg-00000004',
            groupName: 'web',
            ingress: [{ fromPort: 22, toPort: 22, groupIds: ['sg-00000003'] }]
          },
          ...Array.from({ length: 12 }, (_, n) => ({ groupId: `sg-1000000${n.toString(16)}`, groupName: `bulk-${n}` }))
        ],
        networkInterfaces: [{ networkInterfaceId: 'eni-00000001', groupIds: ['sg-00000002'] }],
        launchTemplates: [
          { launchTemplateId: 'lt-00000001', launchTemplateName: 'packer-fleet-launch-template-abcdefg', age: '4h' },
          { launchTemplateId: 'lt-00000002', launchTemplateName: 'mine', age: '4d', tags: { team: 'x' } }
        ]
      }
    }
  })
})
afterAll(() => s.close())

describe('key pairs', () => {
  it('describes with CreateTime, tags and filters, and deletes by name or id', async () => {
    const out = await ec2(s, R).send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['packer_*'] }] })
    )
    expect(out.KeyPairs?.map((k) => k.KeyName)).toEqual(['packer_used', 'packer_free'])
    expect(out.KeyPairs?.[0]).toMatchObject({ KeyPairId: 'key-00000001', Tags: [{ Key: 'run', Value: '1' }] })
    expect(Math.round((Date.now() - (out.KeyPairs?.[0]?.CreateTime as Date).getTime()) / 3600_000)).toBe(5)
    const tagged = await ec2(s, R).send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'tag:run', Values: ['1'] }] }))
    expect(tagged.KeyPairs?.map((k) => k.KeyName)).toEqual(['packer_used'])
    expect(
      await errorOf(ec2(s, R).send(new DeleteKeyPairCommand({ KeyName: 'packer_free', DryRun: true })))
    ).toMatchObject({ name: 'DryRunOperation' })
    await ec2(s, R).send(new DeleteKeyPairCommand({ KeyName: 'packer_free' }))
    await ec2(s, R).send(new DeleteKeyPairCommand({ KeyPairId: 'key-00000003' }))
    expect(s.fleet.keyPairs(R).map((k) => k.keyName)).toEqual(['packer_used'])
    expect(await errorOf(ec2(s, R).send(new DescribeKeyPairsCommand({ KeyNames: ['gone'] })))).toMatchObject({
      name: 'InvalidKeyPair.NotFound'
    })
  })
})

describe('security groups and network interfaces', () => {
  it('filters by name, description, id and references, and pages', async () => {
    const client = ec2(s, R)
    const packer = await client.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: ['packer_*'] },
          { Name: 'description', Values: ['Temporary group for Packer'] }
        ]
      })
    )
    expect(packer.SecurityGroups?.map((g) => g.GroupId)).toEqual(['sg-00000001', 'sg-00000002', 'sg-00000003'])
    const referencing = await client.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.group-id', Values: ['sg-00000003'] }] })
    )
    expect(referencing.SecurityGroups?.map((g) => g.GroupId)).toEqual(['sg-00000004'])
    expect(referencing.SecurityGroups?.[0]?.IpPermissions?.[0]?.UserIdGroupPairs?.[0]?.GroupId).toBe('sg-00000003')
    const pages: number[] = []
    for await (const page of paginateDescribeSecurityGroups({ client, pageSize: 5 }, {}))
      pages.push(page.SecurityGroups?.length ?? 0)
    expect(pages).toEqual([5, 5, 5, 1])
    const byId = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-00000002'] }))
    expect(byId.SecurityGroups?.map((g) => g.GroupName)).toEqual(['packer_b'])
  })

  it('shows what uses a group: seeded interfaces and every live instance’s primary interface', async () => {
    const client = ec2(s, R)
    const used = await client.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-00000001', 'sg-00000002'] }] })
    )
    expect(
      used.NetworkInterfaces?.map((n) => [
        n.NetworkInterfaceId,
        n.Attachment?.InstanceId,
        n.Groups?.map((g) => g.GroupId)
      ])
    ).toEqual([
      ['eni-00000001', undefined, ['sg-00000002']],
      ['eni-000000a1', 'i-000000a1', ['sg-00000001']]
    ])
  })

  it('refuses to delete a group in use or referenced (DependencyViolation), deletes a free one', async () => {
    const client = ec2(s, R)
    for (const id of ['sg-00000001', 'sg-00000002', 'sg-00000003']) {
      expect(await errorOf(client.send(new DeleteSecurityGroupCommand({ GroupId: id })))).toEqual({
        name: 'DependencyViolation',
        message: `resource ${id} has a dependent object`,
        status: 400
      })
    }
    expect(
      await errorOf(client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-10000000', DryRun: true })))
    ).toMatchObject({ name: 'DryRunOperation' })
    await client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-10000000' }))
    expect(await errorOf(client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-10000000' })))).toMatchObject({
      name: 'InvalidGroup.NotFound'
    })
  })
})

describe('launch templates', () => {
  it('tags instances launched from a template, describes with filters, deletes', async () => {
    const client = ec2(s, R)
    const instance = await client.send(new DescribeInstancesCommand({ InstanceIds: ['i-000000a1'] }))
    expect(instance.Reservations?.[0]?.Instances?.[0]?.Tags).toEqual([
      { Key: LAUNCH_TEMPLATE_TAG, Value: 'lt-00000001' }
    ])
    const out = await client.send(
      new DescribeLaunchTemplatesCommand({
        Filters: [{ Name: 'launch-template-name', Values: ['packer-fleet-launch-template-*'] }]
      })
    )
    expect(out.LaunchTemplates?.map((t) => [t.LaunchTemplateId, t.LaunchTemplateName])).toEqual([
      ['lt-00000001', 'packer-fleet-launch-template-abcdefg']
    ])
    expect(Math.round((Date.now() - (out.LaunchTemplates?.[0]?.CreateTime as Date).getTime()) / 3600_000)).toBe(4)
    const tagged = await client.send(
      new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:team', Values: ['x'] }] })
    )
    expect(tagged.LaunchTemplates?.map((t) => t.LaunchTemplateId)).toEqual(['lt-00000002'])
    expect(
      await errorOf(client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: 'lt-00000002', DryRun: true })))
    ).toMatchObject({
      name: 'DryRunOperation'
    })
    const deleted = await client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: 'lt-00000002' }))
    expect(deleted.LaunchTemplate?.LaunchTemplateName).toBe('mine')
    expect(
      await errorOf(client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: 'lt-00000002' })))
    ).toMatchObject({
      name: 'InvalidLaunchTemplateId.NotFound'
    })
  })
})

describe('after the builder is terminated', () => {
  it('frees its group: the primary interface is gone and the group can be deleted', async () => {
    const client = ec2(s, R)
    await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-000000a1'] }))
    const used = await client.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-00000001'] }] })
    )
    expect(used.NetworkInterfaces).toEqual([])
    await client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-00000001' }))
    expect(s.fleet.securityGroups(R).some((g) => g.groupId === 'sg-00000001')).toBe(false)
  })
})
