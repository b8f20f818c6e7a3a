/**
 * The images kind's reads, in two sequential round trips per region:
 *
 * 1. `findImages`: the account's images made from the builders this sweep matched
 *    (`source-instance-id`, 200 values a call) and, with `tags`, those carrying every `tags` line,
 *    in parallel.
 * 2. `completeImages`: in parallel, the copies in this region of the other swept regions'
 *    candidates (`source-image-id`, 200 values a call), each candidate's launch permissions
 *    (DescribeImageAttribute, one image a call), its snapshots (DescribeSnapshots, `snapshot-id`)
 *    and the other images mapping them (`block-device-mapping.snapshot-id`). A copy found there
 *    needs the same three reads of its own, sent as soon as its region's copy read answers: one
 *    more round trip, only when such copies exist (their IDs cannot be known before step 1 is
 *    done everywhere). With `tags`, Packer's copies carry the run_tags (CopyImage copies tags),
 *    so step 1 already found them by their tags and that extra trip does not happen.
 *
 * Copies in regions outside `regions` are not read at all (listing them needs a read in that
 * region): the report says what copies were found, and that copies elsewhere are not swept.
 */
import {
  DescribeImageAttributeCommand,
  type EC2Client,
  type Filter,
  type Image,
  type LaunchPermission,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  type Snapshot
} from '@aws-sdk/client-ec2'
import {
  chunk,
  collect,
  DESCRIBE_PAGE_SIZE,
  inOrder,
  mapWithConcurrency,
  MAX_FILTER_VALUES
} from '../../aws/batches.js'
import { describing } from '../../aws/describe-error.js'
import { errorCode } from '../../aws/errors.js'
import type { InstanceUseQuery } from '../../engine/instance-usage.js'
import { tagMap } from '../../model/aws-data.js'
import { PERMISSION } from '../../model/permissions.js'
import {
  candidateOrigin,
  isCopyOf,
  type CandidateQuery,
  type ImageOrigin,
  type ImageRecord,
  type ImageSnapshot
} from './rules.js'

/** Instances know the image they run by its ID: the live-instance pass answers who uses a candidate. */
export const BY_IMAGE_ID: InstanceUseQuery<{ image: ImageRecord }> = {
  usedValue: (instance) => instance.ImageId,
  candidateValue: ({ image }) => image.id
}

/**
 * DescribeImageAttribute calls in flight at once, per region: one per image, none batched by EC2.
 * EC2 gives each non-mutating API its own bucket per region, 100 tokens refilled at 20 a second: a quarter of it.
 */
export const ATTRIBUTE_CONCURRENCY = 25

/** An image of the account found by the first read, with why it is a candidate. */
export interface FoundImage {
  image: Image
  origin: ImageOrigin
}

/** Every image of the account that the filters select, page by page (1,000 a page). */
async function describeOwnImages(client: EC2Client, filters: Filter[], abortSignal?: AbortSignal): Promise<Image[]> {
  return collect(
    paginateDescribeImages(
      { client, pageSize: DESCRIBE_PAGE_SIZE },
      { Owners: ['self'], Filters: filters },
      { abortSignal }
    ),
    (page) => page.Images
  )
}

/** One read per batch of at most 200 values of one filter, all in parallel. */
async function describeOwnImagesBy(
  client: EC2Client,
  filterName: string,
  values: readonly string[],
  abortSignal?: AbortSignal
): Promise<Image[]> {
  const batches = chunk([...new Set(values)], MAX_FILTER_VALUES)
  const pages = await inOrder(
    batches.map((batch) => describeOwnImages(client, [{ Name: filterName, Values: batch }], abortSignal))
  )
  return pages.flat()
}

function byImageId(images: readonly Image[]): Image[] {
  const seen = new Map<string, Image>()
  for (const image of images) if (image.ImageId && !seen.has(image.ImageId)) seen.set(image.ImageId, image)
  return [...seen.values()]
}

const imageFacts = (image: Image) => ({
  sourceInstanceId: image.SourceInstanceId,
  sourceImageId: image.SourceImageId,
  tags: tagMap(image.Tags)
})

/**
 * Round trip 1 in a region: the account's images that are candidates (`candidateOrigin` judges
 * what the filters returned, so an endpoint's loose filtering never widens the set). No builder
 * and no `tags`: no call.
 */
export async function findImages(
  client: EC2Client,
  query: CandidateQuery,
  abortSignal?: AbortSignal
): Promise<FoundImage[]> {
  const tagFilters: Filter[] = query.tags.map((tag) => ({ Name: `tag:${tag.key}`, Values: [tag.value] }))
  const [fromBuilders, fromTags] = await describing(PERMISSION.describeImages, () =>
    inOrder([
      describeOwnImagesBy(client, 'source-instance-id', [...query.builderIds], abortSignal),
      query.tags.length > 0 ? describeOwnImages(client, tagFilters, abortSignal) : Promise.resolve([])
    ] as const)
  )
  const found: FoundImage[] = []
  for (const image of byImageId([...fromBuilders, ...fromTags])) {
    const origin = candidateOrigin(imageFacts(image), query)
    if (origin) found.push({ image, origin })
  }
  return found
}

/** The snapshots an image maps, once each, with the size its mapping gives. */
function mappedSnapshots(image: Image): { id: string; sizeGiB?: number }[] {
  const seen = new Map<string, number | undefined>()
  for (const mapping of image.BlockDeviceMappings ?? []) {
    const id = mapping.Ebs?.SnapshotId
    if (id && !seen.has(id)) seen.set(id, mapping.Ebs?.VolumeSize)
  }
  return [...seen].map(([id, sizeGiB]) => (sizeGiB === undefined ? { id } : { id, sizeGiB }))
}

/** Launch permissions other than public, as words: the account, organization or OU they name. */
function sharedWith(permissions: readonly LaunchPermission[]): string[] {
  return permissions.flatMap((p) =>
    p.Group === 'all' ? [] : [p.UserId ?? p.OrganizationArn ?? p.OrganizationalUnitArn ?? 'unknown']
  )
}

/** Error codes of an image that went away between the reads: its permissions are simply unknown. */
const IMAGE_GONE_CODES = new Set(['InvalidAMIID.NotFound', 'InvalidAMIID.Unavailable'])

/**
 * One image's launch permissions, or undefined when the image went away meanwhile (the rule then
 * keeps it). A refusal of the call itself fails the read, naming ec2:DescribeImageAttribute.
 */
async function launchPermissions(
  client: EC2Client,
  imageId: string,
  abortSignal?: AbortSignal
): Promise<LaunchPermission[] | undefined> {
  try {
    const answer = await client.send(
      new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }),
      { abortSignal }
    )
    return answer.LaunchPermissions ?? []
  } catch (error) {
    if (IMAGE_GONE_CODES.has(errorCode(error))) return undefined
    throw error
  }
}

/** The account's snapshots by ID (the `snapshot-id` filter, so one gone meanwhile fails nothing). */
async function describeOwnSnapshots(
  client: EC2Client,
  ids: readonly string[],
  abortSignal?: AbortSignal
): Promise<Map<string, Snapshot>> {
  const batches = chunk([...new Set(ids)], MAX_FILTER_VALUES)
  const pages = await inOrder(
    batches.map((batch) =>
      collect(
        paginateDescribeSnapshots(
          { client, pageSize: DESCRIBE_PAGE_SIZE },
          { OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: batch }] },
          { abortSignal }
        ),
        (page) => page.Snapshots
      )
    )
  )
  return new Map(pages.flat().flatMap((s) => (s.SnapshotId ? [[s.SnapshotId, s] as const] : [])))
}

/** Launch permissions, snapshots and the snapshots' other users of the images, in parallel. */
async function details(
  client: EC2Client,
  region: string,
  found: readonly FoundImage[],
  abortSignal?: AbortSignal
): Promise<ImageRecord[]> {
  if (found.length === 0) return []
  const snapshotIds = found.flatMap(({ image }) => mappedSnapshots(image).map((s) => s.id))
  const [permissions, snapshots, users] = await inOrder([
    describing(PERMISSION.describeImageAttribute, () =>
      mapWithConcurrency(found, ATTRIBUTE_CONCURRENCY, ({ image }) =>
        launchPermissions(client, image.ImageId ?? '', abortSignal)
      )
    ),
    describing(PERMISSION.describeSnapshots, () => describeOwnSnapshots(client, snapshotIds, abortSignal)),
    describing(PERMISSION.describeImages, () =>
      describeOwnImagesBy(client, 'block-device-mapping.snapshot-id', snapshotIds, abortSignal)
    )
  ] as const)
  return found.map(({ image, origin }, index) => {
    const id = image.ImageId ?? ''
    const granted = permissions[index]
    const imageSnapshots: ImageSnapshot[] = mappedSnapshots(image).map((mapped) => {
      const listed = snapshots.get(mapped.id)
      const sizeGiB = listed?.VolumeSize ?? mapped.sizeGiB
      const alsoUsedBy = users
        .filter((other) => other.ImageId !== id && mappedSnapshots(other).some((s) => s.id === mapped.id))
        .map((other) => other.ImageId ?? '')
      return {
        id: mapped.id,
        ...(listed ? { tags: tagMap(listed.Tags) } : {}),
        ...(sizeGiB === undefined ? {} : { sizeGiB }),
        alsoUsedBy: [...new Set(alsoUsedBy)].sort()
      }
    })
    const created = image.CreationDate === undefined ? NaN : Date.parse(image.CreationDate)
    const record: ImageRecord = {
      id,
      region,
      name: image.Name ?? '',
      state: image.State ?? 'unknown',
      tags: tagMap(image.Tags),
      origin,
      public: image.Public === true || (granted ?? []).some((p) => p.Group === 'all'),
      snapshots: imageSnapshots
    }
    if (Number.isFinite(created)) record.createdAt = new Date(created)
    if (granted) record.sharedWith = sharedWith(granted)
    if (image.DeregistrationProtection !== undefined) record.deregistrationProtection = image.DeregistrationProtection
    if (image.SourceInstanceId !== undefined) record.sourceInstanceId = image.SourceInstanceId
    if (image.SourceImageId !== undefined) record.sourceImageId = image.SourceImageId
    if (image.SourceImageRegion !== undefined) record.sourceImageRegion = image.SourceImageRegion
    return record
  })
}

/**
 * Round trip 2 in a region: every candidate `findImages` found here, and every copy here of a
 * candidate of another swept region (`candidatesByRegion`: each swept region's candidate IDs, this
 * one's included), complete with launch permissions, snapshots and their other users. A copy
 * already found here by its tags is not read twice.
 */
export async function completeImages(
  client: EC2Client,
  region: string,
  found: readonly FoundImage[],
  candidatesByRegion: ReadonlyMap<string, ReadonlySet<string>>,
  abortSignal?: AbortSignal
): Promise<ImageRecord[]> {
  const known = new Set(found.map(({ image }) => image.ImageId))
  const elsewhere = [...candidatesByRegion].filter(([name]) => name !== region).flatMap(([, ids]) => [...ids])
  const copies = async (): Promise<ImageRecord[]> => {
    if (elsewhere.length === 0) return []
    const listed = await describing(PERMISSION.describeImages, () =>
      describeOwnImagesBy(client, 'source-image-id', elsewhere, abortSignal)
    )
    const newCopies = byImageId(listed)
      .filter(
        (image) =>
          !known.has(image.ImageId) &&
          isCopyOf(
            { sourceImageId: image.SourceImageId, sourceImageRegion: image.SourceImageRegion },
            candidatesByRegion
          )
      )
      .map((image): FoundImage => ({ image, origin: 'copy' }))
    return details(client, region, newCopies, abortSignal)
  }
  const [own, copied] = await inOrder([details(client, region, found, abortSignal), copies()] as const)
  return [...own, ...copied]
}

/** Each swept region's candidate IDs, for `completeImages`. */
export function candidateIds(foundByRegion: ReadonlyMap<string, readonly FoundImage[]>): Map<string, Set<string>> {
  return new Map(
    [...foundByRegion].map(([region, found]) => [
      region,
      new Set(found.flatMap(({ image }) => (image.ImageId ? [image.ImageId] : [])))
    ])
  )
}
