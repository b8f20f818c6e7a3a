/**
 * What a builder's kept volumes are, and which of them a sweep may delete (issue 19). Pure: the
 * caller reads the builder's mappings (DescribeInstances), its source image's mappings
 * (DescribeImages) and the volumes after the termination (DescribeVolumes), and hands them in.
 *
 * Packer's `launch_block_device_mappings` default to DeleteOnTermination=false, so a kept volume is
 * as likely the user's (a root resize, an added disk, an amazon-ebsvolume product) as one inherited
 * from the source image. The sweep cannot read the template, so it deletes only what provably came
 * from the image: every attribute EC2 gives for the device's mapping equal, or the volume is kept.
 */
import type { InstanceDevice, SweepAction } from '../../model/types.js'

/** One device of the builder as DescribeInstances gives it (`BlockDeviceMappings[].Ebs`). */
export type BuilderDevice = InstanceDevice

/** A builder the sweep acts on, with its devices and what happened to it. */
export interface BuilderVolumes {
  instanceId: string
  region: string
  /** The instance's ImageId: the source image; absent when EC2 did not say. */
  imageId?: string
  devices: readonly BuilderDevice[]
  /** The sweep terminated it (or found it terminated): its kept volumes are now detached. */
  terminated: boolean
}

/** One EBS mapping of an image as DescribeImages gives it (`BlockDeviceMappings[].Ebs`). */
export interface ImageVolumeMapping {
  deviceName: string
  deleteOnTermination?: boolean
  snapshotId?: string
  sizeGiB?: number
  volumeType?: string
  iops?: number
  throughput?: number
  encrypted?: boolean
  /** DescribeImages rarely names one: a volume made from the mapping takes its snapshot's key. */
  kmsKeyId?: string
  /** The KMS key of the mapping's snapshot (DescribeSnapshots), when it could be read. */
  snapshotKmsKeyId?: string
}

/** A volume as DescribeVolumes gives it. */
export interface VolumeRecord {
  id: string
  state: string
  availabilityZone?: string
  /** ISO 8601. */
  createTime?: string
  snapshotId?: string
  sizeGiB: number
  volumeType: string
  iops?: number
  throughput?: number
  encrypted: boolean
  kmsKeyId?: string
  tags: ReadonlyMap<string, string>
}

/** The inputs the volume rules depend on. */
export interface VolumeSettings {
  /** The input delete-inherited-volumes. */
  deleteInheritedVolumes: boolean
  action: SweepAction
  /** Exact, case-sensitive EC2 tag keys. */
  excludeTags: readonly string[]
}

/** The verdict on one kept volume: removable, or kept with one reason. */
export interface VolumeDecision {
  volumeId: string
  instanceId: string
  region: string
  deviceName: string
  removable: boolean
  /** Why it is kept; absent when removable. */
  reason?: string
  /** The volume as read after the termination (for its size, type and cost); absent when not read. */
  volume?: VolumeRecord
}

/** The fixed reasons a volume is kept (the others name a state, a tag key, a device or attributes). */
export const VOLUME_REASONS = {
  notRead: 'DescribeVolumes did not return it (deleted meanwhile, or not readable)',
  noSourceImage: 'its builder names no source image',
  sourceImageUnknown: 'its source image is gone or not readable, so it cannot be told from a launch mapping',
  imageDeletesOnTermination: 'a launch mapping: the source image deletes this device on termination',
  ownTags: 'its tags are not those most of its builder’s volumes carry: an ebs_volumes product or tagged by hand',
  optIn: 'inherited from the source image; delete-inherited-volumes is off',
  notTerminate: 'inherited from the source image; deleted only with action terminate',
  builderNotTerminated: 'its builder was not terminated'
} as const

/** Types whose IOPS a launch mapping sets; the others report a baseline EC2 derives from the size. */
const SETTABLE_IOPS = new Set(['io1', 'io2', 'gp3'])
/** Types whose throughput a launch mapping sets. */
const SETTABLE_THROUGHPUT = new Set(['gp3'])

/**
 * The attributes in which a volume is not provably its device's image mapping, in a fixed order.
 * An attribute the mapping leaves out is equal only where a launch mapping cannot set it either.
 */
function differingAttributes(mapping: ImageVolumeMapping, volume: VolumeRecord): string[] {
  const differs: string[] = []
  if ((mapping.snapshotId ?? '') !== (volume.snapshotId ?? '')) differs.push('snapshot')
  if (mapping.sizeGiB !== volume.sizeGiB) differs.push('size')
  if (mapping.volumeType !== volume.volumeType) differs.push('type')
  const iopsDiffer = mapping.iops !== undefined ? mapping.iops !== volume.iops : SETTABLE_IOPS.has(volume.volumeType)
  if (iopsDiffer) differs.push('IOPS')
  const throughputDiffer =
    mapping.throughput !== undefined
      ? mapping.throughput !== volume.throughput
      : SETTABLE_THROUGHPUT.has(volume.volumeType)
  if (throughputDiffer) differs.push('throughput')
  if ((mapping.encrypted ?? false) !== volume.encrypted) differs.push('encryption')
  // Without the mapping's key or its snapshot's, an encrypted volume's key cannot be compared: kept.
  if ((mapping.kmsKeyId ?? mapping.snapshotKmsKeyId) !== volume.kmsKeyId) differs.push('KMS key')
  return differs
}

/** Tags, without the exclusion keys (a person may protect one volume of several). */
function tagsBesides(tags: ReadonlyMap<string, string>, excluded: readonly string[]): string {
  const entries = [...tags].filter(([key]) => !excluded.includes(key)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return JSON.stringify(entries)
}

/**
 * amazon-ebs tags every launch volume alike (run_volume_tags); amazon-ebsvolume replaces them with
 * each product volume's own tags. So the launch tags are the tag set more of the builder's volumes
 * carry than any other; a volume with another set, or with a set tied for the most, may be a
 * product and is kept. With no sibling read there is nothing to compare, and nothing tells it apart.
 */
function carriesTheLaunchTags(
  volume: VolumeRecord,
  siblings: readonly VolumeRecord[],
  excludeTags: readonly string[]
): boolean {
  const counts = new Map<string, number>()
  for (const each of [volume, ...siblings]) {
    const key = tagsBesides(each.tags, excludeTags)
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const own = counts.get(tagsBesides(volume.tags, excludeTags)) ?? 0
  return [...counts.values()].filter((count) => count >= own).length === 1
}

/**
 * Why this volume may not come from the source image, or undefined when it provably does.
 * Reads only the image, the builder and the volumes; never the inputs that say whether to act.
 */
function provenance(
  builder: BuilderVolumes,
  device: BuilderDevice,
  volume: VolumeRecord,
  imageMappings: readonly ImageVolumeMapping[] | undefined,
  siblings: readonly VolumeRecord[],
  excludeTags: readonly string[]
): string | undefined {
  if (builder.imageId === undefined) return VOLUME_REASONS.noSourceImage
  if (imageMappings === undefined) return VOLUME_REASONS.sourceImageUnknown
  const mapping = imageMappings.find((candidate) => candidate.deviceName === device.deviceName)
  if (mapping === undefined) return `a launch mapping: the source image does not map ${device.deviceName}`
  if (mapping.deleteOnTermination !== false) return VOLUME_REASONS.imageDeletesOnTermination
  const differs = differingAttributes(mapping, volume)
  if (differs.length > 0) return `differs from its source image mapping in ${differs.join(', ')}`
  if (!carriesTheLaunchTags(volume, siblings, excludeTags)) return VOLUME_REASONS.ownTags
  return undefined
}

/** Why the sweep may not delete this volume now, though it came from the source image. */
function policy(builder: BuilderVolumes, volume: VolumeRecord, settings: VolumeSettings): string | undefined {
  if (!settings.deleteInheritedVolumes) return VOLUME_REASONS.optIn
  if (settings.action !== 'terminate') return VOLUME_REASONS.notTerminate
  if (!builder.terminated) return VOLUME_REASONS.builderNotTerminated
  if (volume.state !== 'available') return `${volume.state} after the termination, not available`
  return undefined
}

/**
 * One decision per volume the builder held with DeleteOnTermination=false (the others go with the
 * instance). `imageMappings` is undefined when the source image is gone or not readable; `volumes`
 * is the read made after the termination, by volume ID.
 */
export function judgeBuilderVolumes(
  builder: BuilderVolumes,
  imageMappings: readonly ImageVolumeMapping[] | undefined,
  volumes: ReadonlyMap<string, VolumeRecord>,
  settings: VolumeSettings
): VolumeDecision[] {
  return builder.devices
    .filter((device) => !device.deleteOnTermination)
    .map((device) => {
      const base = {
        volumeId: device.volumeId,
        instanceId: builder.instanceId,
        region: builder.region,
        deviceName: device.deviceName
      }
      const volume = volumes.get(device.volumeId)
      if (volume === undefined) return { ...base, removable: false, reason: VOLUME_REASONS.notRead }
      const siblings = builder.devices
        .filter((other) => other.volumeId !== device.volumeId)
        .flatMap((other) => volumes.get(other.volumeId) ?? [])
      const excludedBy = settings.excludeTags.find((key) => volume.tags.has(key))
      const reason =
        (excludedBy !== undefined ? `carries the ${excludedBy} tag` : undefined) ??
        provenance(builder, device, volume, imageMappings, siblings, settings.excludeTags) ??
        policy(builder, volume, settings)
      return reason === undefined ? { ...base, removable: true, volume } : { ...base, removable: false, reason, volume }
    })
}
