/**
 * The sandbox's EC2 API for AMIs, snapshots and volumes (DescribeImages, DescribeImageAttribute,
 * DeregisterImage, DescribeSnapshots, DeleteSnapshot, DescribeVolumes, DeleteVolume), through the
 * real SDK v3 client: shapes, filters and their limits, pagination, DryRun, refusals and faults.
 */
import {
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type DescribeImagesCommandInput,
  type DescribeSnapshotsCommandInput,
  type Filter
} from '@aws-sdk/client-ec2'
import { afterEach, describe, expect, it } from '@jest/globals'
import {
  ACCOUNT_ID,
  startSandbox,
  type FleetSeed,
  type ImageSeed,
  type Sandbox,
  type SandboxOptions,
  type Tags
} from '../../sandbox/index.js'
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

const R = 'us-east-2'
const OTHER = '210987654321'
const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values })
const hex8 = (n: number) => n.toString(16).padStart(8, '0')

describe('DescribeImages', () => {
  const images: ImageSeed[] = [
    {
      imageId: 'ami-00000001',
      name: 'web-2026-07-01',
      age: '3h',
      sourceInstanceId: 'i-00000001',
      tags: { 'packer-build': 'incomplete', team: 'web' },
      deregistrationProtection: 'enabled-without-cooldown',
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          snapshotId: 'snap-00000001',
          size: 20,
          volumeType: 'io2',
          iops: 6000,
          encrypted: true,
          kmsKeyId: 'arn:aws:kms:us-east-2:123456789012:key/k1'
        },
        { deviceName: '/dev/sdb', virtualName: 'ephemeral0' }
      ]
    },
    {
      imageId: 'ami-00000002',
      name: 'web-2026-07-02',
      state: 'pending',
      sourceInstanceId: 'i-00000002',
      tags: { 'packer-build': 'incomplete' }
    },
    {
      imageId: 'ami-00000003',
      name: 'copy-of-web',
      sourceImageId: 'ami-0000000a',
      sourceImageRegion: 'eu-west-1',
      launchPermissions: [{ userId: OTHER }]
    },
    {
      imageId: 'ami-00000004',
      name: 'failed-build',
      state: 'failed',
      sourceInstanceId: 'i-00000004',
      stateReason: { code: 'Server.InternalError', message: 'boom' }
    },
    { imageId: 'ami-00000005', name: 'public-base', public: true, ownerId: OTHER, ownerAlias: 'amazon' },
    { imageId: 'ami-00000006', name: 'private-elsewhere', ownerId: OTHER },
    { imageId: 'ami-00000007', name: 'shared-to-us', ownerId: OTHER, launchPermissions: [{ userId: ACCOUNT_ID }] },
    { imageId: 'ami-00000008', name: 'disabled', state: 'disabled' },
    {
      imageId: 'ami-00000009',
      name: 'old-public',
      ownerId: OTHER,
      public: true,
      deprecationTime: '2024-01-01T00:00:00.000Z'
    },
    { imageId: 'ami-0000000b', name: 'old-mine', deprecationTime: '2024-01-01T00:00:00.000Z' }
  ]

  it('answers every field of the model, parsed by the SDK', async () => {
    const s = await start({ fleet: { [R]: { images } } })
    const out = await ec2(s, R).send(
      new DescribeImagesCommand({ ImageIds: ['ami-00000001', 'ami-00000003', 'ami-00000004'] })
    )
    const [first, copy, failed] = out.Images ?? []
    expect(first).toMatchObject({
      ImageId: 'ami-00000001',
      Name: 'web-2026-07-01',
      State: 'available',
      OwnerId: ACCOUNT_ID,
      ImageLocation: `${ACCOUNT_ID}/web-2026-07-01`,
      Public: false,
      SourceInstanceId: 'i-00000001',
      DeregistrationProtection: 'enabled-without-cooldown',
      RootDeviceName: '/dev/xvda',
      RootDeviceType: 'ebs',
      Tags: [
        { Key: 'packer-build', Value: 'incomplete' },
        { Key: 'team', Value: 'web' }
      ],
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/xvda',
          Ebs: {
            SnapshotId: 'snap-00000001',
            VolumeSize: 20,
            VolumeType: 'io2',
            Iops: 6000,
            Encrypted: true,
            KmsKeyId: 'arn:aws:kms:us-east-2:123456789012:key/k1',
            DeleteOnTermination: true
          }
        },
        { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }
      ]
    })
    expect(first?.SourceImageId).toBeUndefined()
    expect(Math.round((Date.now() - new Date(first?.CreationDate as string).getTime()) / 3600_000)).toBe(3)
    expect(copy).toMatchObject({
      SourceImageId: 'ami-0000000a',
      SourceImageRegion: 'eu-west-1',
      DeregistrationProtection: 'disabled'
    })
    expect(copy?.SourceInstanceId).toBeUndefined()
    expect(failed).toMatchObject({ State: 'failed', StateReason: { Code: 'Server.InternalError', Message: 'boom' } })
  })

  it('shows the account its own images, public ones and ones shared with it; Owners and ExecutableBy scope them', async () => {
    const s = await start({ fleet: { [R]: { images } } })
    const ids = async (input: DescribeImagesCommandInput) =>
      ((await ec2(s, R).send(new DescribeImagesCommand(input))).Images ?? []).map((i) => i.ImageId)
    expect(await ids({})).toEqual([
      'ami-00000001',
      'ami-00000002',
      'ami-00000003',
      'ami-00000004',
      'ami-00000005',
      'ami-00000007',
      'ami-0000000b'
    ])
    expect(await ids({ Owners: ['self'] })).toEqual([
      'ami-00000001',
      'ami-00000002',
      'ami-00000003',
      'ami-00000004',
      'ami-0000000b'
    ])
    expect(await ids({ Owners: [ACCOUNT_ID] })).toEqual(await ids({ Owners: ['self'] }))
    expect(await ids({ Owners: ['amazon'] })).toEqual(['ami-00000005'])
    expect(await ids({ Owners: [OTHER] })).toEqual(['ami-00000005', 'ami-00000007'])
    expect(await ids({ ExecutableUsers: ['all'] })).toEqual(['ami-00000005'])
    expect(await ids({ ExecutableUsers: ['self'] })).toEqual(['ami-00000007'])
    expect(await ids({ ExecutableUsers: [OTHER] })).toEqual(['ami-00000003'])
    // Disabled images need IncludeDisabled; another owner's deprecated ones IncludeDeprecated (the owner always sees its own).
    expect(await ids({ Owners: ['self'], IncludeDisabled: true })).toContain('ami-00000008')
    expect(await ids({ IncludeDeprecated: true })).toContain('ami-00000009')
    expect(await errorOf(ids({ Owners: ['nobody'] }))).toMatchObject({
      name: 'InvalidUserID.Malformed',
      message: 'Invalid user id: "nobody"'
    })
  })

  it('filters as EC2 does, with at most 200 values per filter', async () => {
    const s = await start({ fleet: { [R]: { images } } })
    const ids = async (...Filters: Filter[]) =>
      ((await ec2(s, R).send(new DescribeImagesCommand({ Owners: ['self'], Filters }))).Images ?? []).map(
        (i) => i.ImageId
      )
    expect(await ids(f('source-instance-id', 'i-00000001', 'i-00000004'))).toEqual(['ami-00000001', 'ami-00000004'])
    const twoHundred = Array.from({ length: 199 }, (_, n) => `i-${hex8(0x1000 + n)}`)
    expect(await ids(f('source-instance-id', ...twoHundred, 'i-00000002'))).toEqual(['ami-00000002'])
    expect(await errorOf(ids(f('source-instance-id', ...twoHundred, 'i-00000002', 'i-00000004')))).toMatchObject({
      name: 'FilterLimitExceeded',
      status: 400
    })
    expect(await ids(f('source-image-id', 'ami-0000000a'))).toEqual(['ami-00000003'])
    expect(await ids(f('source-image-region', 'eu-*'))).toEqual(['ami-00000003'])
    expect(await ids(f('state', 'pending', 'failed'))).toEqual(['ami-00000002', 'ami-00000004'])
    expect(await ids(f('name', 'web-*'))).toEqual(['ami-00000001', 'ami-00000002'])
    expect(await ids(f('tag:packer-build', 'incomplete'), f('tag-key', 'team'))).toEqual(['ami-00000001'])
    expect(await ids(f('image-id', 'ami-00000003'))).toEqual(['ami-00000003'])
    expect(await ids(f('block-device-mapping.snapshot-id', 'snap-00000001'))).toEqual(['ami-00000001'])
    expect(await ids(f('is-public', 'false'), f('name', 'old-*'))).toEqual(['ami-0000000b'])
    expect(await errorOf(ids(f('colour', 'red')))).toMatchObject({
      name: 'InvalidParameterValue',
      message: "The filter 'colour' is invalid"
    })
  })

  it('refuses malformed and unknown IDs, and ImageIds with MaxResults', async () => {
    const s = await start({ fleet: { [R]: { images } } })
    const client = ec2(s, R)
    expect(
      await errorOf(
        client.send(new DescribeImagesCommand({ ImageIds: ['ami-00000001', 'ami-0000ffff', 'ami-0000fffe'] }))
      )
    ).toEqual({
      name: 'InvalidAMIID.NotFound',
      message: "The image id '[ami-0000ffff, ami-0000fffe]' does not exist",
      status: 400
    })
    // Another account's private image is not there for this one.
    expect(await errorOf(client.send(new DescribeImagesCommand({ ImageIds: ['ami-00000006'] })))).toMatchObject({
      name: 'InvalidAMIID.NotFound'
    })
    // Regions are separate.
    expect(
      await errorOf(ec2(s, 'us-east-1').send(new DescribeImagesCommand({ ImageIds: ['ami-00000001'] })))
    ).toMatchObject({ name: 'InvalidAMIID.NotFound' })
    expect(await errorOf(client.send(new DescribeImagesCommand({ ImageIds: ['ami-xyz'] })))).toMatchObject({
      name: 'InvalidAMIID.Malformed',
      message: 'Invalid id: "ami-xyz" (expecting "ami-...")'
    })
    expect(
      await errorOf(client.send(new DescribeImagesCommand({ ImageIds: ['ami-00000001'], MaxResults: 5 })))
    ).toMatchObject({
      name: 'InvalidParameterCombination'
    })
  })

  it('pages with MaxResults and NextToken; without MaxResults it answers everything', async () => {
    const many = Array.from({ length: 12 }, (_, n): ImageSeed => ({
      imageId: `ami-${hex8(0x100 + n)}`,
      name: `img-${n}`
    }))
    const s = await start({ fleet: { [R]: { images: many } } })
    const client = ec2(s, R)
    const pages: string[][] = []
    for await (const page of paginateDescribeImages({ client, pageSize: 5 }, { Owners: ['self'] }))
      pages.push((page.Images ?? []).map((i) => i.Name ?? ''))
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2])
    expect(pages.flat()).toEqual(many.map((i) => i.name))
    expect((await client.send(new DescribeImagesCommand({}))).Images).toHaveLength(12)
    expect(await errorOf(client.send(new DescribeImagesCommand({ MaxResults: 0 })))).toMatchObject({
      name: 'InvalidParameterValue'
    })
    expect(await errorOf(client.send(new DescribeImagesCommand({ NextToken: 'bogus' })))).toMatchObject({
      name: 'InvalidPaginationToken'
    })
  })

  it('DryRun answers DryRunOperation when allowed and UnauthorizedOperation when denied; faults apply', async () => {
    const s = await start({ fleet: { [R]: { images } } })
    const client = ec2(s, R)
    expect(await errorOf(client.send(new DescribeImagesCommand({ DryRun: true })))).toMatchObject({
      name: 'DryRunOperation',
      status: 412
    })
    s.faults.deny({ action: 'DescribeImages' })
    expect(await errorOf(client.send(new DescribeImagesCommand({ DryRun: true })))).toMatchObject({
      name: 'UnauthorizedOperation',
      status: 403
    })
    s.faults.clear()
    s.faults.throttle({ action: 'DescribeImages', count: 1 })
    expect(await errorOf(client.send(new DescribeImagesCommand({})))).toMatchObject({
      name: 'RequestLimitExceeded',
      status: 503
    })
    expect((await client.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images).toHaveLength(5)
  })

  it('a pending image finishes after the reads it was seeded with, after its time, or when the test says so', async () => {
    const s = await start({
      fleet: {
        [R]: {
          images: [
            { imageId: 'ami-00000c01', name: 'by-reads', state: 'pending', completes: { reads: 2 } },
            { imageId: 'ami-00000c02', name: 'by-time', state: 'pending', completes: { ms: 250 } },
            { imageId: 'ami-00000c03', name: 'fails', state: 'pending', completes: { reads: 1, to: 'failed' } },
            { imageId: 'ami-00000c04', name: 'by-test', state: 'pending' }
          ]
        }
      }
    })
    const client = ec2(s, R)
    const states = async () =>
      ((await client.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images ?? []).map((i) => i.State)
    expect(await states()).toEqual(['pending', 'pending', 'pending', 'pending'])
    expect(await states()).toEqual(['pending', 'pending', 'failed', 'pending'])
    expect(await states()).toEqual(['available', 'pending', 'failed', 'pending'])
    // Only answers that include the image count as reads.
    const snapshot = s.fleet.image('ami-00000c04')?.blockDeviceMappings[0]?.ebs?.snapshotId as string
    expect(s.fleet.snapshotById(snapshot)?.state).toBe('pending')
    s.fleet.completeImage('ami-00000c04')
    expect(s.fleet.snapshotById(snapshot)?.state).toBe('completed')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await states()).toEqual(['available', 'available', 'failed', 'available'])
    const failedSnapshot = s.fleet.image('ami-00000c03')?.blockDeviceMappings[0]?.ebs?.snapshotId as string
    expect(s.fleet.snapshotById(failedSnapshot)?.state).toBe('error')
  })

  it('a deregistered image is listed `deregisteredListedMs`, then an ID query answers nothing', async () => {
    const s = await start({
      fleet: {
        [R]: {
          images: [
            { imageId: 'ami-00000d01', name: 'a' },
            { imageId: 'ami-00000d02', name: 'b' }
          ]
        }
      }
    })
    const client = ec2(s, R)
    s.fleet.deregisteredListedMs = 60_000
    await client.send(new DeregisterImageCommand({ ImageId: 'ami-00000d01' }))
    const listed = await client.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [f('state', 'deregistered')] })
    )
    expect(listed.Images?.map((i) => [i.ImageId, i.State])).toEqual([['ami-00000d01', 'deregistered']])
    s.fleet.deregisteredListedMs = 0
    expect((await client.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images?.map((i) => i.ImageId)).toEqual([
      'ami-00000d02'
    ])
    expect((await client.send(new DescribeImagesCommand({ ImageIds: ['ami-00000d01'] }))).Images).toEqual([])
  })
})

describe('DescribeImageAttribute', () => {
  const seed = {
    [R]: {
      images: [
        {
          imageId: 'ami-00000e01',
          name: 'shared',
          description: 'built by packer',
          deregistrationProtection: 'enabled-with-cooldown',
          launchPermissions: [
            { userId: OTHER },
            { group: 'all' as const },
            { organizationArn: 'arn:aws:organizations::123456789012:organization/o-abc' },
            { organizationalUnitArn: 'arn:aws:organizations::123456789012:ou/o-abc/ou-xyz' }
          ]
        },
        { imageId: 'ami-00000e02', name: 'theirs', ownerId: OTHER, public: true }
      ]
    }
  }

  it('answers launch permissions, deregistration protection and the description', async () => {
    const s = await start({ fleet: seed })
    const client = ec2(s, R)
    const permissions = await client.send(
      new DescribeImageAttributeCommand({ ImageId: 'ami-00000e01', Attribute: 'launchPermission' })
    )
    expect(permissions.ImageId).toBe('ami-00000e01')
    expect(permissions.LaunchPermissions).toEqual([
      { UserId: OTHER },
      { Group: 'all' },
      { OrganizationArn: 'arn:aws:organizations::123456789012:organization/o-abc' },
      { OrganizationalUnitArn: 'arn:aws:organizations::123456789012:ou/o-abc/ou-xyz' }
    ])
    const protection = await client.send(
      new DescribeImageAttributeCommand({ ImageId: 'ami-00000e01', Attribute: 'deregistrationProtection' })
    )
    expect(protection.DeregistrationProtection).toEqual({ Value: 'enabled-with-cooldown' })
    const description = await client.send(
      new DescribeImageAttributeCommand({ ImageId: 'ami-00000e01', Attribute: 'description' })
    )
    expect(description.Description).toEqual({ Value: 'built by packer' })
    const none = await client.send(
      new DescribeImageAttributeCommand({ ImageId: 'ami-00000e02', Attribute: 'description' })
    )
    expect(none.Description?.Value).toBeUndefined()
  })

  it('refuses what EC2 refuses', async () => {
    const s = await start({ fleet: seed })
    const client = ec2(s, R)
    const attr = (ImageId: string, Attribute: string, DryRun?: boolean) =>
      errorOf(
        client.send(new DescribeImageAttributeCommand({ ImageId, Attribute: Attribute as 'launchPermission', DryRun }))
      )
    expect(await attr('ami-00000e01', 'blockDeviceMapping')).toMatchObject({ name: 'AuthFailure' })
    expect(await attr('ami-00000e01', 'colour')).toMatchObject({ name: 'InvalidParameterValue' })
    expect(await attr('ami-00000e02', 'launchPermission')).toMatchObject({
      name: 'AuthFailure',
      message: 'Not authorized for image:ami-00000e02'
    })
    expect(await attr('ami-0000ffff', 'launchPermission')).toMatchObject({ name: 'InvalidAMIID.NotFound' })
    expect(await attr('ami-1', 'launchPermission')).toMatchObject({ name: 'InvalidAMIID.Malformed' })
    expect(await attr('ami-00000e01', 'launchPermission', true)).toMatchObject({ name: 'DryRunOperation' })
    s.fleet.updateImage('ami-00000e01', { state: 'deregistered' })
    expect(await attr('ami-00000e01', 'launchPermission')).toMatchObject({ name: 'InvalidAMIID.Unavailable' })
  })
})

describe('DeregisterImage', () => {
  it('DeleteAssociatedSnapshots deletes the image’s own snapshots and keeps (skipped) one another image uses', async () => {
    const s = await start({
      fleet: {
        [R]: {
          snapshots: [{ snapshotId: 'snap-0000aa01', volumeSize: 20 }],
          images: [
            {
              imageId: 'ami-0000aa01',
              name: 'a',
              blockDeviceMappings: [
                { deviceName: '/dev/xvda', snapshotId: 'snap-0000aa01' },
                { deviceName: '/dev/sdf', snapshotId: 'snap-0000aa02', size: 100 }
              ]
            },
            {
              imageId: 'ami-0000aa02',
              name: 'b',
              blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0000aa01' }]
            }
          ]
        }
      }
    })
    const client = ec2(s, R)
    const first = await client.send(
      new DeregisterImageCommand({ ImageId: 'ami-0000aa01', DeleteAssociatedSnapshots: true })
    )
    expect(first.Return).toBe(true)
    expect(first.DeleteSnapshotResults).toEqual([
      { SnapshotId: 'snap-0000aa01', ReturnCode: 'skipped' },
      { SnapshotId: 'snap-0000aa02', ReturnCode: 'success' }
    ])
    expect(s.fleet.snapshots(R).map((x) => x.snapshotId)).toEqual(['snap-0000aa01'])
    expect(s.fleet.image('ami-0000aa01')?.state).toBe('deregistered')
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0000aa01' })))).toEqual({
      name: 'InvalidSnapshot.InUse',
      message: 'The snapshot snap-0000aa01 is currently in use by ami-0000aa02',
      status: 400
    })
    const second = await client.send(
      new DeregisterImageCommand({ ImageId: 'ami-0000aa02', DeleteAssociatedSnapshots: true })
    )
    expect(second.DeleteSnapshotResults).toEqual([{ SnapshotId: 'snap-0000aa01', ReturnCode: 'success' }])
    expect(s.fleet.snapshots(R)).toEqual([])
    expect(await errorOf(client.send(new DeregisterImageCommand({ ImageId: 'ami-0000aa02' })))).toMatchObject({
      name: 'InvalidAMIID.Unavailable'
    })
  })

  it('without DeleteAssociatedSnapshots the snapshots stay, and are deletable once no image uses them', async () => {
    const s = await start({
      fleet: {
        [R]: {
          images: [
            {
              imageId: 'ami-0000bb01',
              name: 'a',
              blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0000bb01' }]
            }
          ]
        }
      }
    })
    const client = ec2(s, R)
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0000bb01' })))).toMatchObject({
      name: 'InvalidSnapshot.InUse'
    })
    const out = await client.send(new DeregisterImageCommand({ ImageId: 'ami-0000bb01' }))
    expect(out.Return).toBe(true)
    expect(out.DeleteSnapshotResults).toBeUndefined()
    expect(s.fleet.snapshotById('snap-0000bb01')).toBeDefined()
    expect(
      (await client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0000bb01' }))).$metadata.httpStatusCode
    ).toBe(200)
    expect(s.fleet.snapshotById('snap-0000bb01')).toBeUndefined()
  })

  it('reports missing-permissions for a snapshot IAM does not let it delete, and deregisters anyway', async () => {
    const s = await start({
      fleet: {
        [R]: {
          images: [
            {
              imageId: 'ami-0000cc01',
              name: 'a',
              blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: 'snap-0000cc01' }]
            }
          ]
        }
      }
    })
    s.faults.deny({ action: 'DeleteSnapshot' })
    const out = await ec2(s, R).send(
      new DeregisterImageCommand({ ImageId: 'ami-0000cc01', DeleteAssociatedSnapshots: true })
    )
    expect(out.DeleteSnapshotResults).toEqual([{ SnapshotId: 'snap-0000cc01', ReturnCode: 'missing-permissions' }])
    expect(s.fleet.image('ami-0000cc01')?.state).toBe('deregistered')
    expect(s.fleet.snapshotById('snap-0000cc01')).toBeDefined()
  })

  it('refuses a protected image, another account’s image, and changes nothing on DryRun', async () => {
    const past = new Date(Date.now() - 60_000).toISOString()
    const future = new Date(Date.now() + 3600_000).toISOString()
    const s = await start({
      fleet: {
        [R]: {
          images: [
            { imageId: 'ami-0000dd01', name: 'protected', deregistrationProtection: 'enabled-without-cooldown' },
            { imageId: 'ami-0000dd02', name: 'cooling', deregistrationProtection: `disabled-after ${future}` },
            { imageId: 'ami-0000dd03', name: 'cooled', deregistrationProtection: `disabled-after ${past}` },
            { imageId: 'ami-0000dd04', name: 'theirs', ownerId: OTHER, public: true }
          ]
        }
      }
    })
    const client = ec2(s, R)
    const before = s.fleet.snapshot()
    for (const id of ['ami-0000dd01', 'ami-0000dd02']) {
      expect(
        await errorOf(client.send(new DeregisterImageCommand({ ImageId: id, DeleteAssociatedSnapshots: true })))
      ).toMatchObject({
        name: 'OperationNotPermitted',
        status: 400
      })
    }
    expect(await errorOf(client.send(new DeregisterImageCommand({ ImageId: 'ami-0000dd04' })))).toMatchObject({
      name: 'AuthFailure',
      message: 'Not authorized for image:ami-0000dd04'
    })
    expect(
      await errorOf(client.send(new DeregisterImageCommand({ ImageId: 'ami-0000dd03', DryRun: true })))
    ).toMatchObject({ name: 'DryRunOperation' })
    expect(await errorOf(client.send(new DeregisterImageCommand({ ImageId: 'ami-0000ffff' })))).toMatchObject({
      name: 'InvalidAMIID.NotFound',
      message: "The image id '[ami-0000ffff]' does not exist"
    })
    s.faults.deny({ action: 'DeregisterImage' })
    expect(
      await errorOf(client.send(new DeregisterImageCommand({ ImageId: 'ami-0000dd03', DryRun: true })))
    ).toMatchObject({ name: 'UnauthorizedOperation' })
    expect(s.fleet.snapshot()).toEqual(before)
    s.faults.clear()
    expect((await client.send(new DeregisterImageCommand({ ImageId: 'ami-0000dd03' }))).Return).toBe(true)
  })
})

describe('DescribeSnapshots and DeleteSnapshot', () => {
  const snapshots = Array.from({ length: 12 }, (_, n) => ({
    snapshotId: `snap-${hex8(0x200 + n)}`,
    volumeId: n < 2 ? 'vol-00000001' : undefined,
    volumeSize: 10 + n,
    state: n === 0 ? ('pending' as const) : undefined,
    description: n % 2 === 0 ? `Created by CreateImage(i-0000000${n % 10}) for ami-0000000${n % 10}` : 'manual',
    tags: n === 3 ? { run: 'x' } : undefined,
    ownerId: n === 11 ? OTHER : undefined
  }))

  it('answers the model, scoped by owner, IDs and filters', async () => {
    const s = await start({
      fleet: { [R]: { snapshots: [...snapshots, { snapshotId: 'snap-0000ee01', encrypted: true, age: '2d' }] } }
    })
    const client = ec2(s, R)
    const one = await client.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-00000200', 'snap-0000ee01'] }))
    expect(one.Snapshots?.[0]).toMatchObject({
      SnapshotId: 'snap-00000200',
      VolumeId: 'vol-00000001',
      VolumeSize: 10,
      State: 'pending',
      Progress: '0%',
      OwnerId: ACCOUNT_ID,
      Encrypted: false,
      Description: 'Created by CreateImage(i-00000000) for ami-00000000'
    })
    expect(one.Snapshots?.[1]).toMatchObject({
      Encrypted: true,
      KmsKeyId: expect.stringMatching(/^arn:aws:kms:us-east-2:123456789012:key\//),
      State: 'completed'
    })
    expect(Math.round((Date.now() - (one.Snapshots?.[1]?.StartTime as Date).getTime()) / 86_400_000)).toBe(2)
    const ids = async (input: DescribeSnapshotsCommandInput) =>
      ((await client.send(new DescribeSnapshotsCommand(input))).Snapshots ?? []).map((x) => x.SnapshotId)
    expect(await ids({ OwnerIds: ['self'] })).toHaveLength(12)
    expect(await ids({ OwnerIds: [OTHER] })).toEqual(['snap-0000020b'])
    expect(await ids({ Filters: [f('volume-id', 'vol-00000001')] })).toEqual(['snap-00000200', 'snap-00000201'])
    expect(await ids({ Filters: [f('status', 'pending')] })).toEqual(['snap-00000200'])
    expect(await ids({ Filters: [f('tag:run', 'x')] })).toEqual(['snap-00000203'])
    expect(
      await ids({ Filters: [f('description', 'Created by CreateImage(i-0000000?) for ami-*'), f('volume-size', '1?')] })
    ).toEqual(['snap-00000200', 'snap-00000202', 'snap-00000204', 'snap-00000206', 'snap-00000208'])
    expect(await errorOf(ids({ SnapshotIds: ['snap-0000ffff'] }))).toEqual({
      name: 'InvalidSnapshot.NotFound',
      message: "The snapshot 'snap-0000ffff' does not exist.",
      status: 400
    })
    expect(await errorOf(ids({ SnapshotIds: ['snap-1'] }))).toMatchObject({
      name: 'InvalidSnapshotID.Malformed',
      message: 'Invalid id: "snap-1" (expecting "snap-...")'
    })
    expect(await errorOf(ids({ SnapshotIds: ['snap-00000200'], MaxResults: 5 }))).toMatchObject({
      name: 'InvalidParameterCombination'
    })
    expect(await errorOf(ids({ DryRun: true }))).toMatchObject({ name: 'DryRunOperation' })
  })

  it('pages with MaxResults 5–1000 (larger is answered as 1000) and NextToken', async () => {
    const s = await start({ fleet: { [R]: { snapshots } } })
    const client = ec2(s, R)
    const pages: number[] = []
    for await (const page of paginateDescribeSnapshots({ client, pageSize: 5 }, {}))
      pages.push(page.Snapshots?.length ?? 0)
    expect(pages).toEqual([5, 5, 2])
    expect((await client.send(new DescribeSnapshotsCommand({ MaxResults: 5000 }))).Snapshots).toHaveLength(12)
    expect(await errorOf(client.send(new DescribeSnapshotsCommand({ MaxResults: 4 })))).toMatchObject({
      name: 'InvalidParameterValue',
      message: 'Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5.'
    })
  })

  it('DeleteSnapshot: DryRun, unknown and malformed IDs, deny', async () => {
    const s = await start({ fleet: { [R]: { snapshots } } })
    const client = ec2(s, R)
    expect(
      await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-00000201', DryRun: true })))
    ).toMatchObject({ name: 'DryRunOperation' })
    expect(s.fleet.snapshotById('snap-00000201')).toBeDefined()
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0000ffff' })))).toMatchObject({
      name: 'InvalidSnapshot.NotFound'
    })
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'vol-00000201' })))).toMatchObject({
      name: 'InvalidSnapshotID.Malformed'
    })
    expect(
      await errorOf(ec2(s, 'us-east-1').send(new DeleteSnapshotCommand({ SnapshotId: 'snap-00000201' })))
    ).toMatchObject({
      name: 'InvalidSnapshot.NotFound'
    })
    s.faults.deny({ action: 'DeleteSnapshot' })
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-00000201' })))).toMatchObject({
      name: 'UnauthorizedOperation'
    })
    s.faults.clear()
    await client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-00000201' }))
    expect(await errorOf(client.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-00000201' })))).toMatchObject({
      name: 'InvalidSnapshot.NotFound'
    })
    expect(await errorOf(client.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-00000201'] })))).toMatchObject({
      name: 'InvalidSnapshot.NotFound'
    })
  })
})

describe('DescribeVolumes and DeleteVolume', () => {
  const fleet: FleetSeed = {
    [R]: {
      instances: [
        {
          id: 'i-0000ab01',
          blockDeviceMappings: [{ deviceName: '/dev/xvda', volumeId: 'vol-0000ab01', tags: { run: 'r1' } }]
        },
        { id: 'i-0000ab02', blockDeviceMappings: [] }
      ],
      volumes: [
        ...Array.from({ length: 11 }, (_, n) => ({
          volumeId: `vol-${hex8(0x300 + n)}`,
          size: 8 + n,
          tags: (n < 3 ? { run: 'r1' } : { other: '' }) as Tags
        })),
        {
          volumeId: 'vol-0000ab02',
          attachment: { instanceId: 'i-0000ab02', device: '/dev/sdf', deleteOnTermination: false }
        }
      ]
    }
  }

  it('filters by attachment, status and tags', async () => {
    const s = await start({ fleet })
    const client = ec2(s, R)
    const ids = async (...Filters: Filter[]) =>
      ((await client.send(new DescribeVolumesCommand({ Filters }))).Volumes ?? []).map((v) => v.VolumeId)
    expect(await ids(f('attachment.instance-id', 'i-0000ab01', 'i-0000ab02'))).toEqual(['vol-0000ab01', 'vol-0000ab02'])
    expect(await ids(f('status', 'in-use'))).toEqual(['vol-0000ab01', 'vol-0000ab02'])
    expect(await ids(f('status', 'available'), f('tag:run', 'r1'))).toEqual([
      'vol-00000300',
      'vol-00000301',
      'vol-00000302'
    ])
    expect(await ids(f('tag-key', 'other'), f('size', '18'))).toEqual(['vol-0000030a'])
    expect(await ids(f('attachment.delete-on-termination', 'false'))).toEqual(['vol-0000ab02'])
    expect(await ids(f('attachment.device', '/dev/sdf'))).toEqual(['vol-0000ab02'])
    expect(await ids(f('volume-id', 'vol-0000030?'))).toHaveLength(11)
    expect(await errorOf(ids(f('attachment.instance', 'i-0000ab01')))).toMatchObject({ name: 'InvalidParameterValue' })
    const many = Array.from({ length: 201 }, (_, n) => `i-${hex8(n)}`)
    expect(await errorOf(ids(f('attachment.instance-id', ...many)))).toMatchObject({ name: 'FilterLimitExceeded' })
  })

  it('pages with MaxResults 5–500 (larger is answered as 500) and stays put while a client deletes what it listed', async () => {
    const s = await start({ fleet })
    const client = ec2(s, R)
    const pages: string[][] = []
    for await (const page of paginateDescribeVolumes(
      { client, pageSize: 5 },
      { Filters: [f('status', 'available')] }
    )) {
      const ids = (page.Volumes ?? []).map((v) => v.VolumeId as string)
      pages.push(ids)
      for (const id of ids) await client.send(new DeleteVolumeCommand({ VolumeId: id }))
    }
    expect(pages.map((p) => p.length)).toEqual([5, 5, 1])
    expect(s.fleet.volumes(R).map((v) => v.volumeId)).toEqual(['vol-0000ab01', 'vol-0000ab02'])
    expect(await errorOf(client.send(new DescribeVolumesCommand({ MaxResults: 3 })))).toMatchObject({
      name: 'InvalidParameterValue'
    })
    expect((await client.send(new DescribeVolumesCommand({ MaxResults: 1000 }))).Volumes).toHaveLength(2)
    expect(
      await errorOf(client.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0000ab01'], MaxResults: 5 })))
    ).toMatchObject({
      name: 'InvalidParameterCombination'
    })
  })

  it('cuts a page at 500 when MaxResults asks for more', async () => {
    const s = await start({ fleet: { [R]: { volumes: Array.from({ length: 620 }, () => ({})) } } })
    const out = await ec2(s, R).send(new DescribeVolumesCommand({ MaxResults: 1000 }))
    expect(out.Volumes).toHaveLength(500)
    expect(out.NextToken).toBeDefined()
    expect((await ec2(s, R).send(new DescribeVolumesCommand({}))).Volumes).toHaveLength(620)
  })

  it('DeleteVolume refuses an attached volume (VolumeInUse), unknown and malformed IDs; DryRun changes nothing', async () => {
    const s = await start({ fleet })
    const client = ec2(s, R)
    expect(await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-0000ab02' })))).toEqual({
      name: 'VolumeInUse',
      message: 'Volume vol-0000ab02 is currently attached to i-0000ab02',
      status: 400
    })
    expect(await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-0000ffff' })))).toEqual({
      name: 'InvalidVolume.NotFound',
      message: "The volume 'vol-0000ffff' does not exist.",
      status: 400
    })
    expect(await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-1' })))).toMatchObject({
      name: 'InvalidVolumeID.Malformed',
      message: 'Invalid id: "vol-1" (expecting "vol-...")'
    })
    expect(await errorOf(client.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0000ffff'] })))).toMatchObject({
      name: 'InvalidVolume.NotFound'
    })
    const before = s.fleet.snapshot()
    expect(
      await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-00000300', DryRun: true })))
    ).toMatchObject({ name: 'DryRunOperation' })
    expect(await errorOf(client.send(new DescribeVolumesCommand({ DryRun: true })))).toMatchObject({
      name: 'DryRunOperation'
    })
    s.faults.throttle({ action: 'DeleteVolume', count: 1 })
    expect(await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-00000300' })))).toMatchObject({
      name: 'RequestLimitExceeded'
    })
    expect(s.fleet.snapshot()).toEqual(before)
    expect((await client.send(new DeleteVolumeCommand({ VolumeId: 'vol-00000300' }))).$metadata.httpStatusCode).toBe(
      200
    )
    expect(await errorOf(client.send(new DeleteVolumeCommand({ VolumeId: 'vol-00000300' })))).toMatchObject({
      name: 'InvalidVolume.NotFound'
    })
  })
})
