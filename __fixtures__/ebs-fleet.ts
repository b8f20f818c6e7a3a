/**
 * What cancelled builds leave in EBS (issue 19), for the images and volumes kinds with the default
 * `max-age: 2h`. `imagesFleet()`: builders in us-east-1 (stopped, terminated, kept for debugging)
 * and every kind of image made from them, one copied to eu-west-1 (`copyInterrupted`);
 * `IMAGE_EXPECTED` says what a terminate sweep with `image-incomplete-tag: packer-build=incomplete`
 * does to each. `taggedImagesFleet()`: images found by the `tags` input once their builder is gone. `volumesFleet()`: a builder whose kept volumes are inherited from its source image, a
 * root resize, a resized image device, an added launch mapping, an ebs_volumes product and an
 * excluded one; a builder whose source image was deregistered; one holding the user's Elastic IP.
 * `VOLUME_EXPECTED` says what a terminate sweep with `delete-inherited-volumes: true` does to each.
 */
import { packerName, type FleetSeed, type ImageSeed, type Sandbox, type Tags } from '../sandbox/index.js'
import { HOSTILE, HOSTILE_TAG_KEY } from './hostile-fleet.js'

const now = Date.now()
const H = 3600

export const US = 'us-east-1'
export const EU = 'eu-west-1'
export const INCOMPLETE_TAG = 'packer-build=incomplete'
const INCOMPLETE: Tags = { 'packer-build': 'incomplete' }
const KEEP = 'packer-sweeper:keep'

// ---- images ----

export const IMAGE_BUILDERS = {
  /** Killed hard (SIGKILL, runner lost): the builder stays stopped. */
  stopped: 'i-0e1a0000000000001',
  /** Cancelled: Packer sent TerminateInstances before it died. */
  terminated: 'i-0e1a0000000000002',
  /** Kept with -on-error=ask or -debug, and excluded so the sweep leaves it. */
  debug: 'i-0e1a0000000000003',
  /** A user's instance launched from one of the images. */
  user: 'i-0e1a0000000000004',
  /** A later build's stale builder launched from IMAGES.stoppedAvailable (source_ami a previous build's image). */
  chained: 'i-0e1a0000000000005'
}

/** The builder IMAGE_BUILDERS.chained, running from IMAGES.stoppedAvailable, for `sandbox.fleet.seed`. */
export function chainedBuilder(): FleetSeed {
  return {
    [US]: {
      instances: [
        { id: IMAGE_BUILDERS.chained, keyName: packerName(3 * H, now), age: '3h', imageId: IMAGES.stoppedAvailable }
      ]
    }
  }
}

export const IMAGES = {
  stoppedAvailable: 'ami-0e1b0000000000001',
  stoppedPending: 'ami-0e1b0000000000002',
  terminatedAvailable: 'ami-0e1b0000000000003',
  terminatedPending: 'ami-0e1b0000000000004',
  complete: 'ami-0e1b0000000000005',
  handMade: 'ami-0e1b0000000000006',
  backup: 'ami-0e1b0000000000007',
  shared: 'ami-0e1b0000000000008',
  public: 'ami-0e1b0000000000009',
  protected: 'ami-0e1b000000000000a',
  inUse: 'ami-0e1b000000000000b',
  sharesSnapshot: 'ami-0e1b000000000000c',
  excluded: 'ami-0e1b000000000000d',
  snapshotExcluded: 'ami-0e1b000000000000e',
  /** The interrupted image copied to eu-west-1 (ami_regions). */
  copied: 'ami-0e1b000000000000f',
  /** Not a candidate: mapping the snapshot sharesSnapshot maps, made from no builder. */
  other: 'ami-0e1b0000000000010',
  /** Not a candidate: an interrupted-looking image made from an instance the sweep does not match. */
  notOurs: 'ami-0e1b0000000000011',
  /** EC2 gave up on it: failed, as removable as an available one. */
  failed: 'ami-0e1b0000000000012',
  /** Younger than max-age. */
  fresh: 'ami-0e1b0000000000013'
}

/** The snapshot IMAGES.sharesSnapshot and IMAGES.other both map. */
export const SHARED_SNAPSHOT = 'snap-0e1c0000000000001'

export function imagesFleet(): FleetSeed {
  const image = (imageId: string, sourceInstanceId: string, extra: Partial<ImageSeed> = {}): ImageSeed => ({
    imageId,
    name: `web-${imageId.slice(-4)}`,
    age: '3h',
    sourceInstanceId,
    tags: INCOMPLETE,
    snapshotTags: INCOMPLETE,
    ...extra
  })
  const { stopped, terminated, debug, user } = IMAGE_BUILDERS
  return {
    [US]: {
      instances: [
        { id: stopped, keyName: packerName(5 * H, now), age: '5h', state: 'stopped' },
        { id: terminated, keyName: packerName(4 * H, now), age: '4h', state: 'terminated' },
        { id: debug, keyName: packerName(6 * H, now), age: '6h', state: 'stopped', tags: { [KEEP]: 'debugging' } },
        { id: user, keyName: 'deploy', age: '1h', imageId: IMAGES.inUse }
      ],
      snapshots: [{ snapshotId: SHARED_SNAPSHOT, volumeSize: 8, tags: INCOMPLETE }],
      images: [
        image(IMAGES.stoppedAvailable, stopped),
        image(IMAGES.stoppedPending, stopped, { state: 'pending' }),
        image(IMAGES.terminatedAvailable, terminated),
        image(IMAGES.terminatedPending, terminated, { state: 'pending' }),
        // StepCreateTags ran: the build finished, Packer died in its own cleanup.
        image(IMAGES.complete, stopped, { tags: { 'packer-build': 'complete' }, snapshotTags: {} }),
        // A person's CreateImage from the kept builder: none of Packer's run_tags.
        image(IMAGES.handMade, debug, { tags: {}, snapshotTags: {} }),
        image(IMAGES.backup, stopped, { tags: { ...INCOMPLETE, 'aws:dlm:lifecycle-policy-id': 'policy-0e1d' } }),
        image(IMAGES.shared, stopped, { launchPermissions: [{ userId: '210987654321' }] }),
        image(IMAGES.public, stopped, { public: true }),
        image(IMAGES.protected, stopped, { deregistrationProtection: 'enabled-without-cooldown' }),
        image(IMAGES.inUse, stopped),
        image(IMAGES.sharesSnapshot, stopped, {
          blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: SHARED_SNAPSHOT }]
        }),
        image(IMAGES.excluded, stopped, { tags: { ...INCOMPLETE, [KEEP]: 'release' } }),
        image(IMAGES.snapshotExcluded, stopped, { snapshotTags: { ...INCOMPLETE, [KEEP]: '' } }),
        image(IMAGES.copied, terminated),
        image(IMAGES.fresh, stopped, { age: '30m' }),
        image(IMAGES.failed, stopped, {
          state: 'failed',
          stateReason: { code: 'Client.InternalError', message: 'Client error on launch' }
        }),
        {
          imageId: IMAGES.other,
          name: 'golden',
          age: '30d',
          blockDeviceMappings: [{ deviceName: '/dev/xvda', snapshotId: SHARED_SNAPSHOT }]
        },
        image(IMAGES.notOurs, 'i-0e1a00000000000ff')
      ]
    }
  }
}

/** Copies IMAGES.copied to eu-west-1 as CopyImage does (tags copied); returns the copy's ID. */
export function copyInterrupted(sandbox: Sandbox): string {
  return sandbox.fleet.copyImage(IMAGES.copied, EU, { age: '3h', snapshotTags: INCOMPLETE }).imageId
}

/**
 * What a terminate sweep of both regions with `image-incomplete-tag: packer-build=incomplete` does:
 * the images deregistered with their snapshots (the copy too, see copyInterrupted), and each kept
 * one with a pattern of its reason.
 */
export const IMAGE_EXPECTED: {
  deregistered: string[]
  kept: Record<string, RegExp>
  classes: Record<string, string>
} = {
  deregistered: [
    IMAGES.stoppedAvailable,
    IMAGES.terminatedAvailable,
    IMAGES.sharesSnapshot,
    IMAGES.copied,
    IMAGES.failed
  ],
  kept: {
    [IMAGES.stoppedPending]: /^pending: left for a later sweep/,
    [IMAGES.terminatedPending]: /^pending: left for a later sweep/,
    [IMAGES.complete]: /^does not carry packer-build=incomplete: not an interrupted build$/,
    [IMAGES.handMade]: /^does not carry packer-build=incomplete/,
    [IMAGES.backup]: /^carries the tag key aws:dlm:lifecycle-policy-id: made by AWS Backup or Data Lifecycle Manager$/,
    [IMAGES.shared]: /^shared through 1 launch permission/,
    [IMAGES.public]: /^public: every AWS account may launch it$/,
    [IMAGES.protected]: /^deregistration protection is enabled-without-cooldown$/,
    [IMAGES.inUse]: new RegExp(IMAGE_BUILDERS.user),
    [IMAGES.excluded]: /^carries the packer-sweeper:keep tag$/,
    [IMAGES.fresh]: /^created 30m( \d+s)? ago, not older than max-age 2h$/,
    [IMAGES.snapshotExcluded]: /^its snapshot snap-[0-9a-f]+ carries the packer-sweeper:keep tag$/
  },
  classes: {
    [IMAGES.stoppedAvailable]: 'interrupted',
    [IMAGES.stoppedPending]: 'interrupted',
    [IMAGES.complete]: 'complete',
    [IMAGES.handMade]: 'hand-made',
    [IMAGES.backup]: 'backup'
  }
}

// ---- volumes ----

/** The source images: a marketplace-like base of another owner, and one deregistered since. */
export const SOURCE_IMAGE = 'ami-0e2a0000000000001'
export const GONE_IMAGE = 'ami-0e2a0000000000002'
const BASE_OWNER = '137112412989'
const RUN_VOLUME_TAGS: Tags = { 'packer-run': '42' }

export const VOLUME_BUILDERS = {
  /** Every kind of kept volume on one builder. */
  mixed: 'i-0e2b0000000000001',
  /** Launched from GONE_IMAGE, deregistered since. */
  goneSource: 'i-0e2b0000000000002',
  /** Holds the user's Elastic IP. */
  elasticIp: 'i-0e2b0000000000003'
}

export const VOLUMES = {
  rootResize: 'vol-0e2c0000000000001',
  inherited: 'vol-0e2c0000000000002',
  added: 'vol-0e2c0000000000003',
  product: 'vol-0e2c0000000000004',
  excluded: 'vol-0e2c0000000000005',
  resized: 'vol-0e2c0000000000008',
  goneSourceRoot: 'vol-0e2c0000000000006',
  goneSourceData: 'vol-0e2c0000000000007'
}

export const ELASTIC_IP = { publicIp: '198.51.100.7', allocationId: 'eipalloc-0e2d0000000000001' }

const SNAPS = {
  root: 'snap-0e2e0000000000001',
  data: 'snap-0e2e0000000000002',
  product: 'snap-0e2e0000000000003',
  scratch: 'snap-0e2e0000000000004',
  logs: 'snap-0e2e0000000000005'
}

export function volumesFleet(): FleetSeed {
  const { mixed, goneSource, elasticIp } = VOLUME_BUILDERS
  return {
    [US]: {
      snapshots: [
        { snapshotId: SNAPS.root, volumeSize: 8, ownerId: BASE_OWNER },
        { snapshotId: SNAPS.data, volumeSize: 20, ownerId: BASE_OWNER },
        { snapshotId: SNAPS.product, volumeSize: 50, ownerId: BASE_OWNER },
        { snapshotId: SNAPS.scratch, volumeSize: 10, ownerId: BASE_OWNER },
        { snapshotId: SNAPS.logs, volumeSize: 30, ownerId: BASE_OWNER }
      ],
      images: [
        {
          imageId: SOURCE_IMAGE,
          name: 'base-image',
          ownerId: BASE_OWNER,
          public: true,
          age: '60d',
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', snapshotId: SNAPS.root, size: 8 },
            { deviceName: '/dev/sdf', snapshotId: SNAPS.data, size: 20, deleteOnTermination: false },
            { deviceName: '/dev/sdh', snapshotId: SNAPS.scratch, size: 10, deleteOnTermination: false },
            { deviceName: '/dev/sdi', snapshotId: SNAPS.product, size: 50, deleteOnTermination: false },
            { deviceName: '/dev/sdj', snapshotId: SNAPS.logs, size: 30, deleteOnTermination: false }
          ]
        },
        {
          imageId: GONE_IMAGE,
          name: 'old-base',
          age: '90d',
          state: 'deregistered',
          blockDeviceMappings: [{ deviceName: '/dev/sdf', size: 20, deleteOnTermination: false }]
        }
      ],
      instances: [
        {
          id: mixed,
          keyName: packerName(3 * H, now),
          age: '3h',
          imageId: SOURCE_IMAGE,
          blockDeviceMappings: [
            // Root resize: launch_block_device_mappings' delete_on_termination defaults to false.
            {
              deviceName: '/dev/xvda',
              volumeId: VOLUMES.rootResize,
              snapshotId: SNAPS.root,
              size: 40,
              deleteOnTermination: false,
              tags: RUN_VOLUME_TAGS
            },
            // Inherited from the image, exactly.
            {
              deviceName: '/dev/sdf',
              volumeId: VOLUMES.inherited,
              snapshotId: SNAPS.data,
              size: 20,
              deleteOnTermination: false,
              tags: RUN_VOLUME_TAGS
            },
            // An added launch mapping: a device the image does not map.
            { deviceName: '/dev/sdg', volumeId: VOLUMES.added, size: 100, tags: RUN_VOLUME_TAGS },
            // A launch mapping that resizes an image device: its snapshot, a larger size.
            {
              deviceName: '/dev/sdj',
              volumeId: VOLUMES.resized,
              snapshotId: SNAPS.logs,
              size: 60,
              deleteOnTermination: false,
              tags: RUN_VOLUME_TAGS
            },
            // Inherited too, but someone tagged it to keep it.
            {
              deviceName: '/dev/sdh',
              volumeId: VOLUMES.excluded,
              snapshotId: SNAPS.scratch,
              size: 10,
              deleteOnTermination: false,
              tags: { ...RUN_VOLUME_TAGS, [KEEP]: 'data' }
            },
            // An ebs_volumes product over an image device: the image's shape, tags of its own.
            {
              deviceName: '/dev/sdi',
              volumeId: VOLUMES.product,
              snapshotId: SNAPS.product,
              size: 50,
              deleteOnTermination: false,
              tags: { Name: 'data-volume', team: 'storage' }
            }
          ]
        },
        {
          id: goneSource,
          keyName: packerName(4 * H, now),
          age: '4h',
          state: 'stopped',
          imageId: GONE_IMAGE,
          blockDeviceMappings: [
            { deviceName: '/dev/xvda', volumeId: VOLUMES.goneSourceRoot, tags: RUN_VOLUME_TAGS },
            {
              deviceName: '/dev/sdf',
              volumeId: VOLUMES.goneSourceData,
              size: 20,
              deleteOnTermination: false,
              tags: RUN_VOLUME_TAGS
            }
          ]
        },
        { id: elasticIp, keyName: packerName(5 * H, now), age: '5h', imageId: SOURCE_IMAGE, elasticIp: ELASTIC_IP }
      ]
    }
  }
}

/** What a terminate sweep with `delete-inherited-volumes: true` does to each kept volume (patterns of the reasons). */
export const VOLUME_EXPECTED: { deleted: string[]; kept: Record<string, RegExp> } = {
  deleted: [VOLUMES.inherited],
  kept: {
    // The image's root mapping deletes on termination: the kept root is the launch mapping's.
    [VOLUMES.rootResize]: /^a launch mapping: the source image deletes this device on termination$/,
    [VOLUMES.resized]: /^differs from its source image mapping in size$/,
    [VOLUMES.added]: /^a launch mapping: the source image does not map \/dev\/sdg$/,
    [VOLUMES.excluded]: /^carries the packer-sweeper:keep tag$/,
    [VOLUMES.product]: /^its tags are not those most of its builder/,
    [VOLUMES.goneSourceData]: /^its source image is gone or not readable/
  }
}

// ---- images found by their tags (the `tags` input) ----

export const JOB_TAG = 'packer-sweeper-job=42'
const JOB: Tags = { 'packer-sweeper-job': '42' }

export const TAGGED = {
  /** A user's instance carrying the job tag: listed, not a builder (its key is not Packer's). */
  user: 'i-0e3a0000000000001',
  /** The builder of TAGGED.goneBuilder, no longer listed (terminated more than an hour ago). */
  goneBuilder: 'i-0e3a00000000000ff',
  images: {
    /** Carries the job's run_tags, its builder gone: a candidate by its tags. */
    goneBuilder: 'ami-0e3b0000000000001',
    /** Carries them, but its source instance is still listed and is no builder: not a candidate. */
    fromUser: 'ami-0e3b0000000000002',
    /** Its builder is gone, but it lacks the job tag: not a candidate. */
    untagged: 'ami-0e3b0000000000003'
  }
}

export function taggedImagesFleet(): FleetSeed {
  const { images } = TAGGED
  return {
    [US]: {
      instances: [{ id: TAGGED.user, keyName: 'deploy', age: '30d', tags: JOB }],
      images: [
        {
          imageId: images.goneBuilder,
          name: 'web-gone',
          age: '3h',
          sourceInstanceId: TAGGED.goneBuilder,
          tags: { ...JOB, ...INCOMPLETE },
          snapshotTags: { ...JOB, ...INCOMPLETE }
        },
        {
          imageId: images.fromUser,
          name: 'web-user',
          age: '3h',
          sourceInstanceId: TAGGED.user,
          tags: { ...JOB, ...INCOMPLETE }
        },
        {
          imageId: images.untagged,
          name: 'web-untagged',
          age: '3h',
          sourceInstanceId: TAGGED.goneBuilder,
          tags: INCOMPLETE
        }
      ]
    }
  }
}

// ---- hostile strings ----

export const HOSTILE_BUILDER = 'i-0e4a0000000000001'
export const HOSTILE_VOLUME = 'vol-0e4c0000000000001'

/**
 * A builder whose images are named with every hostile string (but the 10 KB one), every other one
 * carrying a hostile `aws:` tag key (kept, the key in its reason), their snapshots a hostile tag
 * key, and a kept volume with a hostile Name and tag.
 */
export function hostileEbsFleet(): FleetSeed {
  const names = Object.entries(HOSTILE).filter(([kind]) => kind !== 'huge')
  return {
    [US]: {
      instances: [
        {
          id: HOSTILE_BUILDER,
          keyName: packerName(5 * H, now),
          age: '5h',
          blockDeviceMappings: [
            { deviceName: '/dev/xvda' },
            {
              deviceName: '/dev/sdf',
              volumeId: HOSTILE_VOLUME,
              size: 20,
              tags: { Name: HOSTILE.lf, [HOSTILE_TAG_KEY]: HOSTILE.crlf }
            }
          ]
        }
      ],
      images: names.map(([, name], index) => ({
        name,
        age: '3h',
        sourceInstanceId: HOSTILE_BUILDER,
        tags: index % 2 === 0 ? { ...INCOMPLETE, [`aws:${name}`]: name } : INCOMPLETE,
        snapshotTags: { [HOSTILE_TAG_KEY]: name }
      }))
    }
  }
}
