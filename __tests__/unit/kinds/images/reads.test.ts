import { describe, expect, it } from '@jest/globals'
import {
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  type DescribeImagesCommandInput,
  type Image
} from '@aws-sdk/client-ec2'
import { candidateIds, completeImages, findImages, type FoundImage } from '../../../../src/kinds/images/reads.js'
import { deregisterImage, snapshotWords } from '../../../../src/kinds/images/deregister.js'
import { DescribeError } from '../../../../src/aws/describe-error.js'
import { ec2Error, useMockedEc2 } from '../../../../__fixtures__/support.js'

const ec2 = useMockedEc2()
const builder = (n: number) => `i-${n.toString(16).padStart(17, '0')}`
const ami = (n: number) => `ami-${n.toString(16).padStart(17, '0')}`
const snap = (n: number) => `snap-${n.toString(16).padStart(17, '0')}`

const imagesCalls = () => ec2.mock.commandCalls(DescribeImagesCommand).map((call) => call.args[0].input)
const filterOf = (input: DescribeImagesCommandInput, name: string) => input.Filters?.find((f) => f.Name === name)

function image(n: number, patch: Partial<Image> = {}): Image {
  return {
    ImageId: ami(n),
    Name: `web-${n}`,
    State: 'available',
    CreationDate: '2026-03-01T09:00:00.000Z',
    Public: false,
    DeregistrationProtection: 'disabled',
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap(n), VolumeSize: 30 } }],
    ...patch
  }
}

describe('findImages', () => {
  it('asks for the account’s images by source-instance-id, 200 values a call, 1,000 a page', async () => {
    ec2.mock.on(DescribeImagesCommand).resolves({ Images: [] })
    const builderIds = new Set(Array.from({ length: 450 }, (_, n) => builder(n + 1)))
    await findImages(ec2.client(), { builderIds, tags: [], isListed: () => true })
    const calls = imagesCalls()
    expect(calls).toHaveLength(3)
    expect(calls.map((c) => filterOf(c, 'source-instance-id')?.Values?.length)).toEqual([200, 200, 50])
    for (const call of calls) expect(call).toMatchObject({ Owners: ['self'], MaxResults: 1000 })
    expect(new Set(calls.flatMap((c) => filterOf(c, 'source-instance-id')?.Values ?? []))).toEqual(builderIds)
  })

  it('makes no call with no builder and no tags', async () => {
    expect(await findImages(ec2.client(), { builderIds: new Set(), tags: [], isListed: () => true })).toEqual([])
    expect(imagesCalls()).toHaveLength(0)
  })

  it('adds one read by the tags lines, and keeps only what the rule takes', async () => {
    ec2.mock
      .on(DescribeImagesCommand, { Filters: [{ Name: 'source-instance-id', Values: [builder(1)] }] })
      .resolves({ Images: [image(1, { SourceInstanceId: builder(1) })] })
      .on(DescribeImagesCommand, { Filters: [{ Name: 'tag:run', Values: ['42'] }] })
      .resolves({
        Images: [
          image(2, { SourceInstanceId: builder(2), Tags: [{ Key: 'run', Value: '42' }] }),
          image(3, { SourceInstanceId: builder(3), Tags: [{ Key: 'run', Value: '42' }] }),
          // An endpoint's loose filter: the tag is not there.
          image(4, { SourceInstanceId: builder(4) })
        ]
      })
    const found = await findImages(ec2.client(), {
      builderIds: new Set([builder(1)]),
      tags: [{ key: 'run', value: '42' }],
      isListed: (id) => id === builder(3)
    })
    expect(found.map((f) => [f.image.ImageId, f.origin])).toEqual([
      [ami(1), 'builder'],
      [ami(2), 'tags']
    ])
    expect(imagesCalls()).toHaveLength(2)
  })

  it('names ec2:DescribeImages when it is refused', async () => {
    ec2.mock.on(DescribeImagesCommand).rejects(ec2Error('UnauthorizedOperation'))
    const read = findImages(ec2.client(), { builderIds: new Set([builder(1)]), tags: [], isListed: () => true })
    await expect(read).rejects.toBeInstanceOf(DescribeError)
    await expect(read).rejects.toMatchObject({ info: { missingPermission: 'ec2:DescribeImages' } })
  })
})

describe('completeImages', () => {
  const found = (n: number, patch: Partial<Image> = {}): FoundImage => ({
    image: image(n, { SourceInstanceId: builder(n), ...patch }),
    origin: 'builder'
  })

  it('reads launch permissions, snapshots and their other users, and the copies, in parallel', async () => {
    ec2.mock
      .on(DescribeImageAttributeCommand, { ImageId: ami(1) })
      .resolves({ LaunchPermissions: [{ UserId: '210987654321' }] })
      .on(DescribeImageAttributeCommand, { ImageId: ami(2) })
      .resolves({ LaunchPermissions: [{ Group: 'all' }] })
      .on(DescribeSnapshotsCommand)
      .resolves({
        Snapshots: [
          { SnapshotId: snap(1), VolumeSize: 40, Tags: [{ Key: 'packer-sweeper:keep', Value: '' }] },
          { SnapshotId: snap(2), VolumeSize: 8 }
        ]
      })
      .on(DescribeImagesCommand, {
        Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: [snap(1), snap(2)] }]
      })
      .resolves({ Images: [image(1), image(9, { BlockDeviceMappings: [{ Ebs: { SnapshotId: snap(2) } }] })] })
      .on(DescribeImagesCommand, { Filters: [{ Name: 'source-image-id', Values: [ami(7)] }] })
      .resolves({ Images: [] })
    const records = await completeImages(
      ec2.client(),
      'eu-west-1',
      [found(1), found(2)],
      new Map([
        ['eu-west-1', new Set([ami(1), ami(2)])],
        ['us-east-1', new Set([ami(7)])]
      ])
    )
    expect(records).toEqual([
      expect.objectContaining({
        id: ami(1),
        region: 'eu-west-1',
        public: false,
        sharedWith: ['210987654321'],
        deregistrationProtection: 'disabled',
        createdAt: new Date('2026-03-01T09:00:00.000Z'),
        snapshots: [{ id: snap(1), tags: new Map([['packer-sweeper:keep', '']]), sizeGiB: 40, alsoUsedBy: [] }]
      }),
      expect.objectContaining({
        id: ami(2),
        public: true,
        sharedWith: [],
        snapshots: [{ id: snap(2), tags: new Map(), sizeGiB: 8, alsoUsedBy: [ami(9)] }]
      })
    ])
    expect(ec2.mock.commandCalls(DescribeSnapshotsCommand).map((c) => c.args[0].input)).toEqual([
      { OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: [snap(1), snap(2)] }], MaxResults: 1000 }
    ])
    expect(ec2.mock.commandCalls(DescribeImageAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { ImageId: ami(1), Attribute: 'launchPermission' },
      { ImageId: ami(2), Attribute: 'launchPermission' }
    ])
  })

  it('sends the copies, launch permissions, snapshots and snapshot users reads all at once: one round trip', async () => {
    // Each answer waits until all four reads were sent: reads sent one after another never finish.
    let arrived = 0
    let release = () => {}
    const barrier = new Promise<void>((resolve) => (release = resolve))
    const all = async <T>(answer: T): Promise<T> => {
      if (++arrived === 4) release()
      await barrier
      return answer
    }
    ec2.mock
      .on(DescribeImageAttributeCommand)
      .callsFake(() => all({ LaunchPermissions: [] }))
      .on(DescribeSnapshotsCommand)
      .callsFake(() => all({ Snapshots: [] }))
      .on(DescribeImagesCommand)
      .callsFake(() => all({ Images: [] }))
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the reads ran one after another')), 1000)
    )
    const records = await Promise.race([
      completeImages(ec2.client(), 'eu-west-1', [found(1)], new Map([['us-east-1', new Set([ami(7)])]])),
      timeout
    ])
    expect(records).toHaveLength(1)
    expect(arrived).toBe(4)
  })

  it('takes the copies of the other regions’ candidates, 200 IDs a call, and reads them too', async () => {
    const elsewhere = Array.from({ length: 201 }, (_, n) => ami(1000 + n))
    ec2.mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [] })
      .on(DescribeImagesCommand, { Filters: [{ Name: 'source-image-id', Values: elsewhere.slice(200) }] })
      .resolves({
        Images: [
          image(5, { SourceImageId: elsewhere[200], SourceImageRegion: 'us-east-1' }),
          // Same ID named from a region where it is no candidate: not a copy of one.
          image(6, { SourceImageId: elsewhere[200], SourceImageRegion: 'eu-central-1' })
        ]
      })
      .on(DescribeImageAttributeCommand)
      .resolves({ LaunchPermissions: [] })
      .on(DescribeSnapshotsCommand)
      .resolves({ Snapshots: [] })
    const records = await completeImages(ec2.client(), 'eu-west-1', [], new Map([['us-east-1', new Set(elsewhere)]]))
    expect(records.map((r) => [r.id, r.origin, r.sourceImageId])).toEqual([[ami(5), 'copy', elsewhere[200]]])
    const copyReads = imagesCalls().filter((c) => filterOf(c, 'source-image-id'))
    expect(copyReads.map((c) => filterOf(c, 'source-image-id')?.Values?.length)).toEqual([200, 1])
    for (const call of copyReads) expect(call.Owners).toEqual(['self'])
  })

  it('keeps launch permissions unknown for an image gone meanwhile, and fails on a refusal', async () => {
    ec2.mock
      .on(DescribeImagesCommand)
      .resolves({ Images: [] })
      .on(DescribeSnapshotsCommand)
      .resolves({ Snapshots: [] })
      .on(DescribeImageAttributeCommand)
      .rejects(ec2Error('InvalidAMIID.Unavailable'))
    const [record] = await completeImages(ec2.client(), 'eu-west-1', [found(1)], new Map())
    expect(record?.sharedWith).toBeUndefined()
    ec2.mock.on(DescribeImageAttributeCommand).rejects(ec2Error('UnauthorizedOperation'))
    await expect(completeImages(ec2.client(), 'eu-west-1', [found(1)], new Map())).rejects.toMatchObject({
      info: { missingPermission: 'ec2:DescribeImageAttribute' }
    })
  })

  it('makes no call with nothing found and no other region', async () => {
    expect(await completeImages(ec2.client(), 'eu-west-1', [], new Map([['eu-west-1', new Set()]]))).toEqual([])
    expect(ec2.mock.calls()).toHaveLength(0)
  })
})

describe('candidateIds', () => {
  it('maps each region to its candidates’ IDs', () => {
    expect(candidateIds(new Map([['eu-west-1', [{ image: image(1), origin: 'builder' as const }]]]))).toEqual(
      new Map([['eu-west-1', new Set([ami(1)])]])
    )
  })
})

describe('deregisterImage', () => {
  it('deregisters with the associated snapshots and returns each snapshot’s result', async () => {
    ec2.mock.on(DeregisterImageCommand).resolves({
      Return: true,
      DeleteSnapshotResults: [
        { SnapshotId: snap(1), ReturnCode: 'success' },
        { SnapshotId: snap(2), ReturnCode: 'skipped' },
        { SnapshotId: snap(3), ReturnCode: 'missing-permissions' }
      ]
    })
    const results = await deregisterImage(ec2.client(), ami(1), false)
    expect(ec2.mock.commandCalls(DeregisterImageCommand)[0]?.args[0].input).toEqual({
      ImageId: ami(1),
      DeleteAssociatedSnapshots: true,
      DryRun: false
    })
    expect(snapshotWords(results)).toEqual([
      `snapshot ${snap(1)} deleted`,
      `snapshot ${snap(2)} kept: another image uses it`,
      `snapshot ${snap(3)} kept: missing-permissions`
    ])
  })
})
