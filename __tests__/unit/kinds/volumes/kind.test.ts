/**
 * The volumes kind as the one leftover engine drives it, against the sandbox: a stale builder's
 * kept volumes are found from its devices, judged against its source image before the
 * termination, read again after it, and only the one inherited exactly is deleted, after its
 * builder is gone, with delete-inherited-volumes and terminate only.
 */
import { describe, expect, it } from '@jest/globals'
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2'
import { discoverInstances } from '../../../../src/engine/discovery.js'
import type { Finding, Inputs, VolumeFinding } from '../../../../src/model/types.js'
import { VOLUME_REASONS } from '../../../../src/kinds/volumes/rules.js'
import {
  actOn,
  heldBack,
  inputsOf,
  orphanContext,
  planLeftovers,
  REGION,
  sandboxClient,
  useSandbox
} from '../../engine/harness.js'
import { NOW } from '../../../../__fixtures__/support.js'

const { sandbox, seed } = useSandbox()

const BUILDER = 'i-0b010000000000001'
const SOURCE = 'ami-0b010000000000001'
const SNAP = 'snap-0b010000000000001'
const INHERITED = 'vol-0b010000000000001'
const RESIZED_ROOT = 'vol-0b010000000000002'
const ADDED = 'vol-0b010000000000003'
const RUN_VOLUME_TAGS = { 'packer-run': '7' }

function seedBuilder(): void {
  seed({
    snapshots: [{ snapshotId: SNAP, volumeSize: 20 }],
    images: [
      {
        imageId: SOURCE,
        name: 'base',
        age: '30d',
        blockDeviceMappings: [
          { deviceName: '/dev/xvda', size: 8 },
          { deviceName: '/dev/sdf', snapshotId: SNAP, size: 20, deleteOnTermination: false }
        ]
      }
    ],
    instances: [
      {
        id: BUILDER,
        keyName: 'packer_6745a1b2-0000-4000-8000-000000000001',
        state: 'stopped',
        age: '5h',
        imageId: SOURCE,
        blockDeviceMappings: [
          // root resize: launch_block_device_mappings keep their volume by default
          {
            deviceName: '/dev/xvda',
            volumeId: RESIZED_ROOT,
            size: 40,
            deleteOnTermination: false,
            tags: RUN_VOLUME_TAGS
          },
          {
            deviceName: '/dev/sdf',
            volumeId: INHERITED,
            snapshotId: SNAP,
            size: 20,
            deleteOnTermination: false,
            tags: RUN_VOLUME_TAGS
          },
          { deviceName: '/dev/sdg', volumeId: ADDED, size: 100, deleteOnTermination: false, tags: RUN_VOLUME_TAGS }
        ]
      }
    ]
  })
}

/** The volumes kind in the test region, over the stale builders the sandbox lists, with `inputs`. */
async function volumesRun(inputs: Partial<Inputs>) {
  const client = sandboxClient(sandbox())
  const all = { resources: ['volumes' as const], 'delete-inherited-volumes': true, ...inputs }
  const { stale } = await discoverInstances(client, REGION, orphanContext(all).scope.inputs, NOW)
  return orphanContext(all, { staleBuilders: async () => stale })
}

const isVolume = (finding: Finding): finding is VolumeFinding => 'volume' in finding

/** The volume findings by volume ID. */
const volumesOf = (findings: readonly Finding[]): Record<string, VolumeFinding> =>
  Object.fromEntries(findings.filter(isVolume).map((finding) => [finding.id, finding]))

async function terminateBuilder(): Promise<void> {
  await sandboxClient(sandbox()).send(new TerminateInstancesCommand({ InstanceIds: [BUILDER] }))
}

describe('the volumes kind', () => {
  it('deletes only the volume inherited from the source image, after this run terminated its builder', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate' })
    const plan = await planLeftovers(run, [BUILDER])
    expect(plan.changes).toBe(1)
    await terminateBuilder()
    const found = volumesOf(await actOn(run, plan, [BUILDER]))
    expect(found[INHERITED]).toMatchObject({
      outcome: 'deleted',
      reason: `after ${BUILDER} terminated`,
      volume: { instanceId: BUILDER, deviceName: '/dev/sdf' }
    })
    // The image deletes its root on termination: a kept root is a launch mapping's (a resize).
    expect(found[RESIZED_ROOT]).toMatchObject({ outcome: 'skipped', reason: VOLUME_REASONS.imageDeletesOnTermination })
    expect(found[ADDED]).toMatchObject({
      outcome: 'skipped',
      reason: 'a launch mapping: the source image does not map /dev/sdg'
    })
    expect(inputsOf(sandbox(), 'DeleteVolume').map((call) => call.VolumeId)).toEqual([INHERITED])
    expect(sandbox().fleet.volume(INHERITED)).toBeUndefined()
  })

  it('reads the volumes again after the termination: one tagged to keep since the plan is not deleted', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate' })
    const plan = await planLeftovers(run, [BUILDER])
    expect(plan.changes).toBe(1)
    await terminateBuilder()
    // Someone tags it to keep while the builder shuts down.
    const volume = sandbox().fleet.volume(INHERITED)
    if (volume) volume.tags['packer-sweeper:keep'] = ''
    const found = volumesOf(await actOn(run, plan, [BUILDER]))
    expect(found[INHERITED]).toMatchObject({ outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' })
    expect(inputsOf(sandbox(), 'DeleteVolume')).toEqual([])
  })

  it('does not delete a volume whose builder this run did not terminate', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate' })
    const plan = await planLeftovers(run, [])
    expect(plan.changes).toBe(0)
    const found = volumesOf(await actOn(run, plan, []))
    expect(found[INHERITED]).toMatchObject({ outcome: 'skipped', reason: `in use by instance ${BUILDER}` })
    expect(inputsOf(sandbox(), 'DeleteVolume')).toEqual([])
  })

  it('without delete-inherited-volumes, reports the inherited volume and deletes nothing', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate', 'delete-inherited-volumes': false })
    const plan = await planLeftovers(run, [BUILDER])
    expect(plan.changes).toBe(0)
    await terminateBuilder()
    const found = volumesOf(await actOn(run, plan, [BUILDER]))
    expect(found[INHERITED]).toMatchObject({ outcome: 'skipped', reason: VOLUME_REASONS.optIn })
    expect(inputsOf(sandbox(), 'DeleteVolume')).toEqual([])
  })

  it('notify says what terminate would delete, and calls nothing that changes', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'notify' })
    const plan = await planLeftovers(run, [])
    const found = volumesOf(await actOn(run, plan, []))
    expect(found[INHERITED]).toMatchObject({
      outcome: 'notified',
      reason: 'terminate would delete it once its builder is terminated'
    })
    expect(found[ADDED]).toMatchObject({ outcome: 'skipped' })
    expect(inputsOf(sandbox(), 'DeleteVolume')).toEqual([])
  })

  it('dry-run proves DeleteVolume with DryRun on the inherited volume alone, and deletes nothing', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate', 'dry-run': true })
    const plan = await planLeftovers(run, [BUILDER])
    const found = volumesOf(await actOn(run, plan, [BUILDER]))
    expect(found[INHERITED]).toMatchObject({ outcome: 'dry-run' })
    expect(inputsOf(sandbox(), 'DeleteVolume')).toEqual([
      expect.objectContaining({ VolumeId: INHERITED, DryRun: true })
    ])
    expect(sandbox().fleet.volume(INHERITED)).toBeDefined()
  })

  it('a cap holds the planned deletion back, naming the cap', async () => {
    seedBuilder()
    const run = await volumesRun({ action: 'terminate' })
    const plan = await planLeftovers(run, [BUILDER])
    expect(volumesOf(heldBack(plan))[INHERITED]).toMatchObject({
      outcome: 'notified',
      reason: expect.stringMatching(/cap/)
    })
  })
})
