/**
 * The sandbox's EBS model: instances' volumes and what termination does to them, the snapshots
 * images are made of, and the seeds that build them, driven through the real SDK v3 client.
 */
import { DescribeInstancesCommand, DescribeVolumesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2'
import { afterEach, describe, expect, it } from '@jest/globals'
import { defaultEbsKeyArn } from '../../sandbox/fleet.js'
import { Fleet, generateFleet, startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/index.js'
import { ec2, errorOf } from './sdk.js'

let sandbox: Sandbox | undefined
afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

async function start(options: SandboxOptions): Promise<Sandbox> {
  sandbox = await startSandbox(options)
  return sandbox
}

const R = 'eu-west-1'

describe('instances and their volumes', () => {
  it('an EBS-backed instance has a root volume by default; DescribeInstances and DescribeVolumes agree', async () => {
    const s = await start({
      fleet: {
        [R]: {
          instances: [
            { id: 'i-000000a1', age: '2h' },
            { id: 'i-000000a2', rootDeviceType: 'instance-store' }
          ]
        }
      }
    })
    const out = await ec2(s, R).send(new DescribeInstancesCommand({ InstanceIds: ['i-000000a1', 'i-000000a2'] }))
    const [builder, storeBacked] = out.Reservations?.flatMap((r) => r.Instances ?? []) ?? []
    expect(builder?.RootDeviceName).toBe('/dev/xvda')
    expect(builder?.BlockDeviceMappings).toHaveLength(1)
    const root = builder?.BlockDeviceMappings?.[0]
    expect(root).toMatchObject({ DeviceName: '/dev/xvda', Ebs: { Status: 'attached', DeleteOnTermination: true } })
    expect(root?.Ebs?.AttachTime?.getTime()).toBe(builder?.LaunchTime?.getTime())
    expect(storeBacked).toMatchObject({ RootDeviceName: '/dev/sda1', BlockDeviceMappings: [] })

    const volumes = await ec2(s, R).send(new DescribeVolumesCommand({}))
    expect(volumes.Volumes).toHaveLength(1)
    expect(volumes.Volumes?.[0]).toMatchObject({
      VolumeId: root?.Ebs?.VolumeId,
      Size: 8,
      VolumeType: 'gp3',
      Iops: 3000,
      Throughput: 125,
      Encrypted: false,
      State: 'in-use',
      AvailabilityZone: `${R}a`,
      SnapshotId: '',
      Attachments: [
        {
          VolumeId: root?.Ebs?.VolumeId,
          InstanceId: 'i-000000a1',
          Device: '/dev/xvda',
          State: 'attached',
          DeleteOnTermination: true
        }
      ]
    })
  })

  it('TerminateInstances deletes the DeleteOnTermination volumes and leaves the others available', async () => {
    const s = await start({
      fleet: {
        [R]: {
          instances: [
            {
              id: 'i-000000b1',
              blockDeviceMappings: [
                { deviceName: '/dev/xvda', volumeId: 'vol-000000b1', size: 30, tags: { run: 'b' } },
                { deviceName: '/dev/sdf', volumeId: 'vol-000000b2', size: 100, volumeType: 'gp2', tags: { run: 'b' } },
                { deviceName: '/dev/sdg', volumeId: 'vol-000000b3', deleteOnTermination: true, encrypted: true }
              ]
            },
            { id: 'i-000000b9' }
          ]
        }
      }
    })
    const client = ec2(s, R)
    const before = await client.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: ['i-000000b1'] }] })
    )
    expect(
      before.Volumes?.map((v) => [
        v.VolumeId,
        v.Attachments?.[0]?.DeleteOnTermination,
        v.Iops,
        v.Throughput,
        v.KmsKeyId
      ])
    ).toEqual([
      ['vol-000000b1', true, 3000, 125, undefined],
      ['vol-000000b2', false, 300, undefined, undefined],
      ['vol-000000b3', true, 3000, 125, defaultEbsKeyArn(R)]
    ])

    await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-000000b1'] }))
    const left = await client.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:run', Values: ['b'] }] }))
    expect(left.Volumes?.map((v) => [v.VolumeId, v.State, v.Attachments])).toEqual([['vol-000000b2', 'available', []]])
    expect(await errorOf(client.send(new DescribeVolumesCommand({ VolumeIds: ['vol-000000b1'] })))).toEqual({
      name: 'InvalidVolume.NotFound',
      message: "The volume 'vol-000000b1' does not exist.",
      status: 400
    })
    const terminated = await client.send(new DescribeInstancesCommand({ InstanceIds: ['i-000000b1'] }))
    expect(terminated.Reservations?.[0]?.Instances?.[0]).toMatchObject({
      State: { Name: 'terminated' },
      BlockDeviceMappings: []
    })
    // The other instance's root volume is untouched.
    expect(s.fleet.attachedVolumes('i-000000b9')).toHaveLength(1)
    expect(s.fleet.volumes(R).map((v) => v.volumeId)).toEqual([
      'vol-000000b2',
      s.fleet.attachedVolumes('i-000000b9')[0]?.volumeId
    ])
  })

  it('volumes stay attached while the instance shuts down, and are released when it is terminated', async () => {
    const s = await start({ transitionDelayMs: 300, fleet: { [R]: { instances: [{ id: 'i-000000c1' }] } } })
    const client = ec2(s, R)
    const [root] = s.fleet.attachedVolumes('i-000000c1')
    await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-000000c1'] }))
    const during = await client.send(new DescribeVolumesCommand({}))
    expect(during.Volumes?.map((v) => [v.VolumeId, v.State])).toEqual([[root?.volumeId, 'in-use']])
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect((await client.send(new DescribeVolumesCommand({}))).Volumes).toEqual([])
  })

  it('fleet.update to terminated releases the volumes too', async () => {
    const s = await start({
      fleet: {
        [R]: {
          instances: [
            {
              id: 'i-000000c2',
              blockDeviceMappings: [{ deviceName: '/dev/xvda' }, { deviceName: '/dev/sdb', volumeId: 'vol-000000c2' }]
            }
          ]
        }
      }
    })
    s.fleet.update('i-000000c2', { state: 'terminated' })
    expect(s.fleet.volumes(R).map((v) => [v.volumeId, v.state, v.attachment])).toEqual([
      ['vol-000000c2', 'available', undefined]
    ])
    expect(s.fleet.attachedVolumes('i-000000c2')).toEqual([])
  })

  it('an instance seeded terminated left only its volumes without DeleteOnTermination, available', () => {
    const fleet = new Fleet()
    fleet.seed({
      [R]: {
        instances: [
          {
            id: 'i-000000d1',
            state: 'terminated',
            blockDeviceMappings: [{ deviceName: '/dev/xvda' }, { deviceName: '/dev/sdf', volumeId: 'vol-000000d1' }]
          },
          { id: 'i-000000d2', state: 'terminated' }
        ]
      }
    })
    expect(fleet.volumes(R).map((v) => [v.volumeId, v.state])).toEqual([['vol-000000d1', 'available']])
  })

  it('a volume seeded with an attachment shows in the instance’s mappings; bad attachments are refused', async () => {
    const s = await start({
      fleet: {
        [R]: {
          instances: [{ id: 'i-000000e1', availabilityZone: `${R}b` }],
          volumes: [
            {
              volumeId: 'vol-000000e1',
              size: 50,
              attachment: { instanceId: 'i-000000e1', device: '/dev/sdh' },
              tags: { Name: 'data' }
            },
            { volumeId: 'vol-000000e2', age: '3d', snapshotId: 'snap-000000e2' }
          ]
        }
      }
    })
    const out = await ec2(s, R).send(new DescribeInstancesCommand({ InstanceIds: ['i-000000e1'] }))
    expect(
      out.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings?.map((m) => [m.DeviceName, m.Ebs?.DeleteOnTermination])
    ).toEqual([
      ['/dev/xvda', true],
      ['/dev/sdh', false]
    ])
    const attached = s.fleet.volume('vol-000000e1')
    expect(attached).toMatchObject({ state: 'in-use', availabilityZone: `${R}b` })
    const free = await ec2(s, R).send(new DescribeVolumesCommand({ VolumeIds: ['vol-000000e2'] }))
    expect(free.Volumes?.[0]).toMatchObject({ State: 'available', SnapshotId: 'snap-000000e2', Attachments: [] })
    expect(Math.round((Date.now() - (free.Volumes?.[0]?.CreateTime as Date).getTime()) / 86_400_000)).toBe(3)

    expect(() =>
      s.fleet.seed({ [R]: { volumes: [{ attachment: { instanceId: 'i-0000ffff', device: '/dev/sdz' } }] } })
    ).toThrow(/not an instance of/)
    expect(() =>
      s.fleet.seed({ [R]: { volumes: [{ attachment: { instanceId: 'i-000000e1', device: '/dev/sdh' } }] } })
    ).toThrow(/already has a volume/)
    expect(() => s.fleet.seed({ [R]: { volumes: [{ volumeId: 'vol-000000e1' }] } })).toThrow(/duplicate id/)
    expect(() => s.fleet.seed({ [R]: { volumes: [{ volumeId: 'vol-xyz' }] } })).toThrow(/malformed vol id/)
  })

  it('volumes take their IDs from their own generator: every other generated ID stays as it was', () => {
    const withVolumes = new Fleet(0, 7)
    const without = new Fleet(0, 7)
    const seed = generateFleet({ region: R, count: 50, seed: 3 })
    withVolumes.seed(seed)
    without.seed({ [R]: { instances: (seed[R]?.instances ?? []).map((i) => ({ ...i, blockDeviceMappings: [] })) } })
    expect(withVolumes.instances(R).map((i) => [i.id, i.reservationId])).toEqual(
      without.instances(R).map((i) => [i.id, i.reservationId])
    )
    expect(withVolumes.volumes(R)).toHaveLength(50)
    expect(without.volumes(R)).toHaveLength(0)
  })
})

describe('images and their snapshots', () => {
  it('CreateImage’s snapshots: one per EBS mapping, named after the builder and its root volume, pending with a pending image', () => {
    const fleet = new Fleet()
    fleet.seed({
      [R]: {
        instances: [
          {
            id: 'i-000000f1',
            state: 'stopped',
            blockDeviceMappings: [{ deviceName: '/dev/xvda', volumeId: 'vol-000000f1', size: 20 }]
          }
        ],
        images: [
          {
            imageId: 'ami-000000f1',
            name: 'web-1',
            state: 'pending',
            sourceInstanceId: 'i-000000f1',
            snapshotTags: { run: 'f' },
            blockDeviceMappings: [
              { deviceName: '/dev/xvda', size: 20, snapshotId: 'snap-000000f1' },
              { deviceName: '/dev/sdb', virtualName: 'ephemeral0' },
              { deviceName: '/dev/sdc', noDevice: true }
            ]
          }
        ]
      }
    })
    const image = fleet.image('ami-000000f1')
    expect(image?.blockDeviceMappings).toEqual([
      {
        deviceName: '/dev/xvda',
        ebs: {
          snapshotId: 'snap-000000f1',
          volumeSize: 20,
          volumeType: 'gp3',
          iops: 3000,
          throughput: 125,
          encrypted: false,
          deleteOnTermination: true
        }
      },
      { deviceName: '/dev/sdb', virtualName: 'ephemeral0', noDevice: undefined },
      { deviceName: '/dev/sdc', virtualName: undefined, noDevice: true }
    ])
    expect(fleet.snapshotById('snap-000000f1')).toMatchObject({
      volumeId: 'vol-000000f1',
      volumeSize: 20,
      state: 'pending',
      progress: '0%',
      description: 'Created by CreateImage(i-000000f1) for ami-000000f1',
      tags: { run: 'f' }
    })
    fleet.completeImage('ami-000000f1')
    expect(fleet.image('ami-000000f1')?.state).toBe('available')
    expect(fleet.snapshotById('snap-000000f1')).toMatchObject({ state: 'completed', progress: '100%' })
  })

  it('a copy records its source and gets snapshots of its own; images naming one absent snapshot share it', () => {
    const fleet = new Fleet()
    fleet.seed({ 'us-east-1': { images: [{ imageId: 'ami-00000a01', name: 'web', sourceInstanceId: 'i-00000a01' }] } })
    const sourceSnapshot = fleet.image('ami-00000a01')?.blockDeviceMappings[0]?.ebs?.snapshotId
    fleet.seed({
      [R]: {
        images: [
          { imageId: 'ami-00000a02', name: 'web', sourceImageId: 'ami-00000a01', sourceImageRegion: 'us-east-1' },
          {
            imageId: 'ami-00000a03',
            name: 'a',
            blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-00000a03', size: 16 }]
          },
          {
            imageId: 'ami-00000a04',
            name: 'b',
            blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-00000a03' }]
          }
        ]
      }
    })
    const copy = fleet.image('ami-00000a02')
    expect(copy).toMatchObject({
      sourceImageId: 'ami-00000a01',
      sourceImageRegion: 'us-east-1',
      sourceInstanceId: undefined
    })
    const copySnapshot = fleet.snapshotById(copy?.blockDeviceMappings[0]?.ebs?.snapshotId ?? '')
    expect(copySnapshot).toMatchObject({
      region: R,
      volumeId: 'vol-ffffffff',
      description: `Copied for DestinationAmi ami-00000a02 from SourceAmi ami-00000a01 for SourceSnapshot ${sourceSnapshot}`
    })
    expect(fleet.snapshots(R).filter((s) => s.snapshotId === 'snap-00000a03')).toHaveLength(1)
    expect(fleet.image('ami-00000a04')?.blockDeviceMappings[0]?.ebs?.volumeSize).toBe(16)
    expect(fleet.imagesUsing('snap-00000a03', R).map((i) => i.imageId)).toEqual(['ami-00000a03', 'ami-00000a04'])
    expect(() => fleet.seed({ [R]: { images: [{ name: 'x', sourceImageId: 'ami-00000a01' }] } })).toThrow(
      /both sourceImageId and sourceImageRegion/
    )
    expect(() => fleet.seed({ [R]: { images: [{ name: 'x', completes: { reads: 1 } }] } })).toThrow(/not pending/)
  })

  it('snapshot() copies volumes, snapshots and images, so that a change shows', () => {
    const fleet = new Fleet()
    fleet.seed({ [R]: { instances: [{ id: 'i-00000b01' }], images: [{ imageId: 'ami-00000b01', name: 'x' }] } })
    const before = fleet.snapshot()
    expect(before.volumes).toHaveLength(1)
    expect(before.snapshots).toHaveLength(1)
    expect(before.images.map((i) => [i.imageId, i.state])).toEqual([['ami-00000b01', 'available']])
    expect(fleet.snapshot()).toEqual(before)
    fleet.updateImage('ami-00000b01', { state: 'deregistered' })
    fleet.update('i-00000b01', { state: 'terminated' })
    const after = fleet.snapshot()
    expect(after.images[0]?.state).toBe('deregistered')
    expect(after.volumes).toEqual([])
    expect(before.images[0]?.state).toBe('available')
  })
})
