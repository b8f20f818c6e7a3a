/**
 * Issue 19: over random builders (devices kept or not, mapped by the image or added, attributes
 * equal or changed, any state, tags and exclusion tags, an Elastic IP or not) and random settings,
 * a volume is removable only when every attribute equals its device's mapping in the source image,
 * that mapping says DeleteOnTermination=false, it is available, carries no exclusion tag, the
 * opt-in is on, the action is terminate and the builder was terminated. Written here again from the
 * issue, not imported. And the rules name volumes only: never an address or anything else.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import {
  judgeBuilderVolumes,
  type BuilderVolumes,
  type ImageVolumeMapping,
  type VolumeRecord
} from '../../../../src/kinds/volumes/rules.js'
import { SWEEP_ACTIONS } from '../../../../src/model/types.js'

const DEVICES = ['/dev/xvda', '/dev/sdb', '/dev/sdf', '/dev/sdg']
const TYPES = ['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']
const EXCLUDE = 'packer-sweeper:keep'

const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined })
/** Mostly `likely`: so that the many conditions of a removable volume meet often enough. */
const mostly = <T>(likely: T, other: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(likely) }, { weight: 1, arbitrary: other })

const mapping = (deviceName: string) =>
  fc.record({
    deviceName: fc.constant(deviceName),
    deleteOnTermination: mostly<boolean | undefined>(false, maybe(fc.boolean())),
    snapshotId: maybe(fc.constantFrom('snap-01', 'snap-02')),
    sizeGiB: maybe(fc.constantFrom(8, 20, 40)),
    volumeType: maybe(fc.constantFrom(...TYPES)),
    iops: maybe(fc.constantFrom(100, 3000, 4000)),
    throughput: maybe(fc.constantFrom(125, 250)),
    encrypted: mostly<boolean | undefined>(false, maybe(fc.boolean())),
    kmsKeyId: mostly<string | undefined>(undefined, fc.constantFrom('key-a', 'key-b')),
    snapshotKmsKeyId: mostly<string | undefined>(undefined, fc.constantFrom('key-a', 'key-b'))
  })

const tags = mostly<[string, string][]>(
  [['Name', 'Packer Builder']],
  fc.constantFrom<[string, string][][]>(
    [],
    [['Name', 'Packer Builder']],
    [['Name', 'data']],
    [[EXCLUDE, '']],
    [['Packer-Sweeper:Keep', '']]
  )
)

/** A volume: a copy of its mapping with some attributes changed, or anything. */
const volumeFor = (id: string, source: ImageVolumeMapping | undefined) =>
  fc
    .record({
      state: mostly('available', fc.constantFrom('in-use', 'deleting', 'creating', 'error')),
      copy: mostly(true, fc.boolean()),
      snapshotId: maybe(fc.constantFrom('snap-01', 'snap-02')),
      sizeGiB: fc.constantFrom(8, 20, 40),
      volumeType: fc.constantFrom(...TYPES),
      iops: maybe(fc.constantFrom(100, 3000, 4000)),
      throughput: maybe(fc.constantFrom(125, 250)),
      encrypted: fc.boolean(),
      kmsKeyId: maybe(fc.constantFrom('key-a', 'key-b')),
      tags
    })
    .map(({ copy, tags: entries, ...random }): VolumeRecord => {
      const base = copy && source ? { ...random, ...definedOf(source) } : random
      return { ...base, id, tags: new Map(entries) }
    })

/** The attributes a mapping gives, as a volume's. */
function definedOf(source: ImageVolumeMapping): Partial<VolumeRecord> {
  const out: Partial<VolumeRecord> = { snapshotId: source.snapshotId, iops: source.iops, throughput: source.throughput }
  if (source.sizeGiB !== undefined) out.sizeGiB = source.sizeGiB
  if (source.volumeType !== undefined) out.volumeType = source.volumeType
  if (source.encrypted !== undefined) out.encrypted = source.encrypted
  const key = source.kmsKeyId ?? source.snapshotKmsKeyId
  if (key !== undefined) out.kmsKeyId = key
  return out
}

const fixture = fc
  .record({
    imageMappings: fc.subarray(DEVICES).chain((devices) => fc.tuple(...devices.map(mapping))),
    imageReadable: mostly(true, fc.boolean()),
    imageId: mostly<string | undefined>('ami-01', maybe(fc.constant('ami-01'))),
    devices: fc.subarray(DEVICES, { minLength: 1 }),
    terminated: mostly(true, fc.boolean()),
    elasticIp: fc.boolean(),
    settings: fc.record({
      deleteInheritedVolumes: mostly(true, fc.boolean()),
      action: mostly<(typeof SWEEP_ACTIONS)[number]>('terminate', fc.constantFrom(...SWEEP_ACTIONS)),
      excludeTags: fc.constantFrom([EXCLUDE], [EXCLUDE, 'keep'])
    })
  })
  .chain((base) =>
    fc
      .tuple(
        ...base.devices.map((deviceName, index) =>
          fc.record({
            deviceName: fc.constant(deviceName),
            volumeId: fc.constant(`vol-${index}`),
            deleteOnTermination: mostly(false, fc.boolean()),
            volume: fc.option(
              volumeFor(
                `vol-${index}`,
                base.imageMappings.find((candidate) => candidate.deviceName === deviceName)
              ),
              { nil: undefined, freq: 8 }
            )
          })
        )
      )
      .map((devices) => ({ ...base, devices }))
  )

describe('volume rules (property)', () => {
  it('removable only when the volume provably is its source image mapping, and every other condition holds', () => {
    fc.assert(
      fc.property(fixture, (f) => {
        const builder: BuilderVolumes & { publicIp?: string } = {
          instanceId: 'i-01',
          region: 'us-east-1',
          imageId: f.imageId,
          terminated: f.terminated,
          devices: f.devices.map(({ deviceName, volumeId, deleteOnTermination }) => ({
            deviceName,
            volumeId,
            deleteOnTermination
          })),
          // An Elastic IP on the builder is the user's: nothing in the rules may name it.
          ...(f.elasticIp ? { publicIp: '203.0.113.7' } : {})
        }
        const read = new Map(f.devices.flatMap(({ volume }) => (volume ? [[volume.id, volume] as const] : [])))
        const images = f.imageReadable ? f.imageMappings : undefined
        const decisions = judgeBuilderVolumes(builder, images, read, f.settings)

        const kept = f.devices.filter((device) => !device.deleteOnTermination).map((device) => device.volumeId)
        expect(decisions.map((decision) => decision.volumeId)).toEqual(kept)
        for (const decision of decisions) {
          expect(decision.volumeId).toMatch(/^vol-/)
          expect(JSON.stringify(decision)).not.toContain('203.0.113.7')
          if (!decision.removable) {
            expect(decision.reason).toEqual(expect.any(String))
            continue
          }
          const volume = read.get(decision.volumeId)
          const source = images?.find((m) => m.deviceName === decision.deviceName)
          expect(volume).toBeDefined()
          expect(source).toBeDefined()
          if (!volume || !source) continue
          expect(f.imageId).toBeDefined()
          expect(source.deleteOnTermination).toBe(false)
          expect(volume.snapshotId ?? '').toBe(source.snapshotId ?? '')
          expect(volume.sizeGiB).toBe(source.sizeGiB)
          expect(volume.volumeType).toBe(source.volumeType)
          if (source.iops !== undefined || ['io1', 'io2', 'gp3'].includes(volume.volumeType)) {
            expect(volume.iops).toBe(source.iops)
          }
          if (source.throughput !== undefined || volume.volumeType === 'gp3') {
            expect(volume.throughput).toBe(source.throughput)
          }
          expect(volume.encrypted).toBe(source.encrypted ?? false)
          // The mapping's key, or else its snapshot's, which a volume made from it keeps.
          expect(volume.kmsKeyId).toBe(source.kmsKeyId ?? source.snapshotKmsKeyId)
          expect(volume.state).toBe('available')
          expect(volume.tags.has(EXCLUDE)).toBe(false)
          expect(f.settings.excludeTags.some((key) => volume.tags.has(key))).toBe(false)
          expect(f.settings.deleteInheritedVolumes).toBe(true)
          expect(f.settings.action).toBe('terminate')
          expect(f.terminated).toBe(true)
        }
      }),
      { numRuns: 2000 }
    )
  })

  it('the fixtures reach removable volumes and each kind of kept one', () => {
    const reasons = new Set<string>()
    let removable = 0
    fc.assert(
      fc.property(fixture, (f) => {
        const builder: BuilderVolumes = {
          instanceId: 'i-01',
          region: 'us-east-1',
          imageId: f.imageId,
          terminated: f.terminated,
          devices: f.devices
        }
        const read = new Map(f.devices.flatMap(({ volume }) => (volume ? [[volume.id, volume] as const] : [])))
        for (const decision of judgeBuilderVolumes(
          builder,
          f.imageReadable ? f.imageMappings : undefined,
          read,
          f.settings
        )) {
          if (decision.removable) removable++
          else reasons.add((decision.reason ?? '').replace(/ in .*| \/dev.*|^\S+ after.*|the \S+ tag/, ''))
        }
      }),
      { numRuns: 2000 }
    )
    expect(removable).toBeGreaterThan(10)
    expect(reasons.size).toBeGreaterThanOrEqual(10)
  })
})
