/**
 * The volumes kind's AWS calls: the source images' mappings, the volumes after the termination,
 * and DeleteVolume. Reads go by filter, never by ID list: DescribeImages and DescribeVolumes fail
 * the whole call when one listed ID is gone (a deregistered source image "will eventually return
 * an error indicating that the AMI ID cannot be found"), while a filter just leaves it out.
 */
import {
  DeleteVolumeCommand,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  paginateDescribeVolumes,
  type EC2Client,
  type Image,
  type Volume
} from '@aws-sdk/client-ec2'
import { chunk, collect, inOrder, MAX_FILTER_VALUES } from '../../aws/batches.js'
import { describing } from '../../aws/describe-error.js'
import { createWaiter, WaiterState } from '@smithy/core/client'
import { PERMISSION } from '../../model/permissions.js'
import type { ImageVolumeMapping, VolumeRecord } from './rules.js'

/** DeleteVolume's refusal of a volume still attached. */
export const VOLUME_IN_USE_CODES = ['VolumeInUse'] as const
/** DeleteVolume of a volume already deleted. */
export const VOLUME_ALREADY_GONE_CODES = ['InvalidVolume.NotFound'] as const

/** DescribeImages' largest page with filters. */
const IMAGES_PAGE = 1000
/** DescribeSnapshots' largest page. */
const SNAPSHOTS_PAGE = 1000
/** DescribeVolumes' largest page. */
const VOLUMES_PAGE = 500

function imageMappingsOf(image: Image): ImageVolumeMapping[] {
  // Instance-store (VirtualName) and suppressed (NoDevice) mappings make no EBS volume.
  return (image.BlockDeviceMappings ?? []).flatMap(({ DeviceName, Ebs }) =>
    DeviceName && Ebs
      ? [
          {
            deviceName: DeviceName,
            deleteOnTermination: Ebs.DeleteOnTermination,
            snapshotId: Ebs.SnapshotId || undefined,
            sizeGiB: Ebs.VolumeSize,
            volumeType: Ebs.VolumeType,
            iops: Ebs.Iops,
            throughput: Ebs.Throughput,
            encrypted: Ebs.Encrypted,
            kmsKeyId: Ebs.KmsKeyId
          }
        ]
      : []
  )
}

function volumeRecordOf(volume: Volume): VolumeRecord | undefined {
  const { VolumeId, Size, VolumeType } = volume
  // Without these the volume cannot be compared or priced; leaving it out keeps it.
  if (!VolumeId || Size === undefined || !VolumeType) return undefined
  return {
    id: VolumeId,
    state: volume.State ?? 'unknown',
    availabilityZone: volume.AvailabilityZone,
    createTime: volume.CreateTime?.toISOString(),
    snapshotId: volume.SnapshotId || undefined,
    sizeGiB: Size,
    volumeType: VolumeType,
    iops: volume.Iops,
    throughput: volume.Throughput,
    encrypted: volume.Encrypted === true,
    kmsKeyId: volume.KmsKeyId,
    tags: new Map((volume.Tags ?? []).flatMap(({ Key, Value }) => (Key === undefined ? [] : [[Key, Value ?? '']])))
  }
}

/** `read` over the distinct IDs, 200 (one filter's worth) at a time, side by side; the first failure is the error. */
async function inBatches<Item>(ids: readonly string[], read: (batch: string[]) => Promise<Item[]>): Promise<Item[]> {
  const batches = chunk([...new Set(ids)], MAX_FILTER_VALUES)
  return (await inOrder<Item[][]>(batches.map(read))).flat()
}

/**
 * The EBS mappings of each source image that can still be read, by image ID; a gone or no longer
 * shared image is absent. Owners is not set: source images are often public or shared. Deprecated
 * and disabled images still say what they mapped.
 */
export async function readImageMappings(
  client: EC2Client,
  imageIds: readonly string[],
  abortSignal?: AbortSignal
): Promise<Map<string, ImageVolumeMapping[]>> {
  const images = await inBatches(imageIds, (batch) =>
    describing(PERMISSION.describeImages, () =>
      collect(
        paginateDescribeImages(
          { client },
          {
            Filters: [{ Name: 'image-id', Values: batch }],
            IncludeDeprecated: true,
            IncludeDisabled: true,
            MaxResults: IMAGES_PAGE
          },
          { abortSignal }
        ),
        (page) => page.Images
      )
    )
  )
  const wanted = new Set(imageIds)
  // Filtered again here: an endpoint that ignored the filter cannot lend one image another's mappings.
  return new Map(
    images.flatMap((image) =>
      image.ImageId && wanted.has(image.ImageId) ? [[image.ImageId, imageMappingsOf(image)]] : []
    )
  )
}

/**
 * The KMS keys of the encrypted snapshots among `snapshotIds` that can be read: own, public or
 * shared ones (no owner set). A volume made from a mapping takes its snapshot's key unless the
 * launch named another, and DescribeImages seldom names one. Independent of the termination, so
 * the sweep can run it beside the post-termination volume read.
 */
export async function readSnapshotKeys(
  client: EC2Client,
  snapshotIds: readonly string[],
  abortSignal?: AbortSignal
): Promise<Map<string, string>> {
  const snapshots = await inBatches(snapshotIds, (batch) =>
    describing(PERMISSION.describeSnapshots, () =>
      collect(
        paginateDescribeSnapshots(
          { client },
          { Filters: [{ Name: 'snapshot-id', Values: batch }], MaxResults: SNAPSHOTS_PAGE },
          { abortSignal }
        ),
        (page) => page.Snapshots
      )
    )
  )
  const wanted = new Set(snapshotIds)
  return new Map(
    snapshots.flatMap(({ SnapshotId, Encrypted, KmsKeyId }) =>
      SnapshotId && wanted.has(SnapshotId) && Encrypted === true && KmsKeyId ? [[SnapshotId, KmsKeyId]] : []
    )
  )
}

/** The images' mappings, each with its snapshot's key where readSnapshotKeys found one. */
export function withSnapshotKeys(
  images: ReadonlyMap<string, readonly ImageVolumeMapping[]>,
  keys: ReadonlyMap<string, string>
): Map<string, ImageVolumeMapping[]> {
  return new Map(
    [...images].map(([imageId, mappings]) => [
      imageId,
      mappings.map((mapping) => {
        const key = mapping.snapshotId === undefined ? undefined : keys.get(mapping.snapshotId)
        return key === undefined ? mapping : { ...mapping, snapshotKmsKeyId: key }
      })
    ])
  )
}

/** The volumes that still exist, by ID, as read now (the sweep reads them after the termination). */
export async function readVolumes(
  client: EC2Client,
  volumeIds: readonly string[],
  abortSignal?: AbortSignal
): Promise<Map<string, VolumeRecord>> {
  const volumes = await inBatches(volumeIds, (batch) =>
    describing(PERMISSION.describeVolumes, () =>
      collect(
        paginateDescribeVolumes(
          { client },
          { Filters: [{ Name: 'volume-id', Values: batch }], MaxResults: VOLUMES_PAGE },
          { abortSignal }
        ),
        (page) => page.Volumes
      )
    )
  )
  const wanted = new Set(volumeIds)
  return new Map(
    volumes.flatMap((volume) => {
      const record = volumeRecordOf(volume)
      return record && wanted.has(record.id) ? [[record.id, record]] : []
    })
  )
}

/** How long to read a kept volume again while EC2 still shows it attached to its terminated builder. */
export interface DetachWait {
  maxWaitSeconds: number
  minDelaySeconds: number
  maxDelaySeconds: number
}

/**
 * The volumes as they are once their builder is gone: read after the termination and, while any of
 * `awaited` still reads `in-use` (EC2 may show a kept volume attached for a moment after its
 * instance reads `terminated`), read again with the SDK's waiter machinery until they are detached
 * or the wait ends. A volume still attached then is answered as last read, and kept: its builder is
 * gone, so only this run could have found it.
 */
export async function readVolumesDetached(
  client: EC2Client,
  volumeIds: readonly string[],
  awaited: readonly string[],
  wait: DetachWait,
  abortSignal?: AbortSignal
): Promise<Map<string, VolumeRecord>> {
  let latest = await readVolumes(client, volumeIds, abortSignal)
  const attached = () => awaited.some((id) => latest.get(id)?.state === 'in-use')
  if (!attached() || wait.maxWaitSeconds <= wait.minDelaySeconds) return latest
  const config = {
    client,
    maxWaitTime: wait.maxWaitSeconds,
    minDelay: wait.minDelaySeconds,
    maxDelay: wait.maxDelaySeconds,
    ...(abortSignal ? { abortSignal } : {})
  }
  await createWaiter(config, { VolumeIds: [...awaited] }, async () => {
    try {
      latest = await readVolumes(client, volumeIds, abortSignal)
      return { state: attached() ? WaiterState.RETRY : WaiterState.SUCCESS }
    } catch (error) {
      // The last read stands: what it shows attached is kept.
      return { state: WaiterState.FAILURE, reason: error }
    }
  }).catch(() => undefined)
  return latest
}

/** DeleteVolume; its errors (VOLUME_IN_USE_CODES, VOLUME_ALREADY_GONE_CODES, DryRunOperation) go to the engine. */
export async function deleteVolume(
  client: EC2Client,
  volumeId: string,
  dryRun: boolean,
  abortSignal?: AbortSignal
): Promise<void> {
  await client.send(new DeleteVolumeCommand({ VolumeId: volumeId, DryRun: dryRun }), { abortSignal })
}
