/**
 * The images kind as the one leftover engine drives it in the account's scope, against the
 * sandbox: an interrupted build's image is found from its builder (terminated or not), judged,
 * and deregistered with its snapshots only with image-incomplete-tag, in terminate mode; an
 * instance running the image, even one launched after the plan, keeps it.
 */
import { describe, expect, it } from '@jest/globals'
import { GLOBAL_REGION, OVER_CAP, selectedKinds, isLeftoverKind } from '../../../../src/engine/kind.js'
import { KIND_MODULES } from '../../../../src/kinds/registry.js'
import { COPIES_NOT_SWEPT, MARK_BUILDS_HINT } from '../../../../src/kinds/images/rules.js'
import type { Finding, ImageFinding, Inputs } from '../../../../src/model/types.js'
import { defaultInputs, NOW } from '../../../../__fixtures__/support.js'
import {
  actOn,
  heldBack,
  inputsOf,
  planLeftovers,
  REGION,
  sandboxClient,
  testScope,
  useSandbox,
  type LeftoverRun
} from '../../engine/harness.js'

const { sandbox, seed } = useSandbox()

const STOPPED = 'i-0b020000000000001'
const TERMINATED = 'i-0b020000000000002'
const INCOMPLETE = { 'packer-build': 'incomplete' }
const TAG = { key: 'packer-build', value: 'incomplete' }

function seedBuilds(): void {
  seed({
    instances: [
      { id: STOPPED, keyName: 'packer_6745a1b2-0000-4000-8000-000000000001', state: 'stopped', age: '5h' },
      { id: TERMINATED, keyName: 'packer_6745a1b2-0000-4000-8000-000000000002', state: 'terminated', age: '5h' }
    ],
    images: [
      { ref: 'from-stopped', name: 'a', age: '3h', sourceInstanceId: STOPPED, tags: INCOMPLETE },
      { ref: 'from-terminated', name: 'b', age: '3h', sourceInstanceId: TERMINATED, tags: INCOMPLETE },
      { ref: 'complete', name: 'c', age: '3h', sourceInstanceId: STOPPED, tags: { 'packer-build': 'complete' } }
    ]
  })
}

/** The images kind in the account's scope over the test region. */
function imagesRun(inputs: Partial<Inputs>): LeftoverRun {
  const client = sandboxClient(sandbox())
  const all = defaultInputs({ resources: ['images'], action: 'terminate', ...inputs })
  const kinds = selectedKinds(KIND_MODULES, all.resources).filter(isLeftoverKind)
  return {
    kinds,
    scope: testScope({ region: GLOBAL_REGION, regions: [REGION], inputs: all, now: NOW, ec2For: () => client }, kinds)
  }
}

const idOf = (ref: string) => sandbox().fleet.imageByRef(ref)?.imageId ?? `no image ${ref}`
const isImage = (finding: Finding): finding is ImageFinding => 'image' in finding
const byName = (findings: readonly Finding[]) =>
  Object.fromEntries(findings.filter(isImage).map((finding) => [finding.name, finding]))

describe('the images kind', () => {
  it('deregisters the interrupted images of a stopped and of a terminated builder with their snapshots, and keeps the finished one', async () => {
    seedBuilds()
    const run = imagesRun({ 'image-incomplete-tag': TAG })
    const plan = await planLeftovers(run, [])
    expect(plan.changes).toBe(2)
    const found = byName(await actOn(run, plan, []))
    expect(found.a).toMatchObject({
      outcome: 'deleted',
      region: REGION,
      image: { class: 'interrupted', origin: 'builder', sourceInstanceId: STOPPED }
    })
    expect(found.a?.image.notes).toEqual([expect.stringMatching(/^snapshot snap-\w+ deleted$/), COPIES_NOT_SWEPT])
    expect(found.b).toMatchObject({ outcome: 'deleted', image: { sourceInstanceId: TERMINATED } })
    expect(found.c).toMatchObject({
      outcome: 'skipped',
      reason: 'does not carry packer-build=incomplete: not an interrupted build',
      image: { class: 'complete' }
    })
    expect(
      inputsOf(sandbox(), 'DeregisterImage')
        .map((call) => call.ImageId)
        .sort()
    ).toEqual([idOf('from-stopped'), idOf('from-terminated')].sort())
  })

  it('without image-incomplete-tag, reports every image with how to mark builds, and deregisters none', async () => {
    seedBuilds()
    const run = imagesRun({})
    const plan = await planLeftovers(run, [])
    expect(plan.changes).toBe(0)
    const found = byName(await actOn(run, plan, []))
    expect(Object.values(found).map((finding) => [finding.outcome, finding.reason])).toEqual([
      ['skipped', MARK_BUILDS_HINT],
      ['skipped', MARK_BUILDS_HINT],
      ['skipped', MARK_BUILDS_HINT]
    ])
    expect(inputsOf(sandbox(), 'DeregisterImage')).toEqual([])
  })

  it('an instance launched from an interrupted image after the plan keeps it: the listing before deregistering sees it', async () => {
    seedBuilds()
    const run = imagesRun({ 'image-incomplete-tag': TAG })
    const plan = await planLeftovers(run, [])
    expect(plan.changes).toBe(2)
    const user = 'i-0b020000000000009'
    seed({ instances: [{ id: user, state: 'running', age: '1m', imageId: idOf('from-stopped') }] })
    const found = byName(await actOn(run, plan, []))
    expect(found.a).toMatchObject({ outcome: 'in-use', reason: `in use by instance ${user} in ${REGION}` })
    expect(found.b).toMatchObject({ outcome: 'deleted' })
    expect(inputsOf(sandbox(), 'DeregisterImage').map((call) => call.ImageId)).toEqual([idOf('from-terminated')])
  })

  it('notify and dry-run change nothing; dry-run proves DeregisterImage with DryRun', async () => {
    seedBuilds()
    const notify = imagesRun({ 'image-incomplete-tag': TAG, action: 'notify' })
    const notified = byName(await actOn(notify, await planLeftovers(notify, []), []))
    expect(notified.a).toMatchObject({
      outcome: 'notified',
      reason: 'terminate would deregister it with its snapshots'
    })
    expect(inputsOf(sandbox(), 'DeregisterImage')).toEqual([])
    const dryRun = imagesRun({ 'image-incomplete-tag': TAG, 'dry-run': true })
    const proven = byName(await actOn(dryRun, await planLeftovers(dryRun, []), []))
    expect(proven.a).toMatchObject({ outcome: 'dry-run' })
    expect(inputsOf(sandbox(), 'DeregisterImage').every((call) => call.DryRun === true)).toBe(true)
    expect(sandbox().fleet.imageByRef('from-stopped')).toBeDefined()
  })
})

describe('the images kind when the run does not act', () => {
  it('a cancelled job or a cap reports what would have gone, and sends nothing', async () => {
    seedBuilds()
    const run = imagesRun({ 'image-incomplete-tag': TAG })
    const plan = await planLeftovers(run, [])
    expect(byName(heldBack(plan, 'cancelled')).a).toMatchObject({
      outcome: 'notified',
      reason: 'not deregistered: the job was cancelled first'
    })
    expect(byName(heldBack(plan, 'over-cap')).a).toMatchObject({ outcome: 'notified', reason: OVER_CAP })
    expect(inputsOf(sandbox(), 'DeregisterImage')).toEqual([])
  })
})

describe('an image an instance runs', () => {
  it('says so even when a later rule keeps it (no image-incomplete-tag, or a finished build)', async () => {
    seedBuilds()
    seed({ instances: [{ id: 'i-0b020000000000009', state: 'running', age: '1m', imageId: idOf('complete') }] })
    const run = imagesRun({})
    const found = byName(await actOn(run, await planLeftovers(run, []), []))
    expect(found.c).toMatchObject({ outcome: 'skipped', reason: `in use by instance i-0b020000000000009 in ${REGION}` })
    expect(found.a).toMatchObject({ outcome: 'skipped', reason: MARK_BUILDS_HINT })
    const withTag = imagesRun({ 'image-incomplete-tag': TAG })
    const judged = byName(await actOn(withTag, await planLeftovers(withTag, []), []))
    expect(judged.c).toMatchObject({
      outcome: 'skipped',
      reason: `in use by instance i-0b020000000000009 in ${REGION}`
    })
  })
})
