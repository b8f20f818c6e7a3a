/**
 * The volumes kind on the committed bundle (issue 19): a stale builder's volumes kept with
 * DeleteOnTermination=false are reported; with `delete-inherited-volumes` and terminate, only the one
 * inherited from the source image is deleted, after its builder is terminated. A root resize, an
 * added launch mapping, an ebs_volumes product, an excluded volume and a volume whose source image
 * is gone are kept with their reason; the user's Elastic IP is never released. Notify, dry-run, stop,
 * the missing input and the cap change nothing.
 */
import { DescribeAddressesCommand } from '@aws-sdk/client-ec2'
import { describe, expect, it } from '@jest/globals'
import {
  ELASTIC_IP,
  US,
  VOLUME_BUILDERS,
  VOLUME_EXPECTED,
  VOLUMES,
  volumesFleet
} from '../../__fixtures__/ebs-fleet.js'
import type { Sandbox } from '../../sandbox/index.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import type { VolumeFinding } from '../../src/model/types.js'
import { ec2 } from '../sandbox/sdk.js'
import { sandboxPerTest, sorted } from './fleet.js'
import { describeRun, expectExit, summarySection } from './harness.js'

const { start } = sandboxPerTest()

const TERMINATE = {
  action: 'terminate',
  resources: 'instances,volumes',
  regions: US,
  'delete-inherited-volumes': 'true'
}
const BUILDERS = Object.values(VOLUME_BUILDERS)
/** Every kept (DeleteOnTermination=false) volume of the stale builders. */
const REPORTED = [...VOLUME_EXPECTED.deleted, ...Object.keys(VOLUME_EXPECTED.kept)]

function findings(run: RunResult): Record<string, VolumeFinding> {
  return Object.fromEntries((run.report?.volumes ?? []).map((f) => [f.id, f]))
}

function outcomes(run: RunResult): Record<string, string> {
  return Object.fromEntries(Object.entries(findings(run)).map(([id, f]) => [id, f.outcome]))
}

/** Every reported volume's expected outcome when nothing is deleted: `removable` for the inherited one. */
function expectedOutcomes(removable: string): Record<string, string> {
  return {
    ...Object.fromEntries(VOLUME_EXPECTED.deleted.map((id) => [id, removable])),
    ...Object.fromEntries(Object.keys(VOLUME_EXPECTED.kept).map((id) => [id, 'skipped']))
  }
}

/** Every call that is not a read: what could have changed something (DeregisterImage, address calls included). */
const writes = (s: Sandbox) => s.calls.filter((c) => !/^(Describe|List|Get|AssumeRole)/.test(c.action))
const deleteVolumeCalls = (s: Sandbox) => s.callsOf('DeleteVolume')

describe('volumes (resources: instances,volumes, delete-inherited-volumes)', () => {
  it('terminate: the volume inherited from the source image is deleted once its builder is terminated; every other kept volume stays, with its reason', async () => {
    const s = await start({ fleet: volumesFleet() })
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expectExit(run, 0)

    expect(sorted(run.list('acted-ids'))).toEqual(sorted(BUILDERS))
    for (const id of BUILDERS) expect(s.fleet.instance(id)?.state).toBe('terminated')

    expect(outcomes(run)).toEqual(expectedOutcomes('deleted'))
    const byId = findings(run)
    for (const [id, reason] of Object.entries(VOLUME_EXPECTED.kept)) expect(byId[id]?.reason).toMatch(reason)
    expect(byId[VOLUMES.inherited]?.volume).toMatchObject({
      instanceId: VOLUME_BUILDERS.mixed,
      deviceName: '/dev/sdf',
      sizeGiB: 20,
      volumeType: 'gp3'
    })
    expect(byId[VOLUMES.goneSourceData]?.volume.instanceId).toBe(VOLUME_BUILDERS.goneSource)
    expect(run.list('volumes')).toEqual(VOLUME_EXPECTED.deleted)

    // Only the inherited volume was deleted, after its builder's termination; the rest is detached and kept.
    const deletes = deleteVolumeCalls(s)
    expect(deletes.map((c) => c.params.VolumeId)).toEqual(VOLUME_EXPECTED.deleted)
    expect(deletes[0]?.params.DryRun).not.toBe('true')
    const terminated = s.callsOf('TerminateInstances').find((c) => c.params.DryRun !== 'true')
    expect(deletes[0]?.receivedAt).toBeGreaterThan(terminated?.answeredAt ?? Infinity)
    // The post-termination read: the volumes were read again between the termination and the delete.
    const reread = s
      .callsOf('DescribeVolumes')
      .filter(
        (c) => c.receivedAt > (terminated?.answeredAt ?? Infinity) && c.receivedAt < (deletes[0]?.receivedAt ?? 0)
      )
    expect(reread.length).toBeGreaterThanOrEqual(1)
    expect(s.fleet.volume(VOLUMES.inherited)).toBeUndefined()
    for (const id of Object.keys(VOLUME_EXPECTED.kept)) expect(s.fleet.volume(id)?.state).toBe('available')
    // The gone-source builder's root went with it (DeleteOnTermination), and is not reported.
    expect(s.fleet.volume(VOLUMES.goneSourceRoot)).toBeUndefined()
    expect(byId[VOLUMES.goneSourceRoot]).toBeUndefined()

    // The summary's Volumes section lists them with their outcomes.
    const section = summarySection(run.summary, 'Volumes')
    for (const id of REPORTED) expect(section).toContain(id)
    expect(section).toContain('deleted')
    expect(section).toContain('a launch mapping: the source image does not map /dev/sdg')
  })

  it('an Elastic IP on a builder is never released: no address call, and the allocation survives the termination', async () => {
    const s = await start({ fleet: volumesFleet() })
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, resources: 'all' } })
    expectExit(run, 0)
    expect(s.fleet.instance(VOLUME_BUILDERS.elasticIp)?.state).toBe('terminated')
    // The writes are the termination and the inherited volume's delete: nothing about addresses.
    expect(s.calls.filter((c) => /Address/.test(c.action))).toEqual([])
    expect(sorted(new Set(writes(s).map((c) => c.action)))).toEqual(['DeleteVolume', 'TerminateInstances'])
    const answer = await ec2(s, US).send(new DescribeAddressesCommand({ AllocationIds: [ELASTIC_IP.allocationId] }))
    expect(answer.Addresses).toEqual([
      expect.objectContaining({ AllocationId: ELASTIC_IP.allocationId, PublicIp: ELASTIC_IP.publicIp })
    ])
    // Termination disassociated it, as EC2 does; the allocation is still the user's.
    expect(answer.Addresses?.[0]?.InstanceId).toBeUndefined()
    // resources: all reports images too (none here) and the volumes section.
    expect(summarySection(run.summary, 'Volumes')).toContain(VOLUMES.inherited)
  })

  it('notify reports what terminate would delete and changes nothing', async () => {
    const s = await start({ fleet: volumesFleet() })
    const before = s.fleet.snapshot()
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, action: 'notify' } })
    expectExit(run, 0)
    expect(writes(s)).toEqual([])
    expect(s.fleet.snapshot()).toEqual(before)
    expect(outcomes(run)).toEqual(expectedOutcomes('notified'))
    expect(findings(run)[VOLUMES.inherited]?.reason).toBe('terminate would delete it once its builder is terminated')
    for (const [id, reason] of Object.entries(VOLUME_EXPECTED.kept)) expect(findings(run)[id]?.reason).toMatch(reason)
  })

  it('dry-run proves DeleteVolume with EC2’s DryRun and changes nothing', async () => {
    const s = await start({ fleet: volumesFleet() })
    const before = s.fleet.snapshot()
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'dry-run': 'true' } })
    expectExit(run, 0)
    expect(s.fleet.snapshot()).toEqual(before)
    for (const call of writes(s)) expect(call.params.DryRun).toBe('true')
    const deletes = deleteVolumeCalls(s)
    expect(deletes.map((c) => c.params.VolumeId)).toEqual(VOLUME_EXPECTED.deleted)
    for (const call of deletes) expect(call).toMatchObject({ errorCode: 'DryRunOperation' })
    expect(outcomes(run)).toEqual(expectedOutcomes('dry-run'))
  })

  it('without delete-inherited-volumes nothing is deleted: the inherited volume is reported with the opt-in', async () => {
    const s = await start({ fleet: volumesFleet() })
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'delete-inherited-volumes': 'false' } })
    expectExit(run, 0)
    expect(writes(s).map((c) => c.action)).toEqual(['TerminateInstances'])
    // The builders are terminated; every kept volume survives them.
    for (const id of BUILDERS) expect(s.fleet.instance(id)?.state).toBe('terminated')
    for (const id of REPORTED) expect(s.fleet.volume(id)?.state).toBe('available')
    expect(outcomes(run)).toEqual(expectedOutcomes('skipped'))
    expect(findings(run)[VOLUMES.inherited]?.reason).toBe(
      'inherited from the source image; delete-inherited-volumes is off'
    )
    expect(run.list('volumes')).toEqual([])
  })

  it('builders that read shutting-down for seconds: the inherited volume is read again and deleted only once its builder is terminated', async () => {
    const delayMs = 2000
    const s = await start({ fleet: volumesFleet(), transitionDelayMs: delayMs })
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expectExit(run, 0)
    expect(s.fleet.instance(VOLUME_BUILDERS.mixed)?.history).toEqual(['running', 'shutting-down', 'terminated'])
    const terminated = s.callsOf('TerminateInstances')[0]
    const deletes = deleteVolumeCalls(s)
    expect(deletes.map((c) => c.params.VolumeId)).toEqual(VOLUME_EXPECTED.deleted)
    // Never refused as attached: the delete waited for the builder, not for luck.
    expect(s.calls.filter((c) => c.errorCode === 'VolumeInUse')).toEqual([])
    expect((deletes[0]?.receivedAt ?? 0) - (terminated?.receivedAt ?? Infinity)).toBeGreaterThanOrEqual(delayMs - 50)
    expect(outcomes(run)).toEqual(expectedOutcomes('deleted'))
  })

  it('a builder EC2 refuses to terminate keeps its inherited volume: it never became available', async () => {
    const s = await start({ fleet: volumesFleet() })
    s.fleet.update(VOLUME_BUILDERS.mixed, { disableApiTermination: true })
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expect(run.exitCode).not.toBe(0)
    expect(s.fleet.instance(VOLUME_BUILDERS.mixed)?.state).toBe('running')
    expect(deleteVolumeCalls(s)).toEqual([])
    expect(s.fleet.volume(VOLUMES.inherited)?.state).toBe('in-use')
    const inherited = findings(run)[VOLUMES.inherited]
    expect(inherited?.outcome).toBe('in-use')
    expect(inherited?.reason).toBe(
      `its builder ${VOLUME_BUILDERS.mixed} did not reach terminated: ${VOLUME_BUILDERS.mixed} was not terminated by this run`
    )
  })

  it('volumes without instances in resources is refused before any AWS call: alone they would find nothing', async () => {
    const s = await start({ fleet: volumesFleet() })
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, resources: 'volumes' } })
    expectExit(run, 1)
    expect(s.calls).toEqual([])
    const errors = run.stdout.split('\n').filter((line) => line.startsWith('::error'))
    expect(errors.join('\n')).toContain('selects volumes without instances')
  })

  it('stop deletes no volume', async () => {
    const s = await start({ fleet: volumesFleet() })
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, action: 'stop' } })
    expectExit(run, 0)
    // The running builders are stopped; no volume is touched.
    expect(writes(s).map((c) => c.action)).toEqual(['StopInstances'])
    for (const id of REPORTED) expect(s.fleet.volume(id)).toBeDefined()
    expect(findings(run)[VOLUMES.inherited]?.reason).toBe(
      'stop leaves volumes alone: a stopped builder still holds them'
    )
  })

  it('max-resources counts volumes: over the cap, nothing is removed', async () => {
    const s = await start({ fleet: volumesFleet() })
    const before = s.fleet.snapshot()
    // Three builders and one volume: four.
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'max-resources': '3' } })
    expectExit(run, 1)
    expect(writes(s)).toEqual([])
    expect(s.fleet.snapshot()).toEqual(before)
    expect(run.report?.errors.join('\n')).toMatch(/^max-resources: 4 resources would be terminated or deleted/)
    expect(findings(run)[VOLUMES.inherited]).toMatchObject({
      outcome: 'notified',
      reason: 'not acted on: the run is over its cap'
    })
    const t = await start({ fleet: volumesFleet() })
    const atCap = await runAction({ sandbox: t, inputs: { ...TERMINATE, 'max-resources': '4' } })
    if (atCap.exitCode !== 0) throw new Error(describeRun(atCap))
    expect(deleteVolumeCalls(t).map((c) => c.params.VolumeId)).toEqual(VOLUME_EXPECTED.deleted)
  })
})
