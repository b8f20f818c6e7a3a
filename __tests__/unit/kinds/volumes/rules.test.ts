/**
 * Issue 19: a builder's DeleteOnTermination=false volumes are reported; one is removable only when
 * it provably came from the source image (every attribute of its device's mapping equal), the opt-in
 * is on, the action is terminate, the builder was terminated and the volume, read after that, is
 * available and carries no exclusion tag.
 */
import { describe, expect, it } from '@jest/globals'
import {
  judgeBuilderVolumes,
  VOLUME_REASONS,
  type BuilderVolumes,
  type ImageVolumeMapping,
  type VolumeRecord,
  type VolumeSettings
} from '../../../../src/kinds/volumes/rules.js'

const IMAGE = 'ami-0123456789abcdef0'
const SNAP_ROOT = 'snap-0aaaaaaaaaaaaaaa1'
const SNAP_DATA = 'snap-0aaaaaaaaaaaaaaa2'

/** The source image: a root deleted on termination, a data volume kept (DeleteOnTermination=false). */
const ROOT_MAPPING: ImageVolumeMapping = {
  deviceName: '/dev/xvda',
  deleteOnTermination: true,
  snapshotId: SNAP_ROOT,
  sizeGiB: 8,
  volumeType: 'gp3',
  iops: 3000,
  throughput: 125,
  encrypted: false
}
const DATA_MAPPING: ImageVolumeMapping = {
  deviceName: '/dev/sdf',
  deleteOnTermination: false,
  snapshotId: SNAP_DATA,
  sizeGiB: 20,
  volumeType: 'gp3',
  iops: 3000,
  throughput: 125,
  encrypted: false
}
const IMAGE_MAPPINGS = [ROOT_MAPPING, DATA_MAPPING]

const TAGS = new Map([['Name', 'Packer Builder']])

/** The data volume as DescribeVolumes reads it after the termination: equal to its mapping. */
const inherited = (overrides: Partial<VolumeRecord> = {}): VolumeRecord => ({
  id: 'vol-0000000000000000d',
  state: 'available',
  availabilityZone: 'us-east-1a',
  snapshotId: SNAP_DATA,
  sizeGiB: 20,
  volumeType: 'gp3',
  iops: 3000,
  throughput: 125,
  encrypted: false,
  tags: TAGS,
  ...overrides
})

const builder = (overrides: Partial<BuilderVolumes> = {}): BuilderVolumes => ({
  instanceId: 'i-00000000000000001',
  region: 'us-east-1',
  imageId: IMAGE,
  terminated: true,
  devices: [
    { deviceName: '/dev/xvda', volumeId: 'vol-0000000000000000r', deleteOnTermination: true },
    { deviceName: '/dev/sdf', volumeId: 'vol-0000000000000000d', deleteOnTermination: false }
  ],
  ...overrides
})

const ON: VolumeSettings = { deleteInheritedVolumes: true, action: 'terminate', excludeTags: ['packer-sweeper:keep'] }

const read = (...volumes: VolumeRecord[]) => new Map(volumes.map((volume) => [volume.id, volume]))

/** The one decision for the data volume. */
function judgeData(
  volume: VolumeRecord | undefined,
  settings: VolumeSettings = ON,
  options: { builder?: BuilderVolumes; mappings?: readonly ImageVolumeMapping[] | undefined } = {}
) {
  const decisions = judgeBuilderVolumes(
    options.builder ?? builder(),
    'mappings' in options ? options.mappings : IMAGE_MAPPINGS,
    volume ? read(volume) : new Map(),
    settings
  )
  expect(decisions).toHaveLength(1)
  return decisions[0]!
}

describe('judgeBuilderVolumes', () => {
  it('a volume inherited from the source image, available after the termination, opted in: removable', () => {
    expect(judgeData(inherited())).toEqual({
      volumeId: 'vol-0000000000000000d',
      instanceId: 'i-00000000000000001',
      region: 'us-east-1',
      deviceName: '/dev/sdf',
      removable: true,
      volume: inherited()
    })
  })

  it('reports only the volumes held with DeleteOnTermination=false: the root goes with the instance', () => {
    const decisions = judgeBuilderVolumes(builder(), IMAGE_MAPPINGS, read(inherited()), ON)
    expect(decisions.map((decision) => decision.volumeId)).toEqual(['vol-0000000000000000d'])
  })

  it.each<[string, VolumeSettings]>([
    [VOLUME_REASONS.optIn, { ...ON, deleteInheritedVolumes: false }],
    [VOLUME_REASONS.notTerminate, { ...ON, action: 'notify' }],
    [VOLUME_REASONS.notTerminate, { ...ON, action: 'stop' }]
  ])('kept: %s', (reason, settings) => {
    expect(judgeData(inherited(), settings)).toMatchObject({ removable: false, reason })
  })

  it('kept while its builder was not terminated', () => {
    const decision = judgeData(inherited({ state: 'in-use' }), ON, { builder: builder({ terminated: false }) })
    expect(decision).toMatchObject({ removable: false, reason: VOLUME_REASONS.builderNotTerminated })
  })

  it.each(['in-use', 'creating', 'deleting', 'error'])('kept when it reads %s after the termination', (state) => {
    expect(judgeData(inherited({ state }))).toMatchObject({
      removable: false,
      reason: `${state} after the termination, not available`
    })
  })

  it('kept when the read after the termination did not return it', () => {
    expect(judgeData(undefined)).toMatchObject({ removable: false, reason: VOLUME_REASONS.notRead })
  })

  it('kept when it carries an exclusion tag; EC2 tag keys are case-sensitive', () => {
    const tags = new Map([...TAGS, ['packer-sweeper:keep', '']])
    expect(judgeData(inherited({ tags }))).toMatchObject({
      removable: false,
      reason: 'carries the packer-sweeper:keep tag'
    })
    const otherCase = new Map([...TAGS, ['Packer-Sweeper:Keep', '']])
    expect(judgeData(inherited({ tags: otherCase }), { ...ON, excludeTags: ['packer-sweeper:keep'] })).toMatchObject({
      removable: true
    })
  })

  it('report only when the source image is gone or not readable, or the builder names none', () => {
    expect(judgeData(inherited(), ON, { mappings: undefined })).toMatchObject({
      removable: false,
      reason: VOLUME_REASONS.sourceImageUnknown
    })
    const noImage = builder({ imageId: undefined })
    expect(judgeData(inherited(), ON, { builder: noImage, mappings: undefined })).toMatchObject({
      removable: false,
      reason: VOLUME_REASONS.noSourceImage
    })
  })

  it('an added launch mapping (a device the image does not map) is kept', () => {
    const added = builder({
      devices: [{ deviceName: '/dev/sdg', volumeId: 'vol-0000000000000000d', deleteOnTermination: false }]
    })
    expect(judgeData(inherited({ snapshotId: undefined }), ON, { builder: added })).toMatchObject({
      removable: false,
      reason: 'a launch mapping: the source image does not map /dev/sdg'
    })
  })

  it('a root-resize launch mapping (bigger, DeleteOnTermination=false over the image root deleted on termination) is kept', () => {
    const resized = builder({
      devices: [{ deviceName: '/dev/xvda', volumeId: 'vol-0000000000000000d', deleteOnTermination: false }]
    })
    const root = inherited({ snapshotId: SNAP_ROOT, sizeGiB: 40 })
    expect(judgeData(root, ON, { builder: resized })).toMatchObject({
      removable: false,
      reason: VOLUME_REASONS.imageDeletesOnTermination
    })
    // Even with an image that kept its root: the size differs.
    const keptRoot = [{ ...ROOT_MAPPING, deleteOnTermination: false }]
    expect(judgeData(root, ON, { builder: resized, mappings: keptRoot })).toMatchObject({
      removable: false,
      reason: 'differs from its source image mapping in size'
    })
  })

  it.each<[string, Partial<VolumeRecord>, string]>([
    ['snapshot', { snapshotId: 'snap-0bbbbbbbbbbbbbbb9' }, 'snapshot'],
    ['no snapshot', { snapshotId: undefined }, 'snapshot'],
    ['size', { sizeGiB: 21 }, 'size'],
    ['type', { volumeType: 'io2' }, 'type'],
    ['IOPS', { iops: 4000 }, 'IOPS'],
    ['throughput', { throughput: 250 }, 'throughput'],
    ['encryption', { encrypted: true, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k' }, 'encryption, KMS key'],
    [
      'size and type',
      { sizeGiB: 30, volumeType: 'gp2', iops: 100, throughput: undefined },
      'size, type, IOPS, throughput'
    ]
  ])('a volume that differs in %s is kept, with every differing attribute named once', (_, change, attributes) => {
    expect(judgeData(inherited(change))).toMatchObject({
      removable: false,
      reason: `differs from its source image mapping in ${attributes}`
    })
  })

  it('an encrypted volume matches only when the mapping names the same KMS key', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/k'
    const encrypted = [{ ...DATA_MAPPING, encrypted: true, kmsKeyId: key }]
    expect(judgeData(inherited({ encrypted: true, kmsKeyId: key }), ON, { mappings: encrypted })).toMatchObject({
      removable: true
    })
    const unnamed = [{ ...DATA_MAPPING, encrypted: true }]
    expect(judgeData(inherited({ encrypted: true, kmsKeyId: key }), ON, { mappings: unnamed })).toMatchObject({
      removable: false,
      reason: 'differs from its source image mapping in KMS key'
    })
  })

  it("without a key in the mapping, the snapshot's key is the one a volume made from it has", () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/k'
    const bySnapshot = [{ ...DATA_MAPPING, encrypted: true, snapshotKmsKeyId: key }]
    expect(judgeData(inherited({ encrypted: true, kmsKeyId: key }), ON, { mappings: bySnapshot })).toMatchObject({
      removable: true
    })
    // A launch mapping that re-encrypted with another key.
    const other = 'arn:aws:kms:us-east-1:123456789012:key/other'
    expect(judgeData(inherited({ encrypted: true, kmsKeyId: other }), ON, { mappings: bySnapshot })).toMatchObject({
      removable: false,
      reason: 'differs from its source image mapping in KMS key'
    })
  })

  it('IOPS and throughput a type does not let a launch mapping set are not compared (gp2 reports its baseline)', () => {
    const gp2: ImageVolumeMapping = { ...DATA_MAPPING, volumeType: 'gp2', iops: undefined, throughput: undefined }
    const volume = inherited({ volumeType: 'gp2', iops: 100, throughput: undefined })
    expect(judgeData(volume, ON, { mappings: [gp2] })).toMatchObject({ removable: true })
    // gp3 without IOPS in the mapping cannot be compared: kept.
    const gp3 = { ...DATA_MAPPING, iops: undefined }
    expect(judgeData(inherited(), ON, { mappings: [gp3] })).toMatchObject({
      removable: false,
      reason: 'differs from its source image mapping in IOPS'
    })
  })

  it('an ebs_volumes-style product (its own tags, unlike the run_volume_tags its siblings carry) is kept', () => {
    const twoKept = builder({
      devices: [
        { deviceName: '/dev/xvda', volumeId: 'vol-0000000000000000r', deleteOnTermination: true },
        { deviceName: '/dev/sdf', volumeId: 'vol-0000000000000000d', deleteOnTermination: false }
      ]
    })
    const root = inherited({ id: 'vol-0000000000000000r', state: 'deleting', snapshotId: SNAP_ROOT, sizeGiB: 8 })
    const product = inherited({
      tags: new Map([
        ['Name', 'data-volume'],
        ['team', 'storage']
      ])
    })
    const [decision] = judgeBuilderVolumes(twoKept, IMAGE_MAPPINGS, read(root, product), ON)
    expect(decision).toMatchObject({ removable: false, reason: VOLUME_REASONS.ownTags })
    // The same tags as its sibling: run_volume_tags, nothing of its own.
    const [same] = judgeBuilderVolumes(twoKept, IMAGE_MAPPINGS, read(root, inherited()), ON)
    expect(same).toMatchObject({ removable: true })
  })

  it('the launch tags are the set most of the builder’s volumes carry: a product beside them does not hold back the inherited one', () => {
    const devices = [
      { deviceName: '/dev/xvda', volumeId: 'vol-0000000000000000r', deleteOnTermination: true },
      { deviceName: '/dev/sdf', volumeId: 'vol-0000000000000000d', deleteOnTermination: false },
      { deviceName: '/dev/sdg', volumeId: 'vol-0000000000000000p', deleteOnTermination: false }
    ]
    const mappings = [...IMAGE_MAPPINGS, { ...DATA_MAPPING, deviceName: '/dev/sdg' }]
    const root = inherited({ id: 'vol-0000000000000000r', state: 'deleting', snapshotId: SNAP_ROOT, sizeGiB: 8 })
    const product = inherited({ id: 'vol-0000000000000000p', tags: new Map([['Name', 'data-volume']]) })
    const decisions = judgeBuilderVolumes(builder({ devices }), mappings, read(root, inherited(), product), ON)
    expect(decisions.map(({ volumeId, removable, reason }) => ({ volumeId, removable, reason }))).toEqual([
      { volumeId: 'vol-0000000000000000d', removable: true, reason: undefined },
      { volumeId: 'vol-0000000000000000p', removable: false, reason: VOLUME_REASONS.ownTags }
    ])
    // An exclusion tag on one volume is not a tag of its own: the others still compare alike.
    const protectedRoot = { ...root, tags: new Map([...TAGS, ['packer-sweeper:keep', '']]) }
    const [data] = judgeBuilderVolumes(builder(), IMAGE_MAPPINGS, read(protectedRoot, inherited()), ON)
    expect(data).toMatchObject({ removable: true })
  })

  it('gives exactly one reason, without nested parentheses, to every kept volume', () => {
    const reasons = [
      ...Object.values(VOLUME_REASONS),
      judgeData(inherited({ sizeGiB: 1, volumeType: 'io1', iops: 50, encrypted: true })).reason
    ]
    for (const reason of reasons) {
      expect(typeof reason).toBe('string')
      expect(reason).not.toMatch(/\([^)]*\(/)
    }
  })
})
