/**
 * The volumes a builder held with DeleteOnTermination=false, which outlive it. Found from the
 * stale builders the region's survey matched (their devices come with the same DescribeInstances
 * pass), for each builder the sweep acts on; reported with what they cost to keep. Deleted only
 * with `delete-inherited-volumes`, in terminate mode, once this run terminated the builder and a
 * read made after the termination finds the volume `available` and still equal to its device's
 * mapping in the source image in every attribute (rules.ts): a launch mapping or an ebs_volumes
 * product is the user's and is kept.
 */
import {
  leftoverPermissions,
  OVER_CAP,
  selectedIdsOutput,
  type LeftoverKindModule,
  type Scope
} from '../../engine/kind.js'
import { leftoverPart, type Planned, type Settlement } from '../../engine/leftover-kind.js'
import type { DerivedAge, Judgement } from '../../engine/leftover-model.js'
import { settleDelete, NOT_DELETED_CANCELLED } from '../../engine/regional-kind.js'
import { leftoverFinding } from '../../engine/rules.js'
import { WAIT_MARGIN_SECONDS } from '../../engine/termination-wait.js'
import { describeReadError } from '../../aws/describe-error.js'
import { inOrder } from '../../aws/batches.js'
import { ageSeconds } from '../../model/aws-data.js'
import { PERMISSION } from '../../model/permissions.js'
import type { Inputs, InstanceRecord, VolumeFinding } from '../../model/types.js'
import { builderVolumeMonthlyCost } from '../../model/cost.js'
import { isFindingOf } from '../findings.js'
import {
  deleteVolume,
  readImageMappings,
  readSnapshotKeys,
  readVolumes,
  readVolumesDetached,
  type DetachWait,
  VOLUME_ALREADY_GONE_CODES,
  VOLUME_IN_USE_CODES,
  withSnapshotKeys
} from './reads.js'
import {
  judgeBuilderVolumes,
  type BuilderDevice,
  type BuilderVolumes,
  type ImageVolumeMapping,
  type VolumeDecision,
  type VolumeRecord
} from './rules.js'

/** One kept volume of a builder, with what its judgement reads: the source image's mappings and the builder's volumes. */
export interface VolumeCandidate {
  builder: BuilderVolumes
  device: BuilderDevice
  /** The source image's EBS mappings; undefined when the image is gone or not readable. */
  mappings?: readonly ImageVolumeMapping[]
  /** The builder's volumes by ID, as last read (before the termination when planned, after it when rechecked). */
  volumes: ReadonlyMap<string, VolumeRecord>
}

/** DeleteVolume calls in flight at once, per region. */
const DELETE_CONCURRENCY = 25

const NOT_READ_AFTER = 'could not read the volume after its builder was terminated'

/** The builders whose kept volumes are looked at: those the sweep acts on (not excluded) that keep any. */
function buildersKeepingVolumes(builders: readonly InstanceRecord[]): InstanceRecord[] {
  return builders.filter(
    (builder) =>
      builder.excludedBy === undefined && (builder.devices ?? []).some((device) => !device.deleteOnTermination)
  )
}

/**
 * The kept volumes of the region's stale builders, with their source images' mappings (and the
 * keys of those mappings' encrypted snapshots) and the volumes as they are before the termination:
 * one round trip for the images and volumes side by side, one more only for snapshot keys.
 */
async function discoverVolumes(scope: Scope): Promise<VolumeCandidate[]> {
  const builders = buildersKeepingVolumes(await scope.staleBuilders())
  if (builders.length === 0) return []
  const client = scope.ec2For(scope.region)
  const imageIds = builders.flatMap((builder) => (builder.imageId ? [builder.imageId] : []))
  const volumeIds = builders.flatMap((builder) => (builder.devices ?? []).map((device) => device.volumeId))
  const [images, volumes] = await inOrder([
    readImageMappings(client, imageIds, scope.abortSignal),
    readVolumes(client, volumeIds, scope.abortSignal)
  ] as const)
  // A volume made from an encrypted mapping takes its snapshot's key, which DescribeImages seldom names.
  const unkeyed = [...images.values()]
    .flat()
    .flatMap((mapping) => (mapping.encrypted && !mapping.kmsKeyId && mapping.snapshotId ? [mapping.snapshotId] : []))
  const keys =
    unkeyed.length > 0 ? await readSnapshotKeys(client, unkeyed, scope.abortSignal) : new Map<string, string>()
  const mappings = withSnapshotKeys(images, keys)
  return builders.flatMap((record) => {
    const devices = record.devices ?? []
    const builder: BuilderVolumes = {
      instanceId: record.id,
      region: scope.region,
      ...(record.imageId ? { imageId: record.imageId } : {}),
      devices,
      terminated: false
    }
    const own = new Map(
      devices.flatMap((device) => {
        const volume = volumes.get(device.volumeId)
        return volume ? [[device.volumeId, volume] as const] : []
      })
    )
    const imageMappings = record.imageId ? mappings.get(record.imageId) : undefined
    return devices
      .filter((device) => !device.deleteOnTermination)
      .map((device) => ({ builder, device, ...(imageMappings ? { mappings: imageMappings } : {}), volumes: own }))
  })
}

/** The rules' verdict on the candidate's volume, with the builder taken as terminated. */
function decide(
  candidate: VolumeCandidate,
  inputs: Inputs,
  volumes: ReadonlyMap<string, VolumeRecord>
): VolumeDecision {
  const settings = {
    deleteInheritedVolumes: inputs['delete-inherited-volumes'],
    action: inputs.action,
    excludeTags: inputs['exclude-tag']
  }
  const decisions = judgeBuilderVolumes(
    { ...candidate.builder, terminated: true },
    candidate.mappings,
    volumes,
    settings
  )
  const decision = decisions.find((each) => each.volumeId === candidate.device.volumeId)
  if (!decision) throw new Error(`no decision for ${candidate.device.volumeId}`)
  return decision
}

/**
 * How long a kept volume may still read attached after its builder reads `terminated`: a minute at
 * most, the termination wait's pace, and never past the phase's deadline.
 */
function detachWait(scope: Scope): DetachWait {
  const { terminationWait, deadlineAt } = scope
  const untilDeadline = deadlineAt === undefined ? Infinity : (deadlineAt - Date.now()) / 1000 - WAIT_MARGIN_SECONDS
  return {
    maxWaitSeconds: Math.min(DETACH_WAIT_SECONDS, terminationWait.maxWaitSeconds, untilDeadline),
    minDelaySeconds: terminationWait.minDelaySeconds,
    maxDelaySeconds: terminationWait.maxDelaySeconds
  }
}

/** EC2 detaches a kept volume within seconds of its instance's termination. */
const DETACH_WAIT_SECONDS = 60

/** The volumes as they will be once the builder is gone: detached, available. */
function asDetached(volumes: ReadonlyMap<string, VolumeRecord>): Map<string, VolumeRecord> {
  return new Map([...volumes].map(([id, volume]) => [id, { ...volume, state: 'available' }]))
}

function volumeAge(candidate: VolumeCandidate, now: Date): DerivedAge {
  const created = candidate.volumes.get(candidate.device.volumeId)?.createTime
  if (!created) return { ageSource: 'unknown' }
  const createdAt = new Date(created)
  return { createdAt, ageSource: 'create-time', ageSeconds: ageSeconds(createdAt, now) }
}

/**
 * Judged before the termination as terminate would judge it once the builder is gone (notify
 * reports what terminate would delete): only what provably came from the source image, opted in,
 * goes on to wait for its builder and to be read again.
 */
function judge(candidate: VolumeCandidate, inputs: Inputs, now: Date): Judgement {
  const age = volumeAge(candidate, now)
  const decision = decide(candidate, { ...inputs, action: 'terminate' }, asDetached(candidate.volumes))
  if (decision.removable) return { age, verdict: 'check-usage' }
  return { age, verdict: 'skip', reason: decision.reason ?? 'kept' }
}

function volumeFinding(
  { candidate, age }: Planned<VolumeCandidate>,
  { outcome, reason, error }: Settlement
): VolumeFinding {
  const { builder, device } = candidate
  const volume = candidate.volumes.get(device.volumeId)
  const name = volume?.tags.get('Name') ?? ''
  const resource = { kind: 'volumes' as const, id: device.volumeId, name, region: builder.region }
  return {
    ...leftoverFinding(resource, age, outcome, reason, error),
    volume: {
      instanceId: builder.instanceId,
      deviceName: device.deviceName,
      ...(volume ? { state: volume.state, sizeGiB: volume.sizeGiB, volumeType: volume.volumeType } : {})
    }
  }
}

export const volumes = {
  name: 'volumes',
  nouns: { singular: 'volume', plural: 'volumes', title: 'Volumes' },
  description:
    'The volumes a stale builder keeps (DeleteOnTermination=false): reported; deleted only with `delete-inherited-volumes`, when provably inherited from its source image.',
  outputs: [
    {
      ...selectedIdsOutput('volumes'),
      description:
        'JSON array of the IDs of the builder volumes that would be deleted (or were): inherited from the source image, with delete-inherited-volumes; every kept volume, with its reason, is in report.'
    }
  ],
  permissions: leftoverPermissions({
    read: [
      PERMISSION.describeInstances,
      PERMISSION.describeImages,
      PERMISSION.describeSnapshots,
      PERMISSION.describeVolumes
    ],
    remove: [PERMISSION.deleteVolume]
  }),
  inUseCodes: VOLUME_IN_USE_CODES,
  nameHeader: 'Volume',
  columns: {
    headers: ['Builder', 'Device', 'Size'],
    cells(finding) {
      if (!isFindingOf('volumes', finding)) return []
      const { instanceId, deviceName, sizeGiB, volumeType } = finding.volume
      return [
        { data: instanceId },
        { data: deviceName },
        sizeGiB !== undefined && volumeType !== undefined
          ? { data: `${sizeGiB} GiB ${volumeType}` }
          : { text: 'not read' }
      ]
    }
  },
  storageCost: {
    what: 'the builders’ volumes',
    upperBound: false,
    priced: (finding, prices) =>
      isFindingOf('volumes', finding)
        ? { ...finding, volume: { ...finding.volume, monthlyCost: builderVolumeMonthlyCost(finding.volume, prices) } }
        : finding,
    monthlyCost: (finding) => (isFindingOf('volumes', finding) ? finding.volume.monthlyCost : undefined)
  },
  engine: 'leftovers',
  leftovers: leftoverPart<VolumeCandidate>({
    scope: 'region',
    discover: discoverVolumes,
    judge,
    sortKey: ({ builder, device }) => [builder.instanceId, device.deviceName],
    // Its builder holds it: only terminate frees it, once this run terminates that builder.
    async users(scope) {
      return {
        of: (candidate) =>
          scope.inputs.action === 'terminate'
            ? { instances: [{ instanceId: candidate.builder.instanceId, region: scope.region }], others: [] }
            : undefined
      }
    },
    userWords: (user) => `instance ${user.instanceId}`,
    /**
     * The read made after the termination: a volume is deleted only as it is now (detached,
     * available, still equal to its mapping, not tagged for exclusion since). Under dry-run the
     * builder was not terminated, so its volumes are judged as they will be once it is.
     */
    async recheck(scope, free, settle) {
      const ids = free.flatMap(({ candidate }) => candidate.builder.devices.map((device) => device.volumeId))
      const client = scope.ec2For(scope.region)
      let now: Map<string, VolumeRecord>
      try {
        // Under dry-run nothing was terminated: the volumes are still attached, as expected.
        now = scope.inputs['dry-run']
          ? await readVolumes(client, ids, scope.abortSignal)
          : await readVolumesDetached(
              client,
              ids,
              free.map(({ candidate }) => candidate.device.volumeId),
              detachWait(scope),
              scope.abortSignal
            )
      } catch (error) {
        free.forEach((planned) =>
          settle(planned, { outcome: 'failed', reason: NOT_READ_AFTER, error: describeReadError(error) })
        )
        return []
      }
      const read = scope.inputs['dry-run'] ? asDetached(now) : now
      return free.flatMap((planned) => {
        const current: VolumeCandidate = { ...planned.candidate, volumes: read }
        const decision = decide(current, scope.inputs, read)
        if (decision.removable) return [{ planned, current }]
        settle(planned, { outcome: 'skipped', reason: decision.reason ?? 'kept' })
        return []
      })
    },
    remove: async (scope, planned, current) => {
      const client = scope.ec2For(scope.region)
      const settlement = await settleDelete(
        () => deleteVolume(client, current.device.volumeId, scope.inputs['dry-run'], scope.abortSignal),
        {
          permission: PERMISSION.deleteVolume,
          alreadyGoneCodes: VOLUME_ALREADY_GONE_CODES,
          inUseCodes: VOLUME_IN_USE_CODES,
          waited: current.builder.instanceId
        }
      )
      return { ...settlement, finding: volumeFinding({ ...planned, candidate: current }, settlement) }
    },
    concurrency: DELETE_CONCURRENCY,
    finding: (planned, _region, settlement) => volumeFinding(planned, settlement),
    words: {
      cancelled: NOT_DELETED_CANCELLED,
      overCap: OVER_CAP,
      notActed(_planned, action) {
        if (action === 'stop') return 'stop leaves volumes alone: a stopped builder still holds them'
        if (action === 'terminate') return 'not deleted: this run made no changes'
        return 'terminate would delete it once its builder is terminated'
      },
      holding: (holding, why) =>
        `its builder ${holding.map((user) => user.instanceId).join(', ')} did not reach terminated: ${why.join('; ')}`
    }
  })
} satisfies LeftoverKindModule
