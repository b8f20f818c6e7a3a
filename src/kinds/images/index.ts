/**
 * The images a Packer build made and never finished: a cancelled build's AMI keeps being created
 * after Packer is gone, with its snapshots, billed for good. Swept in the account's scope over the
 * swept regions, since a candidate's copies (`ami_regions`) are in other regions. Every candidate
 * is reported; one is deregistered with its snapshots only on positive evidence that its build
 * never reached its last step (`image-incomplete-tag`), in terminate mode, and only when nothing
 * and nobody else uses it (rules.ts). The reads are in reads.ts, the one call in deregister.ts.
 */
import {
  leftoverPermissions,
  OVER_CAP,
  selectedIdsOutput,
  type LeftoverKindModule,
  type Scope
} from '../../engine/kind.js'
import { leftoverPart, type InstanceRef, type Planned, type Settlement } from '../../engine/leftover-kind.js'
import type { DerivedAge, Judgement } from '../../engine/leftover-model.js'
import { settleDelete } from '../../engine/regional-kind.js'
import { leftoverFinding } from '../../engine/rules.js'
import { ageSeconds } from '../../model/aws-data.js'
import { PERMISSION } from '../../model/permissions.js'
import type { ImageClass, ImageFinding, Inputs } from '../../model/types.js'
import {
  deregisterImage,
  IMAGE_ALREADY_GONE_CODES,
  IMAGE_IN_USE_CODES,
  IMAGE_PROTECTED_CODES,
  snapshotWords,
  type SnapshotResult
} from './deregister.js'
import { BY_IMAGE_ID, candidateIds, completeImages, findImages, type FoundImage } from './reads.js'
import {
  classifyImage,
  COPIES_NOT_SWEPT,
  copiesBySource,
  copyNotes,
  imageRules,
  judgeImage,
  KEEP_RULES,
  MARK_BUILDS_HINT,
  snapshotNotes,
  type ImageRecord,
  type KeepRule
} from './rules.js'
import { isFindingOf } from '../findings.js'
import { imageMonthlyCost } from '../../model/cost.js'

/** An image as the engine plans it: the record the rules judge, and what the report says of it. */
export interface ImageCandidate {
  image: ImageRecord
  class: ImageClass
  /** Its copies found in the swept regions. */
  copies: { id: string; region: string }[]
  /** What the report says of copies in regions not swept (copyNotes). */
  copyNotes: string[]
}

/** DeregisterImage calls in flight at once per region: as the other kinds' deletes, half of EC2's bucket of 50. */
const DEREGISTER_CONCURRENCY = 25

const NOT_DEREGISTERED_CANCELLED = 'not deregistered: the job was cancelled first'

/**
 * Every candidate of the swept regions: round trip 1 finds the images made from the builders (in
 * any state) or carrying the `tags`, round trip 2 completes them with their launch permissions,
 * their snapshots and the copies of the other regions' candidates.
 */
async function discoverImages(scope: Scope): Promise<ImageCandidate[]> {
  const { inputs, abortSignal } = scope
  const found = new Map<string, readonly FoundImage[]>(
    await Promise.all(
      scope.regions.map(async (region) => {
        const client = scope.ec2For(region)
        const builders = await scope.buildersInEveryState(region)
        const query = {
          builderIds: builders.matched,
          tags: inputs.tags,
          isListed: (id: string) => builders.listed.has(id)
        }
        return [region, await findImages(client, query, abortSignal)] as const
      })
    )
  )
  const candidates = candidateIds(found)
  const records = (
    await Promise.all(
      scope.regions.map((region) =>
        completeImages(scope.ec2For(region), region, found.get(region) ?? [], candidates, abortSignal)
      )
    )
  ).flat()
  const copies = copiesBySource(records)
  const incompleteTag = inputs['image-incomplete-tag']
  const notSwept = copyNotes(inputs.regions)
  return records.map((image) => ({
    image,
    class: classifyImage(image, incompleteTag),
    copies: (copies.get(image.id) ?? []).map(({ id, region }) => ({ id, region })),
    copyNotes: notSwept
  }))
}

function imageAge(image: ImageRecord, now: Date): DerivedAge {
  const created = image.createdAt
  if (!created) return { ageSource: 'unknown' }
  return { createdAt: created, ageSource: 'create-time', ageSeconds: ageSeconds(created, now) }
}

/**
 * The rules before the image's use is read, judged as terminate would judge them: notify reports
 * what terminate would deregister. The use is read for what the rules would remove, and for what a
 * rule after the use keeps, so that a used image says so (judgeImage's order, KEEP_RULES).
 */
function judge({ image }: ImageCandidate, inputs: Inputs, now: Date): Judgement {
  const age = imageAge(image, now)
  const rules = { ...imageRules(inputs, inputs['image-incomplete-tag']), action: 'terminate' as const }
  const verdict = judgeImage(image, [], rules, now)
  if (verdict.verdict === 'remove') return { age, verdict: 'check-usage' }
  // Kept by a rule that comes after the image's use: an instance running it is the better reason.
  return {
    age,
    verdict: 'skip',
    reason: verdict.reason,
    ...(AFTER_IN_USE.has(verdict.rule) ? { namesUsers: true } : {})
  }
}

/** The keep rules checked after the image's use (KEEP_RULES' order). */
const AFTER_IN_USE = new Set<KeepRule>(KEEP_RULES.slice(KEEP_RULES.indexOf('in-use') + 1))

/** A snapshot DeregisterImage did not delete for a reason other than another image's use: the removal failed. */
function snapshotFailure(results: readonly SnapshotResult[]): Settlement['error'] {
  const failed = results.filter((result) => result.returnCode !== 'success' && result.returnCode !== 'skipped')
  if (failed.length === 0) return undefined
  const missing = failed.some((result) => result.returnCode === 'missing-permissions')
  return {
    code: failed[0]?.returnCode ?? 'unknown',
    message: `the image was deregistered but ${failed.map((result) => `${result.snapshotId} (${result.returnCode})`).join(', ')} not deleted`,
    ...(missing ? { missingPermission: PERMISSION.deleteSnapshot } : {})
  }
}

function imageFinding(
  { candidate, age }: Planned<ImageCandidate>,
  { outcome, reason, error }: Settlement,
  results: readonly SnapshotResult[] = []
): ImageFinding {
  const { image } = candidate
  const resource = { kind: 'images' as const, id: image.id, name: image.name, region: image.region }
  return {
    ...leftoverFinding(resource, age, outcome, reason, error),
    image: {
      state: image.state,
      class: candidate.class,
      origin: image.origin,
      ...(image.sourceInstanceId !== undefined ? { sourceInstanceId: image.sourceInstanceId } : {}),
      ...(image.sourceImageId !== undefined ? { sourceImageId: image.sourceImageId } : {}),
      ...(image.sourceImageRegion !== undefined ? { sourceImageRegion: image.sourceImageRegion } : {}),
      snapshots: image.snapshots.map(({ id, sizeGiB }) => (sizeGiB === undefined ? { id } : { id, sizeGiB })),
      copies: candidate.copies,
      notes: [...(results.length > 0 ? snapshotWords(results) : snapshotNotes(image)), ...candidate.copyNotes]
    }
  }
}

const userWords = (user: InstanceRef) => `instance ${user.instanceId} in ${user.region}`

export const images = {
  name: 'images',
  nouns: { singular: 'image', plural: 'images', title: 'Images' },
  description:
    'The images (AMIs) Packer builds made, with their snapshots and copies: reported; deregistered only while they carry `image-incomplete-tag`.',
  outputs: [
    {
      ...selectedIdsOutput('images'),
      description:
        'JSON array of the IDs of the images a Packer build never finished (those that would be deregistered with their snapshots, or were); every candidate, kept ones with their reason, is in report.'
    }
  ],
  permissions: leftoverPermissions({
    read: [
      PERMISSION.describeInstances,
      PERMISSION.describeImages,
      PERMISSION.describeImageAttribute,
      PERMISSION.describeSnapshots
    ],
    remove: [PERMISSION.deregisterImage, PERMISSION.deleteSnapshot]
  }),
  inUseCodes: IMAGE_IN_USE_CODES,
  nameHeader: 'Image',
  dryRunCaveat:
    'DryRun of DeregisterImage proves ec2:DeregisterImage; AWS does not document that it also proves ec2:DeleteSnapshot for the snapshots',
  // Without image-incomplete-tag every image is reported only, each with the hint as its reason: said once.
  caveats: (settings) => [...(settings['image-incomplete-tag'] ? [] : [MARK_BUILDS_HINT]), COPIES_NOT_SWEPT],
  columns: {
    headers: ['State', 'Class', 'Snapshots', 'Copies'],
    cells(finding) {
      if (!isFindingOf('images', finding)) return []
      const { state, class: imageClass, snapshots, copies } = finding.image
      return [
        { data: state },
        { text: imageClass },
        { text: String(snapshots.length) },
        copies.length > 0 ? { data: copies.map(({ id, region }) => `${id} (${region})`).join(', ') } : { text: '' }
      ]
    }
  },
  storageCost: {
    what: 'the images’ snapshots',
    // Snapshots bill the data they store, at most their volumes' size: the figure is a bound.
    upperBound: true,
    priced: (finding, prices) =>
      isFindingOf('images', finding)
        ? { ...finding, image: { ...finding.image, monthlyCost: imageMonthlyCost(finding.image.snapshots, prices) } }
        : finding,
    monthlyCost: (finding) => (isFindingOf('images', finding) ? finding.image.monthlyCost : undefined)
  },
  engine: 'leftovers',
  leftovers: leftoverPart<ImageCandidate>({
    scope: 'account',
    label: 'Images',
    buildersInEveryState: true,
    discover: discoverImages,
    judge,
    sortKey: ({ image }) => [image.region, image.name, image.id],
    usedBy: BY_IMAGE_ID,
    // Only a skip whose rule comes after the use is reworded: every rule before it let the image pass.
    rewordUsed: (_candidate, users) => `in use by ${users.map(userWords).join(', ')}`,
    regionOf: ({ image }) => image.region,
    userWords,
    async remove(scope, planned) {
      const { image } = planned.candidate
      let results: SnapshotResult[] = []
      const settlement = await settleDelete(
        async () => {
          results = await deregisterImage(
            scope.ec2For(image.region),
            image.id,
            scope.inputs['dry-run'],
            scope.abortSignal
          )
        },
        {
          permission: PERMISSION.deregisterImage,
          alreadyGoneCodes: IMAGE_ALREADY_GONE_CODES,
          inUseCodes: IMAGE_IN_USE_CODES,
          keptCodes: IMAGE_PROTECTED_CODES
        }
      )
      const failure = settlement.outcome === 'deleted' ? snapshotFailure(results) : undefined
      const settled: Settlement = failure
        ? { outcome: 'failed', reason: 'deregistered, but not every snapshot was deleted', error: failure }
        : settlement
      return { ...settled, finding: imageFinding(planned, settled, results) }
    },
    concurrency: DEREGISTER_CONCURRENCY,
    finding: (planned, _region, settlement) => imageFinding(planned, settlement),
    words: {
      cancelled: NOT_DEREGISTERED_CANCELLED,
      overCap: OVER_CAP,
      notActed(_planned, action) {
        if (action === 'stop') return 'stop leaves images alone: there is nothing to stop'
        if (action === 'terminate') return 'not deregistered: this run made no changes'
        return 'terminate would deregister it with its snapshots'
      },
      holding: (holding, why) => `still used by ${holding.map(userWords).join(', ')}: ${why.join('; ')}`
    }
  })
} satisfies LeftoverKindModule
