import { devicesOf } from '../../../../src/engine/discovery.js'
import { describe, expect, it } from '@jest/globals'
import {
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type Volume,
  type VolumeState
} from '@aws-sdk/client-ec2'
import {
  deleteVolume,
  readImageMappings,
  readSnapshotKeys,
  readVolumes,
  readVolumesDetached,
  withSnapshotKeys,
  VOLUME_ALREADY_GONE_CODES,
  VOLUME_IN_USE_CODES
} from '../../../../src/kinds/volumes/reads.js'
import { DescribeError } from '../../../../src/aws/describe-error.js'
import { ec2Error, useMockedEc2 } from '../../../../__fixtures__/support.js'

const ec2 = useMockedEc2()

const amis = (count: number) => Array.from({ length: count }, (_, i) => `ami-${String(i).padStart(17, '0')}`)

describe('readImageMappings', () => {
  it('reads the source images by the image-id filter (a gone image is just absent), deprecated ones included, any owner', async () => {
    ec2.mock.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-1',
          BlockDeviceMappings: [
            {
              DeviceName: '/dev/xvda',
              Ebs: {
                DeleteOnTermination: true,
                SnapshotId: 'snap-1',
                VolumeSize: 8,
                VolumeType: 'gp3',
                Iops: 3000,
                Throughput: 125,
                Encrypted: false
              }
            },
            { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' },
            { DeviceName: '/dev/sdc', NoDevice: '' }
          ]
        }
      ]
    })
    const mappings = await readImageMappings(ec2.client(), ['ami-1', 'ami-gone', 'ami-1'])
    expect(mappings).toEqual(
      new Map([
        [
          'ami-1',
          [
            {
              deviceName: '/dev/xvda',
              deleteOnTermination: true,
              snapshotId: 'snap-1',
              sizeGiB: 8,
              volumeType: 'gp3',
              iops: 3000,
              throughput: 125,
              encrypted: false,
              kmsKeyId: undefined
            }
          ]
        ]
      ])
    )
    expect(mappings.has('ami-gone')).toBe(false)
    const calls = ec2.mock.commandCalls(DescribeImagesCommand)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.args[0].input).toEqual({
      Filters: [{ Name: 'image-id', Values: ['ami-1', 'ami-gone'] }],
      IncludeDeprecated: true,
      IncludeDisabled: true,
      MaxResults: 1000
    })
  })

  it('makes no call without images, and one per 200 images', async () => {
    ec2.mock.on(DescribeImagesCommand).resolves({ Images: [] })
    expect(await readImageMappings(ec2.client(), [])).toEqual(new Map())
    expect(ec2.mock.commandCalls(DescribeImagesCommand)).toHaveLength(0)
    await readImageMappings(ec2.client(), amis(201))
    const sizes = ec2.mock
      .commandCalls(DescribeImagesCommand)
      .map((call) => call.args[0].input.Filters?.[0]?.Values?.length)
    expect(sizes).toEqual([200, 1])
  })

  it('a refused read names ec2:DescribeImages', async () => {
    ec2.mock.on(DescribeImagesCommand).rejects(ec2Error('UnauthorizedOperation'))
    const error = await readImageMappings(ec2.client(), ['ami-1']).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(DescribeError)
    expect(error).toMatchObject({ info: { code: 'UnauthorizedOperation', missingPermission: 'ec2:DescribeImages' } })
  })
})

describe('readVolumes', () => {
  it('reads the volumes by the volume-id filter, a gone one just absent, with their tags', async () => {
    ec2.mock.on(DescribeVolumesCommand).resolves({
      Volumes: [
        {
          VolumeId: 'vol-1',
          State: 'available',
          AvailabilityZone: 'us-east-1a',
          CreateTime: new Date('2026-03-01T10:00:00Z'),
          SnapshotId: 'snap-1',
          Size: 20,
          VolumeType: 'gp3',
          Iops: 3000,
          Throughput: 125,
          Encrypted: true,
          KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
          Tags: [{ Key: 'Name', Value: 'Packer Builder' }]
        },
        { VolumeId: 'vol-2', State: 'in-use', SnapshotId: '', Size: 8, VolumeType: 'gp2', Iops: 100 }
      ]
    })
    const volumes = await readVolumes(ec2.client(), ['vol-1', 'vol-2', 'vol-gone'])
    expect(volumes.get('vol-1')).toEqual({
      id: 'vol-1',
      state: 'available',
      availabilityZone: 'us-east-1a',
      createTime: '2026-03-01T10:00:00.000Z',
      snapshotId: 'snap-1',
      sizeGiB: 20,
      volumeType: 'gp3',
      iops: 3000,
      throughput: 125,
      encrypted: true,
      kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
      tags: new Map([['Name', 'Packer Builder']])
    })
    // EC2 says '' for a volume made from no snapshot.
    expect(volumes.get('vol-2')).toMatchObject({ snapshotId: undefined, encrypted: false, tags: new Map() })
    expect(volumes.has('vol-gone')).toBe(false)
    expect(ec2.mock.commandCalls(DescribeVolumesCommand)[0]!.args[0].input).toEqual({
      Filters: [{ Name: 'volume-id', Values: ['vol-1', 'vol-2', 'vol-gone'] }],
      MaxResults: 500
    })
  })

  it('skips an entry without an ID, size or type rather than guess', async () => {
    ec2.mock.on(DescribeVolumesCommand).resolves({ Volumes: [{ State: 'available' }, { VolumeId: 'vol-1' }] })
    expect(await readVolumes(ec2.client(), ['vol-1'])).toEqual(new Map())
  })

  it('a refused read names ec2:DescribeVolumes', async () => {
    ec2.mock.on(DescribeVolumesCommand).rejects(ec2Error('UnauthorizedOperation'))
    await expect(readVolumes(ec2.client(), ['vol-1'])).rejects.toMatchObject({
      info: { missingPermission: 'ec2:DescribeVolumes' }
    })
  })
})

describe('readSnapshotKeys', () => {
  it("reads the mappings' snapshots by the snapshot-id filter, any owner, and keeps the encrypted ones' keys", async () => {
    ec2.mock.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        { SnapshotId: 'snap-1', Encrypted: true, KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' },
        { SnapshotId: 'snap-2', Encrypted: false }
      ]
    })
    expect(await readSnapshotKeys(ec2.client(), ['snap-1', 'snap-2', 'snap-gone'])).toEqual(
      new Map([['snap-1', 'arn:aws:kms:us-east-1:123456789012:key/k']])
    )
    expect(ec2.mock.commandCalls(DescribeSnapshotsCommand)[0]!.args[0].input).toEqual({
      Filters: [{ Name: 'snapshot-id', Values: ['snap-1', 'snap-2', 'snap-gone'] }],
      MaxResults: 1000
    })
  })

  it('a refused read names ec2:DescribeSnapshots', async () => {
    ec2.mock.on(DescribeSnapshotsCommand).rejects(ec2Error('UnauthorizedOperation'))
    await expect(readSnapshotKeys(ec2.client(), ['snap-1'])).rejects.toMatchObject({
      info: { missingPermission: 'ec2:DescribeSnapshots' }
    })
  })

  it('withSnapshotKeys gives each mapping its snapshot key', () => {
    const images = new Map([
      [
        'ami-1',
        [
          { deviceName: '/dev/xvda', snapshotId: 'snap-1', encrypted: true },
          { deviceName: '/dev/sdf', snapshotId: 'snap-2' },
          { deviceName: '/dev/sdg' }
        ]
      ]
    ])
    expect(withSnapshotKeys(images, new Map([['snap-1', 'key-1']]))).toEqual(
      new Map([
        [
          'ami-1',
          [
            { deviceName: '/dev/xvda', snapshotId: 'snap-1', encrypted: true, snapshotKmsKeyId: 'key-1' },
            { deviceName: '/dev/sdf', snapshotId: 'snap-2' },
            { deviceName: '/dev/sdg' }
          ]
        ]
      ])
    )
  })
})

describe('deleteVolume', () => {
  it('sends DeleteVolume with DryRun, and lets the error codes through for the engine', async () => {
    ec2.mock.on(DeleteVolumeCommand).resolves({})
    await deleteVolume(ec2.client(), 'vol-1', true)
    expect(ec2.mock.commandCalls(DeleteVolumeCommand)[0]!.args[0].input).toEqual({ VolumeId: 'vol-1', DryRun: true })
    ec2.mock.on(DeleteVolumeCommand).rejects(ec2Error('VolumeInUse'))
    await expect(deleteVolume(ec2.client(), 'vol-1', false)).rejects.toMatchObject({ name: 'VolumeInUse' })
    expect(VOLUME_IN_USE_CODES).toEqual(['VolumeInUse'])
    expect(VOLUME_ALREADY_GONE_CODES).toEqual(['InvalidVolume.NotFound'])
  })
})

describe('devicesOf', () => {
  it("takes an instance's EBS devices as DescribeInstances gives them, skipping entries without a volume", () => {
    expect(
      devicesOf({
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-r', DeleteOnTermination: true } },
          { DeviceName: '/dev/sdf', Ebs: { VolumeId: 'vol-d', DeleteOnTermination: false } },
          { DeviceName: '/dev/sdg', Ebs: { VolumeId: 'vol-u' } },
          { DeviceName: '/dev/sdh', Ebs: {} },
          { Ebs: { VolumeId: 'vol-x', DeleteOnTermination: false } }
        ]
      })
    ).toEqual([
      { deviceName: '/dev/xvda', volumeId: 'vol-r', deleteOnTermination: true },
      { deviceName: '/dev/sdf', volumeId: 'vol-d', deleteOnTermination: false },
      // Not said: taken as kept, so it is reported rather than ignored.
      { deviceName: '/dev/sdg', volumeId: 'vol-u', deleteOnTermination: false }
    ])
  })
})

describe('readVolumesDetached', () => {
  const QUICK = { maxWaitSeconds: 3, minDelaySeconds: 1, maxDelaySeconds: 1 }
  const volume = (state: VolumeState): Volume => ({ VolumeId: 'vol-1', State: state, Size: 20, VolumeType: 'gp3' })

  it('reads once when the volumes are already detached', async () => {
    ec2.mock.on(DescribeVolumesCommand).resolves({ Volumes: [volume('available')] })
    const read = await readVolumesDetached(ec2.client(), ['vol-1'], ['vol-1'], QUICK)
    expect(read.get('vol-1')?.state).toBe('available')
    expect(ec2.mock.commandCalls(DescribeVolumesCommand)).toHaveLength(1)
  })

  it('reads again while EC2 still shows a kept volume in-use after its instance terminated, until it is available', async () => {
    ec2.mock
      .on(DescribeVolumesCommand)
      .resolvesOnce({ Volumes: [volume('in-use')] })
      .resolvesOnce({ Volumes: [volume('in-use')] })
      .resolves({ Volumes: [volume('available')] })
    const read = await readVolumesDetached(ec2.client(), ['vol-1'], ['vol-1'], QUICK)
    expect(read.get('vol-1')?.state).toBe('available')
    expect(ec2.mock.commandCalls(DescribeVolumesCommand).length).toBeGreaterThanOrEqual(3)
  })

  it('gives up at the end of the wait and answers the volume as last read', async () => {
    ec2.mock.on(DescribeVolumesCommand).resolves({ Volumes: [volume('in-use')] })
    const read = await readVolumesDetached(ec2.client(), ['vol-1'], ['vol-1'], QUICK)
    expect(read.get('vol-1')?.state).toBe('in-use')
  })

  it('does not wait for a volume it was not asked to (a sibling read for its tags)', async () => {
    ec2.mock
      .on(DescribeVolumesCommand)
      .resolves({ Volumes: [volume('available'), { ...volume('in-use'), VolumeId: 'vol-2' }] })
    await readVolumesDetached(ec2.client(), ['vol-1', 'vol-2'], ['vol-1'], QUICK)
    expect(ec2.mock.commandCalls(DescribeVolumesCommand)).toHaveLength(1)
  })
})
