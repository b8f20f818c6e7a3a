/**
 * Issue 19's safety property on the committed bundle, over generated fleets: cancelled builds'
 * images with every mix of tags, states, sharing, protection, exclusion and use, and builders whose
 * kept volumes match their source image's mappings or differ from them in one attribute, by device,
 * or by their tags. Whatever the fleet, a terminate run with image-incomplete-tag and
 * delete-inherited-volumes never sends DeregisterImage for an image without exactly the incomplete
 * tag, or one shared, public, protected, in use, `aws:`-tagged, excluded (or with an excluded
 * snapshot), pending or younger than max-age; and never DeleteVolume for a volume that differs from
 * its source image's mapping or carries the exclusion tag. Each run spawns node: the runs are few and
 * the seed is fixed (FC_SEED overrides it, and then the write-call baseline is not compared).
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { startSandbox, type FleetSeed, type InstanceBlockDeviceSeed, type Tags } from '../../sandbox/index.js'
import { requireDist, runAction } from '../../sandbox/run-action.js'
import { describeRun } from './harness.js'

const R = 'us-east-1'
const SOURCE = 'ami-0e0000000000000a1'
const OWNER = '137112412989'
const KEEP = 'packer-sweeper:keep'
const LAUNCH_TAGS: Tags = { 'packer-run': '7' }
/** The source image's EBS mappings a builder's devices are compared with. */
const MAPPINGS = {
  '/dev/sdf': { snapshotId: 'snap-0e0000000000000f1', size: 20 },
  '/dev/sdg': { snapshotId: 'snap-0e0000000000000f2', size: 50 }
} as const
type Device = keyof typeof MAPPINGS

const hex = (prefix: string, n: number) => `${prefix}-0e${n.toString(16).padStart(15, '0')}`

/** How a builder's kept volume at a device relates to the image's mapping there. */
const volumeShape = fc.constantFrom('exact', 'exact', 'bigger', 'other-type', 'own-tags', 'excluded')
const imageShape = fc.record({
  tag: fc.constantFrom('incomplete', 'incomplete', 'complete', 'none', 'Incomplete'),
  // One in four of each of the others: removable images still come up in most fleets.
  awsKey: fc.constantFrom(false, false, false, true),
  excluded: fc.constantFrom(false, false, false, 'image', 'snapshot'),
  state: fc.constantFrom('available', 'available', 'failed', 'pending'),
  shared: fc.constantFrom(false, false, false, 'account', 'public'),
  protection: fc.constantFrom('disabled', 'disabled', 'disabled', 'enabled'),
  age: fc.constantFrom('3h', '3h', '30m'),
  runByLiveInstance: fc.constantFrom(false, false, false, true)
})
const builderShape = fc.record({
  devices: fc.record({ '/dev/sdf': volumeShape, '/dev/sdg': volumeShape }),
  addedMapping: fc.boolean(),
  images: fc.array(imageShape, { minLength: 1, maxLength: 3 })
})

type BuilderShape = typeof builderShape extends fc.Arbitrary<infer T> ? T : never
type ImageShape = BuilderShape['images'][number]

interface Expected {
  /** Image IDs that may be deregistered; every other one must not be. */
  removableImages: Set<string>
  /** Volume IDs that may be deleted. */
  removableVolumes: Set<string>
}

/** The fleet, and what the issue allows to go, written from the issue's words (not from the rules' code). */
function fleetOf(builders: readonly BuilderShape[]): { fleet: FleetSeed; expected: Expected } {
  const expected: Expected = { removableImages: new Set(), removableVolumes: new Set() }
  const instances: NonNullable<FleetSeed[string]['instances']> = []
  const images: NonNullable<FleetSeed[string]['images']> = [
    {
      imageId: SOURCE,
      name: 'base',
      ownerId: OWNER,
      public: true,
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', size: 8 },
        ...Object.entries(MAPPINGS).map(([deviceName, { snapshotId, size }]) => ({
          deviceName,
          snapshotId,
          size,
          deleteOnTermination: false
        }))
      ]
    }
  ]
  let n = 0
  builders.forEach((builder, b) => {
    const id = hex('i', 0x100 + b)
    const devices = (Object.keys(MAPPINGS) as Device[]).map((device): InstanceBlockDeviceSeed => {
      const shape = builder.devices[device]
      const volumeId = hex('vol', ++n)
      const { snapshotId, size } = MAPPINGS[device]
      if (shape === 'exact') expected.removableVolumes.add(volumeId)
      return {
        deviceName: device,
        volumeId,
        snapshotId,
        size: shape === 'bigger' ? size + 10 : size,
        ...(shape === 'other-type' ? { volumeType: 'io1' as const, iops: 3000 } : {}),
        deleteOnTermination: false,
        tags:
          shape === 'own-tags'
            ? { Name: 'data', team: 'storage' }
            : shape === 'excluded'
              ? { ...LAUNCH_TAGS, [KEEP]: '' }
              : LAUNCH_TAGS
      }
    })
    instances.push({
      id,
      keyName: `packer_6745a1b2-0000-4000-8000-00000000000${b}`,
      state: 'stopped',
      age: '5h',
      imageId: SOURCE,
      blockDeviceMappings: [
        { deviceName: '/dev/xvda', size: 8, deleteOnTermination: true, tags: LAUNCH_TAGS },
        ...devices,
        ...(builder.addedMapping
          ? [
              {
                deviceName: '/dev/sdh',
                volumeId: hex('vol', ++n),
                size: 100,
                deleteOnTermination: false,
                tags: LAUNCH_TAGS
              }
            ]
          : [])
      ]
    })
    builder.images.forEach((image, i) => {
      const imageId = hex('ami', 0x200 + b * 8 + i)
      images.push(imageSeed(imageId, id, image))
      if (image.runByLiveInstance)
        instances.push({ id: hex('i', 0x300 + b * 8 + i), state: 'running', age: '10m', keyName: 'deploy', imageId })
      if (removable(image)) expected.removableImages.add(imageId)
    })
  })
  return { fleet: { [R]: { instances, images, snapshots: snapshotsOf() } }, expected }
}

function snapshotsOf() {
  return Object.values(MAPPINGS).map(({ snapshotId, size }) => ({ snapshotId, volumeSize: size, ownerId: OWNER }))
}

function imageSeed(imageId: string, builder: string, image: ImageShape) {
  const tags: Record<string, string> = {}
  if (image.tag !== 'none') tags['packer-build'] = image.tag
  if (image.awsKey) tags['aws:backup:source-resource'] = builder
  if (image.excluded === 'image') tags[KEEP] = ''
  return {
    imageId,
    name: `build-${imageId}`,
    age: image.age,
    ...(image.state === 'available' ? {} : { state: image.state }),
    sourceInstanceId: builder,
    tags,
    ...(image.excluded === 'snapshot' ? { snapshotTags: { [KEEP]: 'yes' } } : {}),
    ...(image.shared === 'public' ? { public: true } : {}),
    ...(image.shared === 'account' ? { launchPermissions: [{ userId: '210987654321' }] } : {}),
    deregistrationProtection: image.protection
  }
}

/** The rule, restated: exactly the incomplete tag, nobody else's, nobody's in use, finished, stale. */
function removable(image: ImageShape): boolean {
  return (
    image.tag === 'incomplete' &&
    !image.awsKey &&
    image.excluded === false &&
    image.state !== 'pending' &&
    image.shared === false &&
    image.protection === 'disabled' &&
    image.age === '3h' &&
    !image.runByLiveInstance
  )
}

const INPUTS = {
  action: 'terminate',
  resources: 'instances,images,volumes',
  regions: R,
  'image-incomplete-tag': 'packer-build=incomplete',
  'delete-inherited-volumes': 'true',
  'max-instances': '0',
  'max-resources': '0'
}

describe('EBS leftovers on the bundle, over generated fleets', () => {
  it('never deregisters or deletes what the issue keeps, and does remove some of what it allows', async () => {
    requireDist()
    let deregistered = 0
    let deleted = 0
    await fc.assert(
      fc.asyncProperty(fc.array(builderShape, { minLength: 1, maxLength: 3 }), async (builders) => {
        const { fleet, expected } = fleetOf(builders)
        const sandbox = await startSandbox({ fleet, regions: [R] })
        try {
          const run = await runAction({ sandbox, inputs: INPUTS })
          if (run.report === undefined) throw new Error(`no report:\n${describeRun(run)}`)
          const images = sandbox.callsOf('DeregisterImage').map((call) => call.params.ImageId ?? '')
          const volumes = sandbox.callsOf('DeleteVolume').map((call) => call.params.VolumeId ?? '')
          for (const image of images) expect(expected.removableImages).toContain(image)
          for (const volume of volumes) expect(expected.removableVolumes).toContain(volume)
          deregistered += images.length
          deleted += volumes.length
        } finally {
          await sandbox.close()
        }
      }),
      { numRuns: 20, seed: Number(process.env.FC_SEED ?? 19), endOnFailure: true }
    )
    // Not vacuous: the generated fleets had removable images and volumes, and some went.
    expect(deregistered).toBeGreaterThan(0)
    expect(deleted).toBeGreaterThan(0)
  }, 180_000)
})
