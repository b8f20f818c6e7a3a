/**
 * Hostile names round-trip through the real SDK: what the client parses is exactly what was
 * seeded (CR, LF, CRLF, workflow commands, 10 KB), in instances, key pairs, security groups,
 * launch templates and error messages. The one normalisation the SDK's XML parser applies to
 * escaped text is pinned here, and so is what it would do to raw line breaks.
 */
import {
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  TerminateInstancesCommand,
  type Tag
} from '@aws-sdk/client-ec2'
import { PublishCommand } from '@aws-sdk/client-sns'
import { parseXML } from '@aws-sdk/xml-builder'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import {
  HOSTILE,
  HOSTILE_MESSAGE,
  HOSTILE_TAG_KEY,
  NAME_KINDS,
  hostileFleet,
  hostileGroupName,
  hostileKeyName,
  hostileTags,
  hostileTemplateName
} from '../../__fixtures__/hostile-fleet.js'
import { DEFAULT_TOPIC_ARN, startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2, errorOf, sns } from './sdk.js'

let s: Sandbox
beforeEach(async () => {
  s = await startSandbox({ fleet: hostileFleet('us-east-1') })
})
afterEach(() => s.close())

const tagsOf = (tags: Tag[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]))

describe('hostile names round-trip exactly', () => {
  it('instances: key names still match packer_*, tags come back byte for byte', async () => {
    const out = await ec2(s).send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'key-name', Values: ['packer_*'] }] })
    )
    const found = (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])
    expect(found).toHaveLength(NAME_KINDS.length + 1)
    for (const kind of NAME_KINDS) {
      const seeded = s.fleet.byRef(`hostile-${kind}`)
      const parsed = found.find((i) => i.InstanceId === seeded.id)
      expect(parsed?.KeyName).toBe(hostileKeyName(kind))
      expect(tagsOf(parsed?.Tags)).toEqual(hostileTags(kind))
    }
    const huge = found.find((i) => i.InstanceId === s.fleet.byRef('hostile-huge').id)
    expect(tagsOf(huge?.Tags)[HOSTILE_TAG_KEY]).toBe(HOSTILE.huge)
    expect(HOSTILE.huge.length).toBeGreaterThanOrEqual(10_000)
  })

  it('key pairs, security groups and launch templates: names and tags', async () => {
    const keys = await ec2(s).send(
      new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: ['packer_*'] }] })
    )
    const groups = await ec2(s).send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: ['packer_*'] },
          { Name: 'description', Values: ['Temporary group for Packer'] }
        ]
      })
    )
    const templates = await ec2(s).send(
      new DescribeLaunchTemplatesCommand({
        Filters: [{ Name: 'launch-template-name', Values: ['packer-fleet-launch-template-*'] }]
      })
    )
    for (const kind of NAME_KINDS) {
      expect(tagsOf(keys.KeyPairs?.find((k) => k.KeyName === hostileKeyName(kind))?.Tags)).toEqual(hostileTags(kind))
      expect(tagsOf(groups.SecurityGroups?.find((g) => g.GroupName === hostileGroupName(kind))?.Tags)).toEqual(
        hostileTags(kind)
      )
      expect(
        tagsOf(templates.LaunchTemplates?.find((t) => t.LaunchTemplateName === hostileTemplateName(kind))?.Tags)
      ).toEqual(hostileTags(kind))
    }
    expect(keys.KeyPairs).toHaveLength(NAME_KINDS.length)
    expect(groups.SecurityGroups).toHaveLength(NAME_KINDS.length + 1)
    expect(templates.LaunchTemplates).toHaveLength(NAME_KINDS.length)
  })

  it('error messages, in the EC2 and the awsQuery envelope', async () => {
    s.faults.fail({ action: 'TerminateInstances', code: 'InternalError', message: HOSTILE_MESSAGE, status: 500 })
    s.faults.fail({ action: 'Publish', code: 'InternalError', message: HOSTILE_MESSAGE, status: 500 })
    const id = s.fleet.byRef('hostile-lf').id
    expect(await errorOf(ec2(s).send(new TerminateInstancesCommand({ InstanceIds: [id] })))).toEqual({
      name: 'InternalError',
      message: HOSTILE_MESSAGE,
      status: 500
    })
    // SNS models InternalError, so the SDK names it InternalErrorException.
    expect(await errorOf(sns(s).send(new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Message: 'x' })))).toEqual({
      name: 'InternalErrorException',
      message: HOSTILE_MESSAGE,
      status: 500
    })
  })
})

describe('what the SDK’s XML parser normalises', () => {
  it('escaped text: only a whitespace-only value with a line feed, which becomes empty', async () => {
    s.fleet.seed({
      'us-east-1': { keyPairs: [{ keyName: 'packer_ws', tags: { lf: '\n', crlf: ' \r\n ', cr: '\r', tab: '\t' } }] }
    })
    const keys = await ec2(s).send(new DescribeKeyPairsCommand({ KeyNames: ['packer_ws'] }))
    expect(tagsOf(keys.KeyPairs?.[0]?.Tags)).toEqual({ lf: '', crlf: '', cr: '\r', tab: '\t' })
  })

  it('raw line breaks (a server that does not escape them): CR and CRLF arrive as LF', () => {
    expect(parseXML('<a><b>x\ry\r\nz\n</b></a>')).toEqual({ a: { b: 'x\ny\nz\n' } })
    expect(parseXML('<a><b>x&#xD;y&#xD;&#xA;z&#10;</b></a>')).toEqual({ a: { b: 'x\ry\r\nz\n' } })
  })
})
