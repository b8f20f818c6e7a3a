/**
 * Issue 19's volume cases, seeded in the sandbox and judged by the volumes kind's reads and rules
 * through the real SDK: a builder whose source image (public, another owner) keeps a data volume
 * (DeleteOnTermination=false), with a root-resize launch mapping, an added launch mapping and an
 * ebs_volumes-style product with its own tags; a builder whose source image was deregistered.
 * Termination leaves the DeleteOnTermination=false volumes `available`; only the inherited one is
 * removable, and DeleteVolume deletes it.
 */
import { devicesOf } from '../../src/engine/discovery.js'
import { DeregisterImageCommand, DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2'
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  deleteVolume,
  readImageMappings,
  readSnapshotKeys,
  readVolumes,
  withSnapshotKeys
} from '../../src/kinds/volumes/reads.js'
import { judgeBuilderVolumes, VOLUME_REASONS } from '../../src/kinds/volumes/rules.js'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2 } from './sdk.js'

const R = 'eu-west-1'
const SOURCE = 'ami-0500000000000000a'
const GONE = 'ami-0500000000000000b'
const OTHER_OWNER = '137112412989'
const RUN_VOLUME_TAGS = { 'packer-run': '42' }
const SETTINGS = { deleteInheritedVolumes: true, action: 'terminate' as const, excludeTags: ['packer-sweeper:keep'] }

let sandbox: Sandbox | undefined
afterEach(async () => {
  await sandbox?.close()
  sandbox = undefined
})

async function seeded(transitionDelayMs = 0): Promise<Sandbox> {
  sandbox = await startSandbox({
    regions: [R],
    transitionDelayMs,
    fleet: {
      [R]: {
        snapshots: [
          { snapshotId: 'snap-05000000000000001', volumeSize: 8, ownerId: OTHER_OWNER },
          { snapshotId: 'snap-05000000000000002', volumeSize: 20, ownerId: OTHER_OWNER },
          { snapshotId: 'snap-05000000000000003', volumeSize: 50, ownerId: OTHER_OWNER }
        ],
        images: [
          {
            imageId: SOURCE,
            name: 'base-image',
            ownerId: OTHER_OWNER,
            public: true,
            blockDeviceMappings: [
              { deviceName: '/dev/xvda', snapshotId: 'snap-05000000000000001', size: 8 },
              { deviceName: '/dev/sdf', snapshotId: 'snap-05000000000000002', size: 20, deleteOnTermination: false },
              { deviceName: '/dev/sdi', snapshotId: 'snap-05000000000000003', size: 50, deleteOnTermination: false }
            ]
          },
          {
            imageId: GONE,
            name: 'old-base',
            blockDeviceMappings: [{ deviceName: '/dev/sdf', size: 20, deleteOnTermination: false }]
          }
        ],
        instances: [
          {
            id: 'i-05000000000000001',
            imageId: SOURCE,
            age: '3h',
            blockDeviceMappings: [
              // root resize: launch_block_device_mappings' delete_on_termination defaults to false
              {
                deviceName: '/dev/xvda',
                volumeId: 'vol-05000000000000001',
                snapshotId: 'snap-05000000000000001',
                size: 40,
                deleteOnTermination: false,
                tags: RUN_VOLUME_TAGS
              },
              // inherited from the image, exactly
              {
                deviceName: '/dev/sdf',
                volumeId: 'vol-05000000000000002',
                snapshotId: 'snap-05000000000000002',
                size: 20,
                deleteOnTermination: false,
                tags: RUN_VOLUME_TAGS
              },
              // an added launch mapping
              { deviceName: '/dev/sdg', volumeId: 'vol-05000000000000003', size: 100, tags: RUN_VOLUME_TAGS },
              // an ebs_volumes product over an image device: the same shape, its own tags
              {
                deviceName: '/dev/sdi',
                volumeId: 'vol-05000000000000004',
                snapshotId: 'snap-05000000000000003',
                size: 50,
                deleteOnTermination: false,
                tags: { Name: 'data-volume', team: 'storage' }
              }
            ]
          },
          {
            id: 'i-05000000000000002',
            imageId: GONE,
            age: '3h',
            blockDeviceMappings: [
              { deviceName: '/dev/xvda', volumeId: 'vol-05000000000000005', tags: RUN_VOLUME_TAGS },
              {
                deviceName: '/dev/sdf',
                volumeId: 'vol-05000000000000006',
                size: 20,
                deleteOnTermination: false,
                tags: RUN_VOLUME_TAGS
              }
            ]
          }
        ]
      }
    }
  })
  return sandbox
}

describe("a builder's kept volumes, judged against its source image", () => {
  it("an encrypted inherited volume matches through its snapshot's key, which DescribeImages does not name", async () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/golden'
    sandbox = await startSandbox({
      regions: [R],
      fleet: {
        [R]: {
          snapshots: [{ snapshotId: 'snap-0e000000000000001', volumeSize: 20, encrypted: true, kmsKeyId: key }],
          images: [
            {
              imageId: 'ami-0e000000000000001',
              name: 'golden',
              blockDeviceMappings: [
                { deviceName: '/dev/xvda', size: 8 },
                {
                  deviceName: '/dev/sdf',
                  snapshotId: 'snap-0e000000000000001',
                  size: 20,
                  encrypted: true,
                  deleteOnTermination: false
                }
              ]
            }
          ],
          instances: [
            {
              id: 'i-0e000000000000001',
              imageId: 'ami-0e000000000000001',
              state: 'terminated',
              blockDeviceMappings: [
                {
                  deviceName: '/dev/sdf',
                  volumeId: 'vol-0e000000000000001',
                  snapshotId: 'snap-0e000000000000001',
                  size: 20,
                  encrypted: true,
                  kmsKeyId: key,
                  deleteOnTermination: false
                },
                {
                  deviceName: '/dev/sdg',
                  volumeId: 'vol-0e000000000000002',
                  snapshotId: 'snap-0e000000000000001',
                  size: 20,
                  encrypted: true,
                  kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/other',
                  deleteOnTermination: false
                }
              ]
            }
          ]
        }
      }
    })
    const client = ec2(sandbox, R)
    const images = await readImageMappings(client, ['ami-0e000000000000001'])
    const keys = await readSnapshotKeys(client, ['snap-0e000000000000001'])
    expect(keys).toEqual(new Map([['snap-0e000000000000001', key]]))
    const mappings = withSnapshotKeys(images, keys).get('ami-0e000000000000001')
    // /dev/sdg stands for a launch mapping that re-encrypted with another key over the same device shape.
    const withSdg = [...(mappings ?? []), { ...mappings![1]!, deviceName: '/dev/sdg' }]
    const builder = {
      instanceId: 'i-0e000000000000001',
      region: R,
      imageId: 'ami-0e000000000000001',
      terminated: true,
      devices: [
        { deviceName: '/dev/sdf', volumeId: 'vol-0e000000000000001', deleteOnTermination: false },
        { deviceName: '/dev/sdg', volumeId: 'vol-0e000000000000002', deleteOnTermination: false }
      ]
    }
    const volumes = await readVolumes(client, ['vol-0e000000000000001', 'vol-0e000000000000002'])
    expect(
      judgeBuilderVolumes(builder, withSdg, volumes, SETTINGS).map(({ volumeId, removable, reason }) => ({
        volumeId,
        removable,
        reason
      }))
    ).toEqual([
      { volumeId: 'vol-0e000000000000001', removable: true, reason: undefined },
      {
        volumeId: 'vol-0e000000000000002',
        removable: false,
        reason: 'differs from its source image mapping in KMS key'
      }
    ])
  })

  it('only the volume inherited from the source image is removable, after the termination; the rest is kept with a reason', async () => {
    const s = await seeded()
    const client = ec2(s, R)
    await client.send(new DeregisterImageCommand({ ImageId: GONE }))
    // The devices as discovery reads them, before the termination (a terminated instance lists none).
    const listed = await client.send(
      new DescribeInstancesCommand({ InstanceIds: ['i-05000000000000001', 'i-05000000000000002'] })
    )
    const instances = listed.Reservations?.flatMap((reservation) => reservation.Instances ?? []) ?? []
    const builders = instances.map((instance) => ({
      instanceId: instance.InstanceId ?? '',
      region: R,
      imageId: instance.ImageId,
      devices: devicesOf(instance),
      terminated: true
    }))
    for (const builder of builders) s.fleet.update(builder.instanceId, { state: 'terminated' })

    const images = await readImageMappings(client, [SOURCE, GONE])
    expect([...images.keys()]).toEqual([SOURCE])
    const volumes = await readVolumes(
      client,
      builders.flatMap((builder) => builder.devices.map((device) => device.volumeId))
    )
    const decisions = builders.flatMap((builder) =>
      judgeBuilderVolumes(builder, builder.imageId ? images.get(builder.imageId) : undefined, volumes, SETTINGS)
    )
    expect(decisions.map(({ volumeId, removable, reason }) => ({ volumeId, removable, reason }))).toEqual([
      {
        volumeId: 'vol-05000000000000001',
        removable: false,
        reason: VOLUME_REASONS.imageDeletesOnTermination
      },
      { volumeId: 'vol-05000000000000002', removable: true, reason: undefined },
      {
        volumeId: 'vol-05000000000000003',
        removable: false,
        reason: 'a launch mapping: the source image does not map /dev/sdg'
      },
      { volumeId: 'vol-05000000000000004', removable: false, reason: VOLUME_REASONS.ownTags },
      { volumeId: 'vol-05000000000000006', removable: false, reason: VOLUME_REASONS.sourceImageUnknown }
    ])
    // Termination left every kept volume available, and deleted the DeleteOnTermination root.
    expect(decisions.every((decision) => decision.volume?.state === 'available')).toBe(true)
    expect(s.fleet.volume('vol-05000000000000005')).toBeUndefined()

    await deleteVolume(client, 'vol-05000000000000002', true).catch((error: unknown) =>
      expect(error).toMatchObject({ name: 'DryRunOperation' })
    )
    expect(s.fleet.volume('vol-05000000000000002')?.state).toBe('available')
    await deleteVolume(client, 'vol-05000000000000002', false)
    expect(s.fleet.volume('vol-05000000000000002')).toBeUndefined()
    expect(s.callsOf('DeleteVolume').map((call) => call.params.VolumeId)).toEqual([
      'vol-05000000000000002',
      'vol-05000000000000002'
    ])
  })

  it('while the builder shuts down its kept volumes are in-use: none is removable, and DeleteVolume is refused', async () => {
    const s = await seeded(60_000)
    const client = ec2(s, R)
    const listed = await client.send(new DescribeInstancesCommand({ InstanceIds: ['i-05000000000000001'] }))
    const instance = listed.Reservations?.[0]?.Instances?.[0] ?? {}
    const builder = {
      instanceId: 'i-05000000000000001',
      region: R,
      imageId: SOURCE,
      devices: devicesOf(instance),
      terminated: true
    }
    await client.send(new TerminateInstancesCommand({ InstanceIds: ['i-05000000000000001'] }))
    const volumes = await readVolumes(client, ['vol-05000000000000002'])
    const images = await readImageMappings(client, [SOURCE])
    const [inherited] = judgeBuilderVolumes(
      { ...builder, devices: builder.devices.filter((device) => device.volumeId === 'vol-05000000000000002') },
      images.get(SOURCE),
      volumes,
      SETTINGS
    )
    // Shutting down: the volumes stay attached until the instance is terminated.
    expect(inherited).toMatchObject({ removable: false, reason: 'in-use after the termination, not available' })
    await expect(deleteVolume(client, 'vol-05000000000000002', false)).rejects.toMatchObject({ name: 'VolumeInUse' })
  })
})
