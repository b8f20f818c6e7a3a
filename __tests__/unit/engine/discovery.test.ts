import { describe, expect, it } from '@jest/globals'
import { DescribeInstancesCommand, type Instance, type _InstanceType } from '@aws-sdk/client-ec2'
import 'aws-sdk-client-mock-jest'
import { DESCRIBE_PAGE_SIZE } from '../../../src/aws/batches.js'
import { discoverInstances, instanceFilters, instanceMatcher, toRecord } from '../../../src/engine/discovery.js'
import { tagMap } from '../../../src/model/aws-data.js'
import type { Inputs } from '../../../src/model/types.js'
import { defaultInputs, instanceId, NOW, useMockedEc2 } from '../../../__fixtures__/support.js'

const HOURS_AGO = (hours: number): Date => new Date(NOW.getTime() - hours * 3600_000)
/** action.yml's default key-name: the shape of Packer's temporary key, packer_<uuid>. */
const PACKER_KEYS = 'packer_????????-????-????-????-????????????'

/** An instance as DescribeInstances returns it, with the fields a real answer carries. */
function instance(n: number, overrides: Partial<Instance> = {}): Instance {
  return {
    InstanceId: instanceId(n),
    KeyName: `packer_6745a1b2-0000-0000-0000-${String(n).padStart(12, '0')}`,
    LaunchTime: HOURS_AGO(5),
    State: { Code: 16, Name: 'running' },
    InstanceType: 't3.micro' as _InstanceType,
    ImageId: 'ami-0123456789abcdef0',
    PrivateIpAddress: '10.0.0.1',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-0123456789abcdef0', Status: 'attached' } }],
    SecurityGroups: [{ GroupId: 'sg-0123456789abcdef0', GroupName: 'packer_6745a1b2' }],
    Tags: [],
    ...overrides
  }
}

const page = (instances: Instance[], NextToken?: string) => ({
  Reservations: [{ ReservationId: 'r-0123456789abcdef0', Instances: instances }],
  ...(NextToken ? { NextToken } : {})
})

const ec2 = useMockedEc2()
const ec2Mock = ec2.mock

describe('instanceFilters', () => {
  it.each<[string, Partial<Inputs>, unknown[]]>([
    [
      'defaults: key-name and the four states',
      {},
      [
        { Name: 'key-name', Values: [PACKER_KEYS] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }
      ]
    ],
    [
      'several key-name patterns in one filter (ORed)',
      { 'key-name': ['packer_*', 'ci-builder-?'], 'instance-states': ['running'] },
      [
        { Name: 'key-name', Values: ['packer_*', 'ci-builder-?'] },
        { Name: 'instance-state-name', Values: ['running'] }
      ]
    ],
    [
      'one filter per tag (ANDed)',
      {
        tags: [
          { key: 'github-run-id', value: '1234' },
          { key: 'team', value: 'plat*' }
        ]
      },
      [
        { Name: 'key-name', Values: [PACKER_KEYS] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        { Name: 'tag:github-run-id', Values: ['1234'] },
        { Name: 'tag:team', Values: ['plat*'] }
      ]
    ],
    [
      'no key-name filter at all when key-name is empty',
      { 'key-name': [], tags: [{ key: 'github-run-id', value: '1234' }], 'instance-states': ['stopped'] },
      [
        { Name: 'instance-state-name', Values: ['stopped'] },
        { Name: 'tag:github-run-id', Values: ['1234'] }
      ]
    ]
  ])('%s', (_title, overrides, expected) => {
    expect(instanceFilters(defaultInputs(overrides))).toEqual(expected)
  })

  it('copies the values: changing the filters does not change the inputs', () => {
    const inputs = defaultInputs()
    const filters = instanceFilters(inputs)
    filters[0]?.Values?.push('other')
    expect(inputs['key-name']).toEqual([PACKER_KEYS])
  })
})

describe('tagMap', () => {
  it.each([
    [undefined, []],
    [[], []],
    [[{ Key: 'Name', Value: 'builder' }], [['Name', 'builder']]],
    [[{ Key: 'empty' }], [['empty', '']]],
    [[{ Value: 'no key' }], []],
    [
      [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' }
      ],
      [
        ['a', '1'],
        ['b', '2']
      ]
    ]
  ])('%j → %j', (tags, expected) => {
    expect([...tagMap(tags)]).toEqual(expected)
  })
})

describe('instanceMatcher: the filters checked again client-side', () => {
  const matches = (overrides: Partial<Inputs>, found: Instance): boolean =>
    instanceMatcher(defaultInputs(overrides))(found, tagMap(found.Tags))

  it.each<[string, Partial<Inputs>, Instance, boolean]>([
    ['a Packer builder', {}, instance(1), true],
    ['another key name', {}, instance(1, { KeyName: 'prod-web' }), false],
    ['no key pair at all', {}, instance(1, { KeyName: undefined }), false],
    ['key name differs in case', {}, instance(1, { KeyName: 'Packer_1' }), false],
    ['a state not asked for', {}, instance(1, { State: { Name: 'terminated' } }), false],
    ['shutting-down', {}, instance(1, { State: { Name: 'shutting-down' } }), false],
    ['no state', {}, instance(1, { State: undefined }), false],
    [
      'stopped when only running is asked for',
      { 'instance-states': ['running'] },
      instance(1, { State: { Name: 'stopped' } }),
      false
    ],
    [
      'stopped when stopped is asked for',
      { 'instance-states': ['stopped'] },
      instance(1, { State: { Name: 'stopped' } }),
      true
    ],
    [
      'empty key-name: any key pair, tags decide',
      { 'key-name': [], tags: [{ key: 'github-run-id', value: '1234' }] },
      instance(1, { KeyName: undefined, Tags: [{ Key: 'github-run-id', Value: '1234' }] }),
      true
    ],
    [
      'tags: one of two missing',
      {
        tags: [
          { key: 'github-run-id', value: '1234' },
          { key: 'team', value: '*' }
        ]
      },
      instance(1, { Tags: [{ Key: 'github-run-id', Value: '1234' }] }),
      false
    ],
    [
      'tags: wrong value',
      { tags: [{ key: 'github-run-id', value: '1234' }] },
      instance(1, { Tags: [{ Key: 'github-run-id', Value: '12345' }] }),
      false
    ],
    [
      'tags: wildcard value',
      { tags: [{ key: 'github-run-id', value: '12*' }] },
      instance(1, { Tags: [{ Key: 'github-run-id', Value: '12345' }] }),
      true
    ]
  ])('%s: %s', (_title, overrides, found, expected) => {
    expect(matches(overrides, found)).toBe(expected)
  })
})

describe('toRecord', () => {
  it('keeps only what decisions and the report need', () => {
    const found = instance(7, {
      KeyName: 'packer_abc',
      LaunchTime: new Date('2026-03-01T07:00:00Z'),
      State: { Code: 80, Name: 'stopped' },
      InstanceLifecycle: 'spot',
      Placement: { AvailabilityZone: 'eu-west-1c' },
      SecurityGroups: [{ GroupId: 'sg-1' }, { GroupName: 'no id' }, { GroupId: 'sg-2' }],
      Tags: [
        { Key: 'Name', Value: 'Packer Builder' },
        { Key: 'packer-sweeper:keep', Value: '' }
      ]
    })
    expect(toRecord(found, 'eu-west-1', tagMap(found.Tags), ['packer-sweeper:keep'])).toStrictEqual({
      id: instanceId(7),
      region: 'eu-west-1',
      keyName: 'packer_abc',
      name: 'Packer Builder',
      launchTime: '2026-03-01T07:00:00.000Z',
      state: 'stopped',
      excludedBy: 'packer-sweeper:keep',
      instanceType: 't3.micro',
      lifecycle: 'spot',
      availabilityZone: 'eu-west-1c',
      imageId: 'ami-0123456789abcdef0',
      devices: [{ deviceName: '/dev/xvda', volumeId: 'vol-0123456789abcdef0', deleteOnTermination: false }]
    })
  })

  it('leaves out what is absent instead of writing undefined', () => {
    const found = instance(1, {
      KeyName: undefined,
      SecurityGroups: [],
      Tags: [{ Key: 'Name', Value: '' }],
      ImageId: undefined,
      BlockDeviceMappings: []
    })
    const result = toRecord(found, 'us-east-1', tagMap(found.Tags), ['packer-sweeper:keep'])
    expect(result).toStrictEqual({
      id: instanceId(1),
      region: 'us-east-1',
      launchTime: HOURS_AGO(5).toISOString(),
      state: 'running',
      instanceType: 't3.micro'
    })
  })

  it.each([
    ['no instance ID', { InstanceId: undefined }],
    ['no launch time', { LaunchTime: undefined }]
  ])('%s: no record', (_title, overrides) => {
    const found = instance(1, overrides)
    expect(toRecord(found, 'us-east-1', tagMap(found.Tags), ['packer-sweeper:keep'])).toBeUndefined()
  })

  it.each([
    ['the exclude tag key, any value', [{ Key: 'packer-sweeper:keep', Value: 'yes' }], 'packer-sweeper:keep'],
    ['the exclude tag key, empty value', [{ Key: 'packer-sweeper:keep', Value: '' }], 'packer-sweeper:keep'],
    ['the key in another case', [{ Key: 'Packer-Sweeper:Keep', Value: 'yes' }], undefined],
    ['only as a value', [{ Key: 'note', Value: 'packer-sweeper:keep' }], undefined],
    ['the key with a suffix', [{ Key: 'packer-sweeper:keep=true', Value: '' }], undefined]
  ])('excluded when it carries %s: %s', (_title, tags, expected) => {
    const found = instance(1, { Tags: tags })
    expect(toRecord(found, 'us-east-1', tagMap(found.Tags), ['packer-sweeper:keep'])?.excludedBy).toBe(expected)
  })

  it.each([
    ['the second key only', [{ Key: 'do-not-delete', Value: 'true' }], 'do-not-delete'],
    [
      'both keys: the first listed',
      [
        { Key: 'do-not-delete', Value: '' },
        { Key: 'packer-sweeper:keep', Value: '' }
      ],
      'packer-sweeper:keep'
    ],
    ['neither', [{ Key: 'keep', Value: '' }], undefined]
  ])('with several exclude-tag keys, any of them excludes: %s → %s', (_title, tags, expected) => {
    const found = instance(1, { Tags: tags })
    expect(toRecord(found, 'us-east-1', tagMap(found.Tags), ['packer-sweeper:keep', 'do-not-delete'])?.excludedBy).toBe(
      expected
    )
  })
})

describe('discoverInstances', () => {
  it('sends the server-side filters with MaxResults 1000', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(page([]))
    const inputs = defaultInputs({ tags: [{ key: 'github-run-id', value: '1234' }] })
    await discoverInstances(ec2.client(), 'us-east-1', inputs, NOW)
    expect(DESCRIBE_PAGE_SIZE).toBe(1000)
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      MaxResults: 1000,
      Filters: [
        { Name: 'key-name', Values: [PACKER_KEYS] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        { Name: 'tag:github-run-id', Values: ['1234'] }
      ]
    })
    const sent = ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input
    expect(sent).not.toHaveProperty('InstanceIds')
  })

  it('follows NextToken across every page', async () => {
    // The paginator reuses its input object, so the tokens are captured as each call is made.
    const pages = [
      page([instance(1), instance(2)], 'token-1'),
      page([instance(3)], 'token-2'),
      page([], 'token-3'),
      page([instance(4)])
    ]
    const sent: { NextToken?: string; MaxResults?: number }[] = []
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) => {
      sent.push({ ...input })
      return pages[sent.length - 1] ?? page([instance(99)])
    })
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 4)
    expect(sent.map((input) => input.NextToken)).toEqual([undefined, 'token-1', 'token-2', 'token-3'])
    expect(sent.map((input) => input.MaxResults)).toEqual([1000, 1000, 1000, 1000])
    expect(result.stale.map((found) => found.id)).toEqual([1, 2, 3, 4].map(instanceId))
    expect(result.matched).toBe(4)
  })

  it('sends the same filters with every page', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce(page([instance(1)], 'token-1'))
      .resolvesOnce(page([instance(2)]))
    const inputs = defaultInputs({ 'instance-states': ['stopped'], tags: [{ key: 'team', value: 'x' }] })
    await discoverInstances(ec2.client(), 'us-east-1', inputs, NOW)
    for (const call of ec2Mock.commandCalls(DescribeInstancesCommand)) {
      expect(call.args[0].input.Filters).toEqual(instanceFilters(inputs))
    }
  })

  it('reads every reservation of a page', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance(1), instance(2)] }, { Instances: [instance(3)] }, {}, { Instances: [] }]
    })
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)
    expect(result.stale.map((found) => found.id)).toEqual([1, 2, 3].map(instanceId))
  })

  it('an empty region: nothing found, one call', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({})
    await expect(discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)).resolves.toEqual({
      stale: [],
      matched: 0,
      fresh: 0,
      ignored: 0
    })
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
  })

  it('keeps only stale instances and counts the fresh ones', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(
      page([
        instance(1, { LaunchTime: HOURS_AGO(3) }),
        instance(2, { LaunchTime: HOURS_AGO(1) }),
        instance(3, { LaunchTime: new Date(NOW.getTime() - 7200_000) }), // exactly max-age: not stale
        instance(4, { LaunchTime: new Date(NOW.getTime() - 7201_000) }), // one second over
        instance(5, { LaunchTime: new Date(NOW.getTime() + 60_000) }) // clock skew: fresh
      ])
    )
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs({ 'max-age': 7200 }), NOW)
    expect(result.stale.map((found) => found.id)).toEqual([instanceId(1), instanceId(4)])
    expect(result).toMatchObject({ matched: 5, fresh: 3, ignored: 0 })
  })

  it('max-age 0 takes every matching instance, even one launched now', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(page([instance(1, { LaunchTime: NOW }), instance(2, { LaunchTime: HOURS_AGO(100) })]))
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs({ 'max-age': 0 }), NOW)
    expect(result.stale).toHaveLength(2)
    expect(result).toMatchObject({ matched: 2, fresh: 0 })
  })

  it('marks excluded instances but keeps them, to report as skipped', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(
        page([
          instance(1, { Tags: [{ Key: 'packer-sweeper:keep', Value: 'debugging' }] }),
          instance(2, { Tags: [{ Key: 'other', Value: 'x' }] })
        ])
      )
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)
    expect(result.stale.map((found) => [found.id, found.excludedBy])).toEqual([
      [instanceId(1), 'packer-sweeper:keep'],
      [instanceId(2), undefined]
    ])
  })

  it('uses the exclude-tag input', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(
        page([
          instance(1, { Tags: [{ Key: 'packer-sweeper:keep', Value: '' }] }),
          instance(2, { Tags: [{ Key: 'do-not-touch', Value: '' }] })
        ])
      )
    const result = await discoverInstances(
      ec2.client(),
      'us-east-1',
      defaultInputs({ 'exclude-tag': ['do-not-touch'] }),
      NOW
    )
    expect(result.stale.map((found) => found.excludedBy)).toEqual([undefined, 'do-not-touch'])
  })

  it('honours every key of the exclude-tag input', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolves(
        page([
          instance(1, { Tags: [{ Key: 'packer-sweeper:keep', Value: '' }] }),
          instance(2, { Tags: [{ Key: 'do-not-delete', Value: 'true' }] }),
          instance(3, { Tags: [{ Key: 'other', Value: '' }] })
        ])
      )
    const result = await discoverInstances(
      ec2.client(),
      'us-east-1',
      defaultInputs({ 'exclude-tag': ['packer-sweeper:keep', 'do-not-delete'] }),
      NOW
    )
    expect(result.stale.map((found) => found.excludedBy)).toEqual(['packer-sweeper:keep', 'do-not-delete', undefined])
  })

  it('ignores what the endpoint should have filtered out', async () => {
    const inputs = defaultInputs({ tags: [{ key: 'github-run-id', value: '*' }] })
    const withTag = (found: Instance): Instance =>
      found.Tags?.length ? found : { ...found, Tags: [{ Key: 'github-run-id', Value: '1' }] }
    ec2Mock.on(DescribeInstancesCommand).resolves(
      page([
        withTag(instance(1)),
        withTag(instance(2, { KeyName: 'production-web' })),
        withTag(instance(3, { KeyName: undefined })),
        withTag(instance(4, { State: { Name: 'terminated' } })),
        withTag(instance(5, { State: { Name: 'shutting-down' } })),
        instance(6, { Tags: [{ Key: 'team', Value: 'x' }] }), // lacks the tag
        withTag(instance(7, { LaunchTime: undefined }))
      ])
    )
    const result = await discoverInstances(ec2.client(), 'us-east-1', inputs, NOW)
    expect(result.stale.map((found) => found.id)).toEqual([instanceId(1)])
    expect(result).toMatchObject({ matched: 1, fresh: 0, ignored: 6 })
  })

  it('records the region, the Name tag, the source image and the EBS devices, nothing else', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(
      page([
        instance(1, {
          LaunchTime: new Date('2026-03-01T06:00:00Z'),
          Tags: [
            { Key: 'Name', Value: 'Packer Builder' },
            { Key: 'github-run-id', Value: '1234' }
          ],
          SecurityGroups: [{ GroupId: 'sg-0aaaaaaaaaaaaaaaa', GroupName: 'packer_1' }]
        })
      ])
    )
    const result = await discoverInstances(ec2.client(), 'ap-southeast-7', defaultInputs(), NOW)
    expect(result.stale).toStrictEqual([
      {
        id: instanceId(1),
        region: 'ap-southeast-7',
        keyName: instance(1).KeyName,
        name: 'Packer Builder',
        launchTime: '2026-03-01T06:00:00.000Z',
        state: 'running',
        instanceType: 't3.micro',
        imageId: 'ami-0123456789abcdef0',
        devices: [{ deviceName: '/dev/xvda', volumeId: 'vol-0123456789abcdef0', deleteOnTermination: false }]
      }
    ])
  })

  it('keeps small records, not the SDK objects', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves(page(Array.from({ length: 1000 }, (_, i) => instance(i + 1))))
    const result = await discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)
    expect(result.stale).toHaveLength(1000)
    for (const found of result.stale) {
      expect(
        Object.keys(found).every((key) =>
          [
            'id',
            'region',
            'keyName',
            'name',
            'launchTime',
            'state',
            'excludedBy',
            'instanceType',
            'lifecycle',
            'availabilityZone',
            'imageId',
            'devices'
          ].includes(key)
        )
      ).toBe(true)
      // The devices as three plain fields each (the volumes kind's input), not the SDK's mapping objects.
      for (const device of found.devices ?? [])
        expect(Object.keys(device).sort()).toEqual(['deleteOnTermination', 'deviceName', 'volumeId'])
      expect(typeof found.launchTime).toBe('string')
    }
  })

  it('a failing page rejects with the SDK error', async () => {
    const denied = Object.assign(new Error('You are not authorized to perform this operation.'), {
      name: 'UnauthorizedOperation'
    })
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce(page([instance(1)], 'token-1'))
      .rejectsOnce(denied)
    await expect(discoverInstances(ec2.client(), 'us-east-1', defaultInputs(), NOW)).rejects.toThrow(
      'You are not authorized'
    )
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2)
  })
})
