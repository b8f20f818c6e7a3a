/**
 * The images kind on the committed bundle (issue 19): what a cancelled build leaves in EBS is
 * reported, and only an interrupted build's image (the `image-incomplete-tag` still on it) that
 * nothing else uses or protects is deregistered with its snapshots, its copy in a swept region too.
 * Notify, dry-run, stop, the missing input and the cap change nothing.
 */
import { describe, expect, it } from '@jest/globals'
import {
  chainedBuilder,
  copyInterrupted,
  EU,
  HOSTILE_VOLUME,
  hostileEbsFleet,
  IMAGE_BUILDERS,
  IMAGE_EXPECTED,
  IMAGES,
  imagesFleet,
  INCOMPLETE_TAG,
  JOB_TAG,
  SHARED_SNAPSHOT,
  TAGGED,
  taggedImagesFleet,
  US
} from '../../__fixtures__/ebs-fleet.js'
import { HOSTILE, HOSTILE_TAG_KEY } from '../../__fixtures__/hostile-fleet.js'
import type { Sandbox } from '../../sandbox/index.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import type { ImageFinding } from '../../src/model/types.js'
import { sandboxPerTest, sorted } from './fleet.js'
import { describeRun, expectExit, summarySection } from './harness.js'
import { workflowCommands } from './runner-log.js'

const { start } = sandboxPerTest()

/** The note on every image when regions is not `all` (src/kinds/images/rules.ts, copyNotes). */
const COPIES_NOT_SWEPT = 'copies in regions outside regions are not looked for, so not removed'

const BOTH = `${US},${EU}`
const TERMINATE = {
  action: 'terminate',
  resources: 'instances,images',
  regions: BOTH,
  'image-incomplete-tag': INCOMPLETE_TAG
}

/** The sandbox with the images fleet and the interrupted image's copy in eu-west-1. */
async function seeded(options: { requestDelayMs?: number } = {}): Promise<{ s: Sandbox; copy: string }> {
  const s = await start({ fleet: imagesFleet(), regions: [US, EU], ...options })
  return { s, copy: copyInterrupted(s) }
}

function findings(run: RunResult): Record<string, ImageFinding> {
  return Object.fromEntries((run.report?.images ?? []).map((f) => [f.id, f]))
}

function outcomes(run: RunResult): Record<string, string> {
  return Object.fromEntries(Object.entries(findings(run)).map(([id, f]) => [id, f.outcome]))
}

/** Every candidate and its expected outcome when nothing is removed: `removable` for the ones terminate would deregister. */
function expectedOutcomes(copy: string, removable: string, kept = 'skipped'): Record<string, string> {
  return {
    ...Object.fromEntries([...IMAGE_EXPECTED.deregistered, copy].map((id) => [id, removable])),
    ...Object.fromEntries(Object.keys(IMAGE_EXPECTED.kept).map((id) => [id, kept]))
  }
}

/** Every call that is not a read: what could have changed something (DeregisterImage, address calls included). */
const writes = (s: Sandbox) => s.calls.filter((c) => !/^(Describe|List|Get|AssumeRole)/.test(c.action))
const deregisterCalls = (s: Sandbox) => s.callsOf('DeregisterImage')
const stateOf = (s: Sandbox, id: string) => s.fleet.image(id)?.state

/** The images and snapshots as seeded, for "nothing changed". */
function ebsState(s: Sandbox) {
  return {
    images: sorted(s.fleet.images().map((i) => `${i.imageId}:${i.state}`)),
    snapshots: sorted(s.fleet.snapshots().map((snap) => snap.snapshotId))
  }
}

describe('images (resources: instances,images, image-incomplete-tag)', () => {
  it('terminate over both regions: the interrupted images and the copy are deregistered with their snapshots; every other image is kept with its reason', async () => {
    const { s, copy } = await seeded()
    const snapshotsOf = (id: string) =>
      (s.fleet.image(id)?.blockDeviceMappings ?? []).flatMap((m) => (m.ebs ? [m.ebs.snapshotId] : []))
    const removedSnapshots = [...IMAGE_EXPECTED.deregistered, copy]
      .flatMap(snapshotsOf)
      .filter((id) => id !== SHARED_SNAPSHOT)
    const keptSnapshots = Object.keys(IMAGE_EXPECTED.kept).flatMap(snapshotsOf)
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expectExit(run, 0)

    expect(outcomes(run)).toEqual(expectedOutcomes(copy, 'deleted'))
    const byId = findings(run)
    for (const [id, reason] of Object.entries(IMAGE_EXPECTED.kept)) expect(byId[id]?.reason).toMatch(reason)
    for (const [id, imageClass] of Object.entries(IMAGE_EXPECTED.classes))
      expect(byId[id]?.image.class).toBe(imageClass)
    // Not a candidate: made from no builder, or from an instance the sweep does not match.
    expect(byId[IMAGES.other]).toBeUndefined()
    expect(byId[IMAGES.notOurs]).toBeUndefined()
    expect(sorted(run.list('images'))).toEqual(sorted([...IMAGE_EXPECTED.deregistered, copy]))

    // One DeregisterImage per image, each with its snapshots, the copy in its own region.
    const calls = deregisterCalls(s)
    expect(sorted(calls.map((c) => c.params.ImageId ?? ''))).toEqual(sorted([...IMAGE_EXPECTED.deregistered, copy]))
    for (const call of calls) {
      expect(call.params).toMatchObject({ DeleteAssociatedSnapshots: 'true' })
      expect(call.params.DryRun).not.toBe('true')
      expect(call.region).toBe(call.params.ImageId === copy ? EU : US)
    }
    for (const id of [...IMAGE_EXPECTED.deregistered, copy]) expect(stateOf(s, id)).toBe('deregistered')
    for (const id of Object.keys(IMAGE_EXPECTED.kept)) expect(stateOf(s, id)).not.toBe('deregistered')
    expect(stateOf(s, IMAGES.other)).toBe('available')
    expect(stateOf(s, IMAGES.notOurs)).toBe('available')
    for (const id of removedSnapshots) expect(s.fleet.snapshotById(id)).toBeUndefined()
    for (const id of keptSnapshots) expect(s.fleet.snapshotById(id)).toBeDefined()
    expect(s.calls.filter((c) => c.action === 'DeleteSnapshot')).toEqual([])

    // The snapshot another image maps: AWS keeps it, and the finding says so.
    expect(s.fleet.snapshotById(SHARED_SNAPSHOT)).toBeDefined()
    expect(byId[IMAGES.sharesSnapshot]?.image.notes).toContain(
      `snapshot ${SHARED_SNAPSHOT} kept: another image uses it`
    )
    // Copies in a third region would not be seen: every finding says so.
    expect(byId[IMAGES.stoppedAvailable]?.image.notes).toEqual([
      `snapshot ${snapshotsOf(IMAGES.stoppedAvailable)[0]} deleted`,
      COPIES_NOT_SWEPT
    ])

    // The copy: judged on its own in eu-west-1, named on its source.
    expect(byId[copy]?.region).toBe(EU)
    expect(byId[copy]?.image).toMatchObject({ origin: 'copy', sourceImageId: IMAGES.copied, sourceImageRegion: US })
    expect(byId[IMAGES.copied]?.image.copies).toEqual([{ id: copy, region: EU }])
    // Images from the terminated builder are found through its listing in the terminated state.
    expect(byId[IMAGES.terminatedAvailable]?.image).toMatchObject({
      origin: 'builder',
      sourceInstanceId: IMAGE_BUILDERS.terminated
    })

    // The summary's Images section lists them with their outcomes.
    const section = summarySection(run.summary, 'Images')
    for (const id of [...IMAGE_EXPECTED.deregistered, copy, IMAGES.protected, IMAGES.inUse])
      expect(section).toContain(id)
    expect(section).not.toContain(IMAGES.other)
    expect(section).toContain('deregistration protection is enabled-without-cooldown')
  })

  it('the copy’s region is not swept: the copy is neither looked for nor removed; its source is deregistered', async () => {
    const { s, copy } = await seeded()
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, regions: US } })
    expectExit(run, 0)
    expect(s.calls.filter((c) => c.region === EU && c.service === 'ec2')).toEqual([])
    expect(findings(run)[copy]).toBeUndefined()
    expect(stateOf(s, copy)).toBe('available')
    // The source is handled, and its finding says that copies outside regions were not looked for.
    expect(findings(run)[IMAGES.copied]).toMatchObject({ outcome: 'deleted', image: { copies: [] } })
    expect(findings(run)[IMAGES.copied]?.image.notes).toContain(COPIES_NOT_SWEPT)
    expect(stateOf(s, IMAGES.copied)).toBe('deregistered')
    expect(sorted(deregisterCalls(s).map((c) => c.params.ImageId ?? ''))).toEqual(sorted(IMAGE_EXPECTED.deregistered))
  })

  it('images alone (no instances): the builders are left as they are, the interrupted images are deregistered all the same', async () => {
    const { s, copy } = await seeded()
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, resources: 'images', regions: 'all' } })
    expectExit(run, 0)
    // regions: all reads every enabled region (both here): no copy can be missed, and no finding says one could.
    for (const finding of run.report?.images ?? []) expect(finding.image.notes).not.toContain(COPIES_NOT_SWEPT)
    expect(s.callsOf('TerminateInstances')).toEqual([])
    for (const id of [IMAGE_BUILDERS.stopped, IMAGE_BUILDERS.debug]) expect(s.fleet.instance(id)?.state).toBe('stopped')
    expect(outcomes(run)).toEqual(expectedOutcomes(copy, 'deleted'))
    expect(sorted(deregisterCalls(s).map((c) => c.params.ImageId ?? ''))).toEqual(
      sorted([...IMAGE_EXPECTED.deregistered, copy])
    )
  })

  it('each copy is judged on its own: a protected copy is kept while its source is deregistered', async () => {
    const s = await start({ fleet: imagesFleet(), regions: [US, EU] })
    const copy = s.fleet.copyImage(IMAGES.copied, EU, { age: '3h', deregistrationProtection: 'enabled' }).imageId
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expectExit(run, 0)
    expect(findings(run)[copy]).toMatchObject({ outcome: 'skipped', reason: 'deregistration protection is enabled' })
    expect(findings(run)[IMAGES.copied]).toMatchObject({
      outcome: 'deleted',
      image: { copies: [{ id: copy, region: EU }] }
    })
    expect(stateOf(s, copy)).toBe('available')
    expect(deregisterCalls(s).map((c) => c.params.ImageId)).not.toContain(copy)
  })

  it('with tags: an image carrying every tags line whose builder is no longer listed is a candidate, and so is its copy', async () => {
    const s = await start({ fleet: taggedImagesFleet(), regions: [US, EU] })
    const copy = s.fleet.copyImage(TAGGED.images.goneBuilder, EU, { age: '3h' }).imageId
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, tags: JOB_TAG } })
    expectExit(run, 0)
    expect(outcomes(run)).toEqual({ [TAGGED.images.goneBuilder]: 'deleted', [copy]: 'deleted' })
    expect(findings(run)[TAGGED.images.goneBuilder]?.image.origin).toBe('tags')
    // The copy carries the run_tags too (CopyImage copies tags): found by them in its own region.
    expect(findings(run)[copy]?.image).toMatchObject({ sourceImageId: TAGGED.images.goneBuilder })
    expect(sorted(deregisterCalls(s).map((c) => c.params.ImageId ?? ''))).toEqual(
      sorted([TAGGED.images.goneBuilder, copy])
    )
    for (const id of [TAGGED.images.fromUser, TAGGED.images.untagged]) expect(stateOf(s, id)).toBe('available')
    expect(s.callsOf('TerminateInstances')).toEqual([])
  })

  it('an image a stale builder of this run runs is deregistered only once that builder is terminated', async () => {
    const delayMs = 1500
    const s = await start({ fleet: imagesFleet(), regions: [US], transitionDelayMs: delayMs })
    s.fleet.seed(chainedBuilder())
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, regions: US } })
    expectExit(run, 0)
    expect(s.fleet.instance(IMAGE_BUILDERS.chained)?.history).toEqual(['running', 'shutting-down', 'terminated'])
    expect(findings(run)[IMAGES.stoppedAvailable]?.outcome).toBe('deleted')
    const terminate = s.callsOf('TerminateInstances')[0]
    const deregister = deregisterCalls(s).find((c) => c.params.ImageId === IMAGES.stoppedAvailable)
    expect((deregister?.receivedAt ?? 0) - (terminate?.receivedAt ?? Infinity)).toBeGreaterThanOrEqual(delayMs - 50)
  })

  it('notify reports what terminate would deregister and changes nothing', async () => {
    const { s, copy } = await seeded()
    const before = ebsState(s)
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, action: 'notify' } })
    expectExit(run, 0)
    expect(writes(s)).toEqual([])
    expect(deregisterCalls(s)).toEqual([])
    expect(ebsState(s)).toEqual(before)
    expect(outcomes(run)).toEqual(expectedOutcomes(copy, 'notified'))
    expect(findings(run)[IMAGES.stoppedAvailable]?.reason).toBe('terminate would deregister it with its snapshots')
    for (const [id, reason] of Object.entries(IMAGE_EXPECTED.kept)) expect(findings(run)[id]?.reason).toMatch(reason)
    expect(sorted(run.list('images'))).toEqual(sorted([...IMAGE_EXPECTED.deregistered, copy]))
  })

  it('dry-run proves DeregisterImage with EC2’s DryRun and changes nothing', async () => {
    const { s, copy } = await seeded()
    const before = ebsState(s)
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'dry-run': 'true' } })
    expectExit(run, 0)
    expect(ebsState(s)).toEqual(before)
    // Every write was a DryRun one (the builders' TerminateInstances included).
    for (const call of writes(s)) expect(call.params.DryRun).toBe('true')
    const calls = deregisterCalls(s)
    expect(sorted(calls.map((c) => c.params.ImageId ?? ''))).toEqual(sorted([...IMAGE_EXPECTED.deregistered, copy]))
    for (const call of calls) expect(call).toMatchObject({ errorCode: 'DryRunOperation' })
    expect(outcomes(run)).toEqual(expectedOutcomes(copy, 'dry-run'))
  })

  it('without image-incomplete-tag nothing is removed: the images that carry the tag say how to mark builds', async () => {
    const { s, copy } = await seeded()
    const before = ebsState(s)
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'image-incomplete-tag': '' } })
    expectExit(run, 0)
    // The stale builder is terminated; no image is touched.
    expect(writes(s).map((c) => c.action)).toEqual(['TerminateInstances'])
    expect(ebsState(s)).toEqual(before)
    const byId = findings(run)
    for (const id of [...IMAGE_EXPECTED.deregistered, copy, IMAGES.complete, IMAGES.handMade]) {
      expect(byId[id]).toMatchObject({ outcome: 'skipped' })
      expect(byId[id]?.reason).toMatch(/^reported only: set image-incomplete-tag, e\.g\. packer-build=incomplete/)
      expect(byId[id]?.image.class).toBe('unknown')
    }
    // What someone else owns or needs keeps its own reason.
    expect(byId[IMAGES.protected]?.reason).toBe('deregistration protection is enabled-without-cooldown')
    expect(byId[IMAGES.backup]?.image.class).toBe('backup')
    expect(run.list('images')).toEqual([])
    // The summary says how to mark builds.
    expect(summarySection(run.summary, 'Images')).toContain('set image-incomplete-tag, e.g. packer-build=incomplete')
  })

  it('stop removes no image', async () => {
    const { s, copy } = await seeded()
    const before = ebsState(s)
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, action: 'stop' } })
    expectExit(run, 0)
    // The builder is stopped already: nothing at all is sent.
    expect(writes(s)).toEqual([])
    expect(ebsState(s)).toEqual(before)
    const byId = findings(run)
    for (const id of [...IMAGE_EXPECTED.deregistered, copy])
      expect(byId[id]?.reason).toBe('stop leaves images alone: there is nothing to stop')
    for (const id of Object.keys(IMAGE_EXPECTED.kept)) expect(byId[id]?.outcome).toBe('skipped')
  })

  it('max-resources counts images: over the cap, nothing is removed', async () => {
    const { s } = await seeded()
    const before = ebsState(s)
    // One builder to terminate and six images to deregister: seven.
    const run = await runAction({ sandbox: s, inputs: { ...TERMINATE, 'max-resources': '6' } })
    expectExit(run, 1)
    expect(writes(s)).toEqual([])
    expect(ebsState(s)).toEqual(before)
    expect(run.report?.errors.join('\n')).toMatch(/^max-resources: 7 resources would be terminated or deleted/)
    // What terminate would deregister is reported as not acted on; the rest keeps its reason.
    const byId = findings(run)
    for (const id of IMAGE_EXPECTED.deregistered)
      expect(byId[id]).toMatchObject({ outcome: 'notified', reason: 'not acted on: the run is over its cap' })
    for (const id of Object.keys(IMAGE_EXPECTED.kept)) expect(byId[id]?.outcome).toBe('skipped')
    // At the cap, it goes ahead.
    const { s: t } = await seeded()
    const atCap = await runAction({ sandbox: t, inputs: { ...TERMINATE, 'max-resources': '7' } })
    if (atCap.exitCode !== 0) throw new Error(describeRun(atCap))
    expect(deregisterCalls(t)).toHaveLength(6)
  })
})

describe('round trips with images selected', () => {
  it('one DescribeInstances pass per region lists every state, before TerminateInstances; the images are read after it', async () => {
    const { s } = await seeded({ requestDelayMs: 50 })
    const run = await runAction({ sandbox: s, inputs: TERMINATE })
    expectExit(run, 0)
    const stateValues = (params: Record<string, string>) =>
      Object.entries(params)
        .filter(([key]) => /^Filter\.1\.Value\.\d+$/.test(key))
        .map(([, value]) => value)
    // The builders are in us-east-1: one listing before their TerminateInstances.
    const terminate = s.callsOf('TerminateInstances', US)
    expect(terminate).toHaveLength(1)
    expect(s.callsOf('TerminateInstances', EU)).toEqual([])
    const terminatedAt = terminate[0]?.receivedAt ?? 0
    expect(s.callsOf('DescribeInstances', US).filter((c) => c.receivedAt < terminatedAt)).toHaveLength(1)
    for (const region of [US, EU]) {
      const listings = s.callsOf('DescribeInstances', region)
      // The region's one pass is its first call, every state listed (terminated builders made images too).
      const [pass, ...later] = listings
      expect(pass?.params['Filter.1.Name']).toBe('instance-state-name')
      expect(stateValues(pass?.params ?? {})).toEqual(
        expect.arrayContaining(['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'])
      )
      const listed = pass?.answeredAt ?? Infinity
      const imageReads = s.calls.filter(
        (c) => c.region === region && /^Describe(Images|ImageAttribute|Snapshots)$/.test(c.action)
      )
      expect(imageReads.length).toBeGreaterThan(0)
      for (const read of imageReads) expect(read.receivedAt).toBeGreaterThanOrEqual(listed)
      // Later listings (the termination's wait, the users' recheck before DeregisterImage) come after every image read.
      const lastRead = Math.max(...imageReads.map((c) => c.answeredAt ?? Infinity))
      for (const call of later) {
        expect(call.receivedAt).toBeGreaterThanOrEqual(lastRead)
        expect(stateValues(call.params)).not.toContain('terminated')
      }
    }
  })
})

describe('hostile strings in images and volumes', () => {
  it('names, tag keys and reasons from AWS never become workflow commands, and stay exact in the report', async () => {
    const s = await start({ fleet: hostileEbsFleet() })
    const run = await runAction({
      sandbox: s,
      inputs: { ...TERMINATE, resources: 'instances,images,volumes', regions: US, 'delete-inherited-volumes': 'true' }
    })
    expectExit(run, 0)
    const commands = workflowCommands(run.stdout)
    const allowed = ['add-mask', 'group', 'endgroup', 'stop-commands', 'error', 'warning', 'notice']
    expect(commands.filter((c) => !c.resumes && !allowed.includes(c.command))).toEqual([])
    expect(commands.filter((c) => c.command === 'add-mask')).toHaveLength(2)
    for (const c of commands.filter((c) => ['error', 'warning', 'notice'].includes(c.command)))
      expect(c.data).not.toMatch(/[\r\n]|pwned/)
    // The report keeps every name exactly; the aws: keys keep their images, named in the reason.
    const names = Object.entries(HOSTILE).filter(([kind]) => kind !== 'huge')
    const images = run.report?.images ?? []
    expect(sorted(images.map((f) => f.name))).toEqual(sorted(names.map(([, name]) => name)))
    const kept = images.filter((f) => f.outcome === 'skipped')
    expect(kept).toHaveLength(Math.ceil(names.length / 2))
    for (const finding of kept)
      expect(finding.reason).toBe(
        `carries the tag key aws:${finding.name}: made by AWS Backup or Data Lifecycle Manager`
      )
    expect(images.filter((f) => f.outcome === 'deleted')).toHaveLength(Math.floor(names.length / 2))
    expect(run.report?.volumes.map((f) => [f.id, f.name])).toEqual([[HOSTILE_VOLUME, HOSTILE.lf]])
    // The summary carries them flattened: no line break from AWS survives in a row.
    const section = `${summarySection(run.summary, 'Images')}${summarySection(run.summary, 'Volumes')}`
    for (const [, name] of names.filter(([, name]) => /[\r\n]/.test(name))) expect(section).not.toContain(name)
    expect(run.summary).not.toContain(HOSTILE_TAG_KEY)
  })
})
