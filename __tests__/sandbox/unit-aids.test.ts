/** What the orphan unit tests need from the sandbox: no CreateTime, short pages, ignored filters, faults matched by parameters. */
import {
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  paginateDescribeSecurityGroups
} from '@aws-sdk/client-ec2'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2, errorOf } from './sdk.js'

const R = 'us-east-1'
let s: Sandbox

beforeAll(async () => {
  s = await startSandbox({
    pageSize: 2,
    fleet: {
      [R]: {
        keyPairs: [
          { keyName: 'packer_imported', keyPairId: 'key-00000001', createTime: null },
          { keyName: 'packer_new', keyPairId: 'key-00000002', age: '1h' }
        ],
        securityGroups: [1, 2, 3, 4, 5].map((n) => ({
          groupId: `sg-0000000${n}`,
          groupName: `packer_${n}`,
          description: n === 5 ? 'other' : 'Packer'
        })),
        launchTemplates: [
          { launchTemplateId: 'lt-00000001', launchTemplateName: 'packer-fleet-launch-template-x', createTime: null }
        ]
      }
    }
  })
})
afterAll(() => s.close())

describe('createTime: null', () => {
  it('answers a key pair and a launch template without CreateTime', async () => {
    const keys = await ec2(s).send(new DescribeKeyPairsCommand({}))
    expect(keys.KeyPairs?.[0]).not.toHaveProperty('CreateTime')
    expect(keys.KeyPairs?.[1]?.CreateTime).toBeInstanceOf(Date)
    const templates = await ec2(s).send(new DescribeLaunchTemplatesCommand({}))
    expect(templates.LaunchTemplates?.[0]).toMatchObject({ LaunchTemplateId: 'lt-00000001' })
    expect(templates.LaunchTemplates?.[0]).not.toHaveProperty('CreateTime')
  })
})

describe('pageSize', () => {
  it('cuts every page at pageSize whatever MaxResults asks, with a NextToken to the rest', async () => {
    const pages = []
    for await (const page of paginateDescribeSecurityGroups({ client: ec2(s) }, { MaxResults: 1000 }))
      pages.push(page.SecurityGroups?.map((g) => g.GroupId))
    expect(pages).toEqual([['sg-00000001', 'sg-00000002'], ['sg-00000003', 'sg-00000004'], ['sg-00000005']])
  })
})

describe('faults.ignoreFilters', () => {
  it('answers as if the matching calls had no filters, for count calls, and records the filters as sent', async () => {
    s.faults.ignoreFilters({ action: 'DescribeKeyPairs', count: 1 })
    const filters = [{ Name: 'key-name', Values: ['nothing*'] }]
    expect((await ec2(s).send(new DescribeKeyPairsCommand({ Filters: filters }))).KeyPairs).toHaveLength(2)
    expect((await ec2(s).send(new DescribeKeyPairsCommand({ Filters: filters }))).KeyPairs).toEqual([])
    expect(s.callsOf('DescribeKeyPairs').at(-2)?.params).toMatchObject({
      'Filter.1.Name': 'key-name',
      'Filter.1.Value.1': 'nothing*'
    })
    s.faults.clear()
  })
})

describe('fault params', () => {
  it('applies a fault only to calls carrying the given parameters', async () => {
    s.faults.fail({
      action: 'DescribeSecurityGroups',
      params: { 'Filter.1.Name': 'description' },
      code: 'Throttling',
      message: 'slow down'
    })
    const other = await ec2(s).send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['packer_5'] }] })
    )
    expect(other.SecurityGroups?.map((g) => g.GroupId)).toEqual(['sg-00000005'])
    const failed = await errorOf(
      ec2(s).send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'description', Values: ['other'] }] }))
    )
    expect(failed).toMatchObject({ name: 'Throttling', message: 'slow down' })
    s.faults.clear()
  })
})
