/**
 * The EC2 Query API operations on EBS and AMIs: images, their attributes and deregistration,
 * snapshots and volumes, with EC2's documented shapes, filters, page sizes and refusals (see
 * README.md, "EBS and AMIs", for what was checked against AWS's documentation and what was not).
 * Each handler returns the XML inside `<XResponse>`.
 */
import type { Ec2Context, Ec2Handler } from './ec2.js'
import { deregistrationProtected } from './fleet.js'
import {
  ACCOUNT_ID,
  type LaunchPermission,
  type SandboxImage,
  type SandboxImageBlockDevice,
  type SandboxSnapshot,
  type SandboxVolume
} from './types.js'
import {
  AwsFault,
  boolParam,
  compileFilters,
  dryRun,
  el,
  filtersParam,
  items,
  listParam,
  paginate,
  tagSet,
  type FilterFields,
  type Params
} from './wire.js'

const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/
const SNAPSHOT_ID = /^snap-[0-9a-f]{8}([0-9a-f]{9})?$/
const VOLUME_ID = /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/
const OWNER_ALIASES = new Set(['amazon', 'aws-marketplace', 'aws-backup-vault'])

function required(params: Params, name: string): string {
  const value = params[name]
  if (value === undefined || value === '')
    throw new AwsFault('MissingParameter', `The request must contain the parameter ${name}`)
  return value
}

function malformed(code: string, id: string, prefix: string): AwsFault {
  return new AwsFault(code, `Invalid id: "${id}" (expecting "${prefix}-...")`)
}

/** `Owner.N`: `self`, an account ID (12 digits) or an owner alias, else InvalidUserID.Malformed. */
function ownersParam(params: Params): string[] {
  const owners = listParam(params, 'Owner')
  const bad = owners.find((o) => o !== 'self' && !OWNER_ALIASES.has(o) && !/^\d{12}$/.test(o))
  if (bad !== undefined) throw new AwsFault('InvalidUserID.Malformed', `Invalid user id: "${bad}"`)
  return owners
}

function ownedBy(owners: string[], ownerId: string, ownerAlias: string | undefined): boolean {
  return (
    owners.length === 0 ||
    owners.some((o) =>
      o === 'self' ? ownerId === ACCOUNT_ID : OWNER_ALIASES.has(o) ? ownerAlias === o : ownerId === o
    )
  )
}

// ---- images ----

const isPublic = (i: SandboxImage) => i.launchPermissions.some((p) => 'group' in p && p.group === 'all')
const sharedWith = (i: SandboxImage, account: string) =>
  i.launchPermissions.some((p) => 'userId' in p && p.userId === account)
const sharedWithOrganization = (i: SandboxImage) =>
  i.launchPermissions.some((p) => 'organizationArn' in p || 'organizationalUnitArn' in p)
const ebsMappings = (i: SandboxImage) => i.blockDeviceMappings.flatMap((m) => (m.ebs ? [m.ebs] : []))

/** What the account may see of an image at all: its own, public ones, ones shared with it. */
function visible(i: SandboxImage): boolean {
  return i.ownerId === ACCOUNT_ID || isPublic(i) || sharedWith(i, ACCOUNT_ID) || sharedWithOrganization(i)
}

const imageFields: FilterFields<SandboxImage> = {
  architecture: () => ['x86_64'],
  'block-device-mapping.delete-on-termination': (i) => ebsMappings(i).map((e) => String(e.deleteOnTermination)),
  'block-device-mapping.device-name': (i) => i.blockDeviceMappings.map((m) => m.deviceName),
  'block-device-mapping.snapshot-id': (i) => ebsMappings(i).map((e) => e.snapshotId),
  'block-device-mapping.volume-size': (i) => ebsMappings(i).map((e) => String(e.volumeSize)),
  'block-device-mapping.volume-type': (i) => ebsMappings(i).map((e) => e.volumeType),
  'block-device-mapping.encrypted': (i) => ebsMappings(i).map((e) => String(e.encrypted)),
  'creation-date': (i) => [i.creationDate.toISOString()],
  description: (i) => [i.description],
  'ena-support': () => ['true'],
  hypervisor: () => ['xen'],
  'image-id': (i) => [i.imageId],
  'image-type': () => ['machine'],
  'is-public': (i) => [String(isPublic(i))],
  name: (i) => [i.name],
  'owner-alias': (i) => [i.ownerAlias],
  'owner-id': (i) => [i.ownerId],
  'root-device-name': (i) => [i.rootDeviceName],
  'root-device-type': () => ['ebs'],
  'source-image-id': (i) => [i.sourceImageId],
  'source-image-region': (i) => [i.sourceImageRegion],
  'source-instance-id': (i) => [i.sourceInstanceId],
  state: (i) => [i.state],
  'state-reason-code': (i) => [i.stateReason?.code],
  'state-reason-message': (i) => [i.stateReason?.message],
  'virtualization-type': () => ['hvm']
}

function renderMapping(m: SandboxImageBlockDevice): string {
  const e = m.ebs
  const ebs = e
    ? '<ebs>' +
      el('snapshotId', e.snapshotId) +
      el('volumeSize', e.volumeSize) +
      el('deleteOnTermination', e.deleteOnTermination) +
      el('volumeType', e.volumeType) +
      el('iops', e.iops) +
      el('throughput', e.throughput) +
      el('encrypted', e.encrypted) +
      el('kmsKeyId', e.kmsKeyId) +
      '</ebs>'
    : ''
  return (
    el('deviceName', m.deviceName) + el('virtualName', m.virtualName) + (m.noDevice ? el('noDevice', '') : '') + ebs
  )
}

function renderImage(i: SandboxImage): string {
  return (
    el('imageId', i.imageId) +
    el('imageLocation', `${i.ownerAlias ?? i.ownerId}/${i.name}`) +
    el('imageState', i.state) +
    el('imageOwnerId', i.ownerId) +
    el('creationDate', i.creationDate.toISOString()) +
    el('isPublic', isPublic(i)) +
    el('architecture', 'x86_64') +
    el('imageType', 'machine') +
    el('imageOwnerAlias', i.ownerAlias) +
    el('name', i.name) +
    el('description', i.description) +
    el('rootDeviceType', 'ebs') +
    el('rootDeviceName', i.rootDeviceName) +
    items('blockDeviceMapping', i.blockDeviceMappings, renderMapping) +
    el('virtualizationType', 'hvm') +
    tagSet(i.tags) +
    el('hypervisor', 'xen') +
    el('enaSupport', true) +
    el('platformDetails', 'Linux/UNIX') +
    el('usageOperation', 'RunInstances') +
    (i.stateReason
      ? `<stateReason>${el('code', i.stateReason.code)}${el('message', i.stateReason.message)}</stateReason>`
      : '') +
    el('deprecationTime', i.deprecationTime?.toISOString()) +
    el('sourceInstanceId', i.sourceInstanceId) +
    el('sourceImageId', i.sourceImageId) +
    el('sourceImageRegion', i.sourceImageRegion) +
    el('deregistrationProtection', i.deregistrationProtection)
  )
}

/**
 * An image of this region named by `ImageId`, as the write and attribute calls find it: malformed,
 * unknown (or not visible to the account) and deregistered IDs are refused.
 */
function targetImage(ctx: Ec2Context): SandboxImage {
  const id = required(ctx.params, 'ImageId')
  if (!AMI_ID.test(id)) throw malformed('InvalidAMIID.Malformed', id, 'ami')
  const image = ctx.fleet.ebs(ctx.region).images.find((i) => i.imageId === id)
  if (!image || !visible(image)) throw new AwsFault('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`)
  if (image.state === 'deregistered')
    throw new AwsFault('InvalidAMIID.Unavailable', `The image id '[${id}]' is no longer available`)
  return image
}

function ownImage(image: SandboxImage): void {
  if (image.ownerId !== ACCOUNT_ID) throw new AwsFault('AuthFailure', `Not authorized for image:${image.imageId}`)
}

/**
 * DescribeImages: Owners, ExecutableBy, ImageIds, filters; deregistered images are listed
 * `deregisteredListedMs` after DeregisterImage, then an ID query answers nothing for them;
 * disabled images need IncludeDisabled, other owners' deprecated ones IncludeDeprecated.
 */
const describeImages: Ec2Handler = (ctx) => {
  const { params } = ctx
  const ids = listParam(params, 'ImageId')
  if (ids.length > 0 && params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter imagesSet cannot be used with the parameter maxResults'
    )
  }
  const bad = ids.find((id) => !AMI_ID.test(id))
  if (bad !== undefined) throw malformed('InvalidAMIID.Malformed', bad, 'ami')
  const owners = ownersParam(params)
  const executableBy = listParam(params, 'ExecutableBy')
  const { images } = ctx.fleet.ebs(ctx.region)
  const missing = ids.filter((id) => !images.some((i) => i.imageId === id && visible(i)))
  if (missing.length > 0)
    throw new AwsFault('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`)
  const filter = compileFilters(filtersParam(params), imageFields)
  dryRun(params)
  const now = Date.now()
  const includeDisabled = boolParam(params, 'IncludeDisabled')
  const includeDeprecated = boolParam(params, 'IncludeDeprecated')
  const executable = (i: SandboxImage) =>
    executableBy.length === 0 ||
    executableBy.some((e) =>
      e === 'all'
        ? isPublic(i)
        : e === 'self' || e === ACCOUNT_ID
          ? sharedWith(i, ACCOUNT_ID) || sharedWithOrganization(i)
          : sharedWith(i, e)
    )
  const keep = (i: SandboxImage) =>
    visible(i) &&
    (ids.length === 0 || ids.includes(i.imageId)) &&
    (i.state !== 'deregistered' || now < (i.deregisteredAt ?? 0) + ctx.fleet.deregisteredListedMs) &&
    (i.state !== 'disabled' || includeDisabled) &&
    (includeDeprecated ||
      i.ownerId === ACCOUNT_ID ||
      i.deprecationTime === undefined ||
      i.deprecationTime.getTime() > now) &&
    ownedBy(owners, i.ownerId, i.ownerAlias) &&
    executable(i) &&
    filter(i)
  const page = paginate(images, keep, params, {
    min: 1,
    max: 1000,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  const xml = items('imagesSet', page.items, renderImage) + el('nextToken', page.nextToken)
  ctx.fleet.imagesAnswered(page.items)
  return xml
}

const IMAGE_ATTRIBUTES = new Set([
  'description',
  'kernel',
  'ramdisk',
  'launchPermission',
  'productCodes',
  'blockDeviceMapping',
  'sriovNetSupport',
  'bootMode',
  'tpmSupport',
  'uefiData',
  'lastLaunchedTime',
  'imdsSupport',
  'deregistrationProtection'
])

function renderPermission(p: LaunchPermission): string {
  if ('group' in p) return el('group', p.group)
  if ('userId' in p) return el('userId', p.userId)
  if ('organizationArn' in p) return el('organizationArn', p.organizationArn)
  return el('organizationalUnitArn', p.organizationalUnitArn)
}

/** DescribeImageAttribute: one attribute at a time; launch permissions and protection only for the owner. */
const describeImageAttribute: Ec2Handler = (ctx) => {
  const attribute = required(ctx.params, 'Attribute')
  const image = targetImage(ctx)
  if (!IMAGE_ATTRIBUTES.has(attribute))
    throw new AwsFault(
      'InvalidParameterValue',
      `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`
    )
  // The API reference: "The blockDeviceMapping attribute is deprecated. Using this attribute returns the Client.AuthFailure error."
  if (attribute === 'blockDeviceMapping')
    throw new AwsFault('AuthFailure', 'Unauthorized attempt to access restricted resource')
  if (attribute === 'launchPermission' || attribute === 'deregistrationProtection' || attribute === 'lastLaunchedTime')
    ownImage(image)
  dryRun(ctx.params)
  const value = (v: string | undefined) => `<${attribute}>${el('value', v)}</${attribute}>`
  let body: string
  if (attribute === 'launchPermission') body = items('launchPermission', image.launchPermissions, renderPermission)
  else if (attribute === 'productCodes') body = '<productCodes/>'
  else if (attribute === 'description') body = value(image.description)
  else if (attribute === 'deregistrationProtection') body = value(image.deregistrationProtection)
  else body = value(undefined)
  return el('imageId', image.imageId) + body
}

/**
 * DeregisterImage: with DeleteAssociatedSnapshots, each of the image's snapshots is deleted
 * (`success`), kept because another image uses it (`skipped`), or kept because IAM denies
 * DeleteSnapshot (`missing-permissions`); the image is deregistered in every case.
 */
const deregisterImage: Ec2Handler = (ctx) => {
  const image = targetImage(ctx)
  ownImage(image)
  dryRun(ctx.params)
  if (deregistrationProtected(image.deregistrationProtection)) {
    throw new AwsFault(
      'OperationNotPermitted',
      `The image '${image.imageId}' can't be deregistered because deregistration protection is enabled. Disable deregistration protection and try again.`
    )
  }
  ctx.fleet.deregisterImage(image)
  if (!boolParam(ctx.params, 'DeleteAssociatedSnapshots')) return el('return', true)
  const results: Array<{ snapshotId: string; code: string }> = []
  for (const snapshotId of new Set(ebsMappings(image).map((e) => e.snapshotId))) {
    const snapshot = ctx.fleet.snapshotById(snapshotId)
    if (!snapshot) continue
    let code = 'success'
    if (ctx.fleet.imagesUsing(snapshotId, ctx.region).length > 0) code = 'skipped'
    else if (ctx.denied?.('DeleteSnapshot')) code = 'missing-permissions'
    else ctx.fleet.deleteSnapshot(snapshot)
    results.push({ snapshotId, code })
  }
  return (
    el('return', true) +
    items('deleteSnapshotResultSet', results, (r) => el('snapshotId', r.snapshotId) + el('returnCode', r.code))
  )
}

// ---- snapshots ----

const snapshotFields: FilterFields<SandboxSnapshot> = {
  description: (s) => [s.description],
  encrypted: (s) => [String(s.encrypted)],
  'owner-alias': () => [],
  'owner-id': (s) => [s.ownerId],
  progress: (s) => [s.progress],
  'snapshot-id': (s) => [s.snapshotId],
  'start-time': (s) => [s.startTime.toISOString()],
  status: (s) => [s.state],
  'storage-tier': () => ['standard'],
  'transfer-type': () => ['standard'],
  'volume-id': (s) => [s.volumeId],
  'volume-size': (s) => [String(s.volumeSize)]
}

/** DescribeSnapshots: OwnerIds, RestorableByUserIds, SnapshotIds, filters; MaxResults 5–1000 (larger: 1000), not with SnapshotIds. */
const describeSnapshots: Ec2Handler = (ctx) => {
  const { params } = ctx
  const ids = listParam(params, 'SnapshotId')
  if (ids.length > 0 && params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter snapshotSet cannot be used with the parameter maxResults'
    )
  }
  const bad = ids.find((id) => !SNAPSHOT_ID.test(id))
  if (bad !== undefined) throw malformed('InvalidSnapshotID.Malformed', bad, 'snap')
  const owners = ownersParam(params)
  const restorableBy = listParam(params, 'RestorableBy')
  const { snapshots } = ctx.fleet.ebs(ctx.region)
  const missing = ids.find((id) => !snapshots.some((s) => s.snapshotId === id && !s.deleted))
  if (missing !== undefined) throw new AwsFault('InvalidSnapshot.NotFound', `The snapshot '${missing}' does not exist.`)
  const filter = compileFilters(filtersParam(params), snapshotFields)
  dryRun(params)
  // No snapshot is shared or public here: only the owner may create volumes from one.
  const restorable = (s: SandboxSnapshot) =>
    restorableBy.length === 0 ||
    restorableBy.some((r) => (r === 'self' || r === ACCOUNT_ID) && s.ownerId === ACCOUNT_ID)
  const keep = (s: SandboxSnapshot) =>
    !s.deleted &&
    (ids.length === 0 || ids.includes(s.snapshotId)) &&
    ownedBy(owners, s.ownerId, undefined) &&
    restorable(s) &&
    filter(s)
  const page = paginate(snapshots, keep, params, {
    min: 5,
    max: 1000,
    clampAbove: true,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  return (
    items(
      'snapshotSet',
      page.items,
      (s) =>
        el('snapshotId', s.snapshotId) +
        el('volumeId', s.volumeId) +
        el('status', s.state) +
        el('startTime', s.startTime.toISOString()) +
        el('progress', s.progress) +
        el('ownerId', s.ownerId) +
        el('volumeSize', s.volumeSize) +
        el('description', s.description) +
        el('encrypted', s.encrypted) +
        el('kmsKeyId', s.kmsKeyId) +
        el('storageTier', 'standard') +
        tagSet(s.tags)
    ) + el('nextToken', page.nextToken)
  )
}

/** DeleteSnapshot: refused while an image (not deregistered) uses the snapshot. */
const deleteSnapshot: Ec2Handler = (ctx) => {
  const id = required(ctx.params, 'SnapshotId')
  if (!SNAPSHOT_ID.test(id)) throw malformed('InvalidSnapshotID.Malformed', id, 'snap')
  const snapshot = ctx.fleet.snapshotById(id)
  if (!snapshot || snapshot.region !== ctx.region)
    throw new AwsFault('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`)
  dryRun(ctx.params)
  const user = ctx.fleet.imagesUsing(id, ctx.region)[0]
  if (user) throw new AwsFault('InvalidSnapshot.InUse', `The snapshot ${id} is currently in use by ${user.imageId}`)
  ctx.fleet.deleteSnapshot(snapshot)
  return el('return', true)
}

// ---- volumes ----

const volumeFields: FilterFields<SandboxVolume> = {
  'attachment.attach-time': (v) => [v.attachment?.attachTime.toISOString()],
  'attachment.delete-on-termination': (v) => [v.attachment && String(v.attachment.deleteOnTermination)],
  'attachment.device': (v) => [v.attachment?.device],
  'attachment.instance-id': (v) => [v.attachment?.instanceId],
  'attachment.status': (v) => [v.attachment && 'attached'],
  'availability-zone': (v) => [v.availabilityZone],
  'create-time': (v) => [v.createTime.toISOString()],
  encrypted: (v) => [String(v.encrypted)],
  'fast-restored': () => ['false'],
  'multi-attach-enabled': () => ['false'],
  size: (v) => [String(v.size)],
  'snapshot-id': (v) => [v.snapshotId],
  status: (v) => [v.state],
  'volume-id': (v) => [v.volumeId],
  'volume-type': (v) => [v.volumeType]
}

/** DescribeVolumes: VolumeIds, filters; MaxResults 5–500 (larger: 500), not with VolumeIds; without it, every volume. */
const describeVolumes: Ec2Handler = (ctx) => {
  const { params } = ctx
  const ids = listParam(params, 'VolumeId')
  if (ids.length > 0 && params.MaxResults !== undefined) {
    throw new AwsFault(
      'InvalidParameterCombination',
      'The parameter volumeSet cannot be used with the parameter maxResults'
    )
  }
  const bad = ids.find((id) => !VOLUME_ID.test(id))
  if (bad !== undefined) throw malformed('InvalidVolumeID.Malformed', bad, 'vol')
  const { volumes } = ctx.fleet.ebs(ctx.region)
  const missing = ids.find((id) => !volumes.some((v) => v.volumeId === id && v.state !== 'deleted'))
  if (missing !== undefined) throw new AwsFault('InvalidVolume.NotFound', `The volume '${missing}' does not exist.`)
  const filter = compileFilters(filtersParam(params), volumeFields)
  dryRun(params)
  const keep = (v: SandboxVolume) =>
    v.state !== 'deleted' && (ids.length === 0 || ids.includes(v.volumeId)) && filter(v)
  const page = paginate(volumes, keep, params, {
    min: 5,
    max: 500,
    clampAbove: true,
    cap: ctx.pageSize,
    defaultMax: Number.MAX_SAFE_INTEGER
  })
  return (
    items(
      'volumeSet',
      page.items,
      (v) =>
        el('volumeId', v.volumeId) +
        el('size', v.size) +
        el('snapshotId', v.snapshotId ?? '') +
        el('availabilityZone', v.availabilityZone) +
        el('status', v.state) +
        el('createTime', v.createTime.toISOString()) +
        items('attachmentSet', v.attachment ? [v.attachment] : [], (a) =>
          [
            el('volumeId', v.volumeId),
            el('instanceId', a.instanceId),
            el('device', a.device),
            el('status', 'attached'),
            el('attachTime', a.attachTime.toISOString()),
            el('deleteOnTermination', a.deleteOnTermination)
          ].join('')
        ) +
        tagSet(v.tags) +
        el('volumeType', v.volumeType) +
        el('iops', v.iops) +
        el('throughput', v.throughput) +
        el('encrypted', v.encrypted) +
        el('kmsKeyId', v.kmsKeyId) +
        el('multiAttachEnabled', false) +
        el('ownerId', ACCOUNT_ID)
    ) + el('nextToken', page.nextToken)
  )
}

/** DeleteVolume: only an `available` volume; an attached one is VolumeInUse. */
const deleteVolume: Ec2Handler = (ctx) => {
  const id = required(ctx.params, 'VolumeId')
  if (!VOLUME_ID.test(id)) throw malformed('InvalidVolumeID.Malformed', id, 'vol')
  const volume = ctx.fleet.volume(id)
  if (!volume || volume.region !== ctx.region)
    throw new AwsFault('InvalidVolume.NotFound', `The volume '${id}' does not exist.`)
  dryRun(ctx.params)
  if (volume.attachment)
    throw new AwsFault('VolumeInUse', `Volume ${id} is currently attached to ${volume.attachment.instanceId}`)
  ctx.fleet.deleteVolume(volume)
  return el('return', true)
}

export const EBS_HANDLERS: Record<string, Ec2Handler> = {
  DescribeImages: describeImages,
  DescribeImageAttribute: describeImageAttribute,
  DeregisterImage: deregisterImage,
  DescribeSnapshots: describeSnapshots,
  DeleteSnapshot: deleteSnapshot,
  DescribeVolumes: describeVolumes,
  DeleteVolume: deleteVolume
}
