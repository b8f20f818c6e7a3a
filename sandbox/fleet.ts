/**
 * The live state of the sandbox account, indexed by region and by ID so that 40,000 instances
 * stay cheap to page through. Seeds come from fixtures or `generateFleet`.
 */
import {
  ACCOUNT_ID,
  STATE_CODES,
  type Aged,
  type FleetSeed,
  type ImageSeed,
  type InstanceSeed,
  type InstanceStateName,
  type IpPermissionSeed,
  type SandboxImage,
  type SandboxImageBlockDevice,
  type SandboxInstance,
  type SandboxIpPermission,
  type SandboxKeyPair,
  type SandboxLaunchTemplate,
  type SandboxNetworkInterface,
  type SandboxSecurityGroup,
  type SandboxSnapshot,
  type SandboxVolume,
  type SnapshotSeed,
  type Tags,
  type VolumeSeed,
  type VolumeShapeSeed,
  type VolumeType
} from './types.js'
import { durationSeconds, hex, prng, stringSeed } from './wire.js'

export const LAUNCH_TEMPLATE_TAG = 'aws:ec2launchtemplate:id'

interface RegionState {
  instances: SandboxInstance[]
  keyPairs: SandboxKeyPair[]
  securityGroups: SandboxSecurityGroup[]
  networkInterfaces: SandboxNetworkInterface[]
  launchTemplates: SandboxLaunchTemplate[]
  /** Deleted volumes, deleted snapshots and deregistered images stay in these lists (page offsets stay put). */
  volumes: SandboxVolume[]
  snapshots: SandboxSnapshot[]
  images: SandboxImage[]
}

const ID = {
  ami: /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/,
  snap: /^snap-[0-9a-f]{8}([0-9a-f]{9})?$/,
  vol: /^vol-[0-9a-f]{8}([0-9a-f]{9})?$/
}

/** The region's default EBS key (`aws/ebs`), which EC2 names for volumes and snapshots encrypted without a key of their own. */
export function defaultEbsKeyArn(region: string): string {
  return `arn:aws:kms:${region}:${ACCOUNT_ID}:key/0e5b0e5b-0000-4000-8000-00000000e5b5`
}

/** Whether a `deregistrationProtection` value (as DescribeImages answers it) refuses DeregisterImage now. */
export function deregistrationProtected(value: string, now = Date.now()): boolean {
  if (value === 'disabled') return false
  const after = /^disabled-after (.+)$/.exec(value)
  if (after) return now < new Date(after[1] as string).getTime()
  return true
}

export class Fleet {
  private readonly regions = new Map<string, RegionState>()
  private readonly instancesById = new Map<string, SandboxInstance>()
  private readonly volumesById = new Map<string, SandboxVolume>()
  private readonly snapshotsById = new Map<string, SandboxSnapshot>()
  private readonly imagesById = new Map<string, SandboxImage>()
  /** Volumes attached to each instance, in the order they were attached. */
  private readonly attached = new Map<string, SandboxVolume[]>()
  private readonly random: () => number
  /** EBS IDs come from their own generator, so that seeding volumes leaves every other generated ID as it was. */
  private readonly ebsRandom: () => number
  /**
   * How long a deregistered image is still listed (state `deregistered`) by DescribeImages; after
   * that, asking for its ID answers an empty list. Default 0.
   */
  deregisteredListedMs = 0

  /**
   * @param transitionDelayMs how long stopping/shutting-down last before stopped/terminated;
   *   0 = the next read already sees the final state.
   */
  constructor(
    public transitionDelayMs = 0,
    seed = 1,
    /**
     * How long a `pending` or `stopping` instance still reads as such after TerminateInstances,
     * before it goes `shutting-down` (EC2's reads lag; a killed build is often caught mid-stop).
     */
    public terminationLagMs = 0
  ) {
    this.random = prng(seed)
    this.ebsRandom = prng(stringSeed(`ebs/${seed}`))
  }

  /** Adds everything in `seed`; ages are measured back from `now`. */
  seed(seed: FleetSeed, now = Date.now()): void {
    for (const [region, content] of Object.entries(seed)) {
      const r = this.region(region)
      for (const s of content.securityGroups ?? []) {
        r.securityGroups.push({
          groupId: s.groupId ?? `sg-${this.hex(17)}`,
          groupName: s.groupName,
          description: s.description ?? s.groupName,
          region,
          vpcId: s.vpcId ?? 'vpc-0sandbox',
          tags: { ...s.tags },
          ingress: (s.ingress ?? []).map(permission),
          egress: (s.egress ?? [{ protocol: '-1', cidrs: ['0.0.0.0/0'] }]).map(permission)
        })
      }
      for (const s of content.instances ?? []) {
        const id = s.id ?? `i-${this.hex(17)}`
        if (!/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)) throw new Error(`sandbox: malformed instance id ${id}`)
        if (this.instancesById.has(id)) throw new Error(`sandbox: duplicate instance id ${id}`)
        const state = s.state ?? 'running'
        const tags = { ...s.tags }
        if (s.launchTemplateId) tags[LAUNCH_TEMPLATE_TAG] = s.launchTemplateId
        const instance: SandboxInstance = {
          id,
          ref: s.ref,
          region,
          reservationId: s.reservationId ?? `r-${this.hex(17)}`,
          keyName: s.keyName,
          state,
          launchTime: when(s, s.launchTime, now),
          tags,
          availabilityZone: s.availabilityZone ?? `${region}a`,
          lifecycle: s.lifecycle,
          rootDeviceType: s.rootDeviceType ?? 'ebs',
          disableApiTermination: s.disableApiTermination ?? false,
          disableApiStop: s.disableApiStop ?? false,
          securityGroupIds: s.securityGroupIds ?? [],
          instanceType: s.instanceType ?? 't3.micro',
          iamInstanceProfile: s.iamInstanceProfile ? { ...s.iamInstanceProfile } : undefined,
          history: [state],
          imageId: s.imageId ?? 'ami-0sandbox',
          rootDeviceName: s.rootDeviceName ?? (s.rootDeviceType === 'instance-store' ? '/dev/sda1' : '/dev/xvda'),
          elasticIp: s.elasticIp ? { ...s.elasticIp } : undefined
        }
        r.instances.push(instance)
        this.instancesById.set(id, instance)
        this.seedInstanceVolumes(r, instance, s)
      }
      for (const s of content.keyPairs ?? []) {
        r.keyPairs.push({
          keyPairId: s.keyPairId ?? `key-${this.hex(17)}`,
          keyName: s.keyName,
          region,
          createTime: s.createTime === null ? undefined : when(s, s.createTime, now),
          tags: { ...s.tags }
        })
      }
      for (const s of content.networkInterfaces ?? []) {
        r.networkInterfaces.push({
          networkInterfaceId: s.networkInterfaceId ?? `eni-${this.hex(17)}`,
          region,
          groupIds: s.groupIds,
          description: s.description ?? '',
          status: s.attachedInstanceId ? 'in-use' : 'available',
          attachedInstanceId: s.attachedInstanceId,
          tags: { ...s.tags }
        })
      }
      for (const s of content.launchTemplates ?? []) {
        r.launchTemplates.push({
          launchTemplateId: s.launchTemplateId ?? `lt-${this.hex(17)}`,
          launchTemplateName: s.launchTemplateName,
          region,
          createTime: s.createTime === null ? undefined : when(s, s.createTime, now),
          tags: { ...s.tags }
        })
      }
      for (const s of content.volumes ?? []) this.seedVolume(r, region, s, now)
      for (const s of content.snapshots ?? []) this.seedSnapshot(r, region, s, now)
      for (const s of content.images ?? []) this.seedImage(r, region, s, now)
    }
  }

  /** The region's state, created empty on first use. */
  region(name: string): RegionState {
    let r = this.regions.get(name)
    if (!r) {
      r = {
        instances: [],
        keyPairs: [],
        securityGroups: [],
        networkInterfaces: [],
        launchTemplates: [],
        volumes: [],
        snapshots: [],
        images: []
      }
      this.regions.set(name, r)
    }
    return r
  }

  regionNames(): string[] {
    return [...this.regions.keys()]
  }

  /** Instances of one region (or all), with due transitions applied. Live objects: do not mutate. */
  instances(region?: string): SandboxInstance[] {
    const list = region ? this.region(region).instances : [...this.regions.values()].flatMap((r) => r.instances)
    const now = Date.now()
    for (const i of list) this.settle(i, now)
    return list
  }

  instance(id: string): SandboxInstance | undefined {
    const i = this.instancesById.get(id)
    if (i) this.settle(i, Date.now())
    return i
  }

  /** The instance a fixture named with `ref`; throws when there is none. */
  byRef(ref: string): SandboxInstance {
    const found = this.instances().find((i) => i.ref === ref)
    if (!found) throw new Error(`sandbox: no instance with ref '${ref}'`)
    return found
  }

  /** Changes an instance directly (tests: protect it, flip its state). */
  update(
    id: string,
    patch: Partial<Pick<SandboxInstance, 'state' | 'disableApiTermination' | 'disableApiStop' | 'lifecycle' | 'tags'>>
  ): void {
    const i = this.instancesById.get(id)
    if (!i) throw new Error(`sandbox: no instance ${id}`)
    Object.assign(i, patch)
    if (patch.state) {
      i.transition = undefined
      i.history.push(patch.state)
      if (patch.state === 'terminated') this.releaseVolumes(i)
    }
  }

  /**
   * Starts a state change as EC2 does: an intermediate state now, the final one after the delay.
   * With `lagMs`, the instance keeps its current state that long before the intermediate one.
   */
  transition(instance: SandboxInstance, via: InstanceStateName, to: InstanceStateName, lagMs = 0): void {
    if (lagMs > 0) {
      instance.transition = { to: via, at: Date.now() + lagMs, then: { to, afterMs: this.transitionDelayMs } }
      return
    }
    instance.state = via
    instance.history.push(via)
    instance.transition = { to, at: Date.now() + this.transitionDelayMs }
  }

  keyPairs(region?: string): SandboxKeyPair[] {
    return region ? this.region(region).keyPairs : [...this.regions.values()].flatMap((r) => r.keyPairs)
  }

  securityGroups(region?: string): SandboxSecurityGroup[] {
    return region ? this.region(region).securityGroups : [...this.regions.values()].flatMap((r) => r.securityGroups)
  }

  launchTemplates(region?: string): SandboxLaunchTemplate[] {
    return region ? this.region(region).launchTemplates : [...this.regions.values()].flatMap((r) => r.launchTemplates)
  }

  /**
   * Network interfaces: the seeded ones plus one per instance that is not terminated (its primary
   * interface, carrying the instance's groups), as DescribeNetworkInterfaces shows them.
   */
  networkInterfaces(region: string): SandboxNetworkInterface[] {
    const own = this.region(region).networkInterfaces
    const primaries = this.instances(region)
      .filter((i) => i.state !== 'terminated')
      .map((i): SandboxNetworkInterface => ({
        networkInterfaceId: `eni-${i.id.slice(2)}`,
        region,
        groupIds: i.securityGroupIds,
        description: '',
        status: 'in-use',
        attachedInstanceId: i.id,
        tags: {}
      }))
    return [...own, ...primaries]
  }

  // ---- EBS: volumes, snapshots, images ----

  /**
   * The region's EBS lists as the handlers page through them: deleted volumes and snapshots and
   * deregistered images included (so offsets stay put), instance terminations and timed image
   * completions applied. Live objects: do not mutate.
   */
  ebs(region: string): Pick<RegionState, 'volumes' | 'snapshots' | 'images'> {
    this.instances(region)
    const r = this.region(region)
    const now = Date.now()
    for (const image of r.images) this.settleImage(image, now)
    return { volumes: r.volumes, snapshots: r.snapshots, images: r.images }
  }

  /** Volumes that exist (not deleted), of one region or all. */
  volumes(region?: string): SandboxVolume[] {
    return this.ebsLists(region).flatMap((r) => r.volumes.filter((v) => v.state !== 'deleted'))
  }

  /** A volume that exists (undefined once deleted). */
  volume(id: string): SandboxVolume | undefined {
    const v = this.volumesById.get(id)
    if (v) this.ebs(v.region)
    return v && v.state !== 'deleted' ? v : undefined
  }

  /** Snapshots that exist (not deleted), of one region or all. */
  snapshots(region?: string): SandboxSnapshot[] {
    return this.ebsLists(region).flatMap((r) => r.snapshots.filter((s) => !s.deleted))
  }

  /** A snapshot that exists (undefined once deleted). */
  snapshotById(id: string): SandboxSnapshot | undefined {
    const s = this.snapshotsById.get(id)
    return s && !s.deleted ? s : undefined
  }

  /** Every image of one region or all, deregistered ones included (state `deregistered`). */
  images(region?: string): SandboxImage[] {
    return this.ebsLists(region).flatMap((r) => r.images)
  }

  image(id: string): SandboxImage | undefined {
    const image = this.imagesById.get(id)
    if (image) this.settleImage(image, Date.now())
    return image
  }

  /** The image a fixture named with `ref`; throws when there is none. */
  imageByRef(ref: string): SandboxImage {
    const found = this.images().find((i) => i.ref === ref)
    if (!found) throw new Error(`sandbox: no image with ref '${ref}'`)
    return found
  }

  /** Images (not deregistered) whose EBS mappings use the snapshot. */
  imagesUsing(snapshotId: string, region: string): SandboxImage[] {
    return this.ebs(region).images.filter(
      (i) => i.state !== 'deregistered' && i.blockDeviceMappings.some((m) => m.ebs?.snapshotId === snapshotId)
    )
  }

  /** Volumes attached to the instance, in attachment order. */
  attachedVolumes(instanceId: string): SandboxVolume[] {
    const i = this.instance(instanceId)
    return i ? (this.attached.get(i.id) ?? []) : []
  }

  /**
   * Changes an image directly (tests: protect it, share it, finish it). A pending image set to
   * `available` or `failed` completes as with `completeImage`; `deregistered` deregisters it.
   */
  updateImage(
    id: string,
    patch: Partial<
      Pick<
        SandboxImage,
        'state' | 'name' | 'tags' | 'deregistrationProtection' | 'launchPermissions' | 'deprecationTime' | 'stateReason'
      >
    >
  ): void {
    const image = this.imagesById.get(id)
    if (!image) throw new Error(`sandbox: no image ${id}`)
    const { state, ...rest } = patch
    Object.assign(image, rest)
    if (state === 'available' || state === 'failed') this.completeImage(id, state)
    else if (state === 'deregistered') this.deregisterImage(image)
    else if (state) {
      image.state = state
      image.completes = undefined
    }
  }

  /** A pending image finishes now (the build's CreateImage completes): its pending snapshots complete too, or go `error` when it fails. */
  completeImage(id: string, to: 'available' | 'failed' = 'available'): void {
    const image = this.imagesById.get(id)
    if (!image) throw new Error(`sandbox: no image ${id}`)
    image.state = to
    image.completes = undefined
    for (const m of image.blockDeviceMappings) {
      const snapshot = m.ebs && this.snapshotsById.get(m.ebs.snapshotId)
      if (!snapshot || snapshot.state !== 'pending') continue
      snapshot.state = to === 'available' ? 'completed' : 'error'
      snapshot.progress = to === 'available' ? '100%' : snapshot.progress
    }
  }

  /**
   * CopyImage, as Packer's `ami_regions` sends it (CopyImageTags): a copy of `sourceId` in
   * `region`, named and tagged like its source, mapping the same devices with the same sizes and
   * types, each on a snapshot of its own made for it (`Copied for DestinationAmi … from SourceAmi
   * …`, tagged `snapshotTags` only) and encrypted with the destination region's key. `options`
   * override the seed (state, age, tags, protection, launch permissions…). Returns the copy.
   */
  copyImage(
    sourceId: string,
    region: string,
    options: Partial<Omit<ImageSeed, 'sourceImageId' | 'sourceImageRegion' | 'blockDeviceMappings'>> = {}
  ): SandboxImage {
    const source = this.imagesById.get(sourceId)
    if (!source) throw new Error(`sandbox: no image ${sourceId}`)
    const copy: ImageSeed = {
      name: source.name,
      description: source.description,
      tags: { ...source.tags },
      rootDeviceName: source.rootDeviceName,
      blockDeviceMappings: source.blockDeviceMappings.map((m) =>
        m.ebs
          ? {
              deviceName: m.deviceName,
              size: m.ebs.volumeSize,
              volumeType: m.ebs.volumeType,
              iops: m.ebs.iops,
              throughput: m.ebs.throughput,
              encrypted: m.ebs.encrypted,
              deleteOnTermination: m.ebs.deleteOnTermination
            }
          : { deviceName: m.deviceName, virtualName: m.virtualName, noDevice: m.noDevice }
      ),
      ...options,
      sourceImageId: source.imageId,
      sourceImageRegion: source.region
    }
    this.seed({ [region]: { images: [copy] } })
    const made = this.region(region).images.at(-1)
    if (!made) throw new Error(`sandbox: copy of ${sourceId} was not made`)
    return made
  }

  /** Deregisters the image (DeregisterImage): it stays listed `deregisteredListedMs`, its snapshots stay. */
  deregisterImage(image: SandboxImage): void {
    image.state = 'deregistered'
    image.completes = undefined
    image.deregisteredAt = Date.now()
  }

  /** Deletes a snapshot (DeleteSnapshot, or DeregisterImage with DeleteAssociatedSnapshots). */
  deleteSnapshot(snapshot: SandboxSnapshot): void {
    snapshot.deleted = true
  }

  /** Deletes a volume (DeleteVolume): it is no longer answered. */
  deleteVolume(volume: SandboxVolume): void {
    if (volume.attachment) this.detach(volume, false)
    volume.state = 'deleted'
  }

  /** DescribeImages answered these: a pending image that completes after N reads counts one more. */
  imagesAnswered(images: readonly SandboxImage[]): void {
    for (const image of images) {
      const reads = image.completes?.reads
      if (reads === undefined || image.state !== 'pending') continue
      if (reads <= 1) this.completeImage(image.imageId, image.completes?.to)
      else if (image.completes) image.completes.reads = reads - 1
    }
  }

  /** A deep copy of every resource, for before/after comparisons. */
  snapshot(): {
    instances: Array<Omit<SandboxInstance, 'history' | 'transition'>>
    keyPairs: string[]
    securityGroups: string[]
    launchTemplates: string[]
    volumes: SandboxVolume[]
    snapshots: SandboxSnapshot[]
    images: Array<Omit<SandboxImage, 'completes'>>
  } {
    return {
      instances: this.instances().map(({ history: _h, transition: _t, ...rest }) => structuredClone(rest)),
      keyPairs: this.keyPairs().map((k) => `${k.region}/${k.keyName}`),
      securityGroups: this.securityGroups().map((g) => `${g.region}/${g.groupId}`),
      launchTemplates: this.launchTemplates().map((t) => `${t.region}/${t.launchTemplateId}`),
      volumes: this.volumes().map((v) => structuredClone(v)),
      snapshots: this.snapshots().map((s) => structuredClone(s)),
      images: this.images().map(({ completes: _c, ...rest }) => structuredClone(rest))
    }
  }

  private ebsLists(region?: string): Array<Pick<RegionState, 'volumes' | 'snapshots' | 'images'>> {
    return region ? [this.ebs(region)] : [...this.regions.keys()].map((r) => this.ebs(r))
  }

  private settleImage(image: SandboxImage, now: number): void {
    if (image.state === 'pending' && image.completes?.at !== undefined && now >= image.completes.at)
      this.completeImage(image.imageId, image.completes.to)
  }

  private settle(i: SandboxInstance, now: number): void {
    while (i.transition && now >= i.transition.at) {
      const { to, at, then } = i.transition
      i.state = to
      i.history.push(to)
      i.transition = then ? { to: then.to, at: at + then.afterMs } : undefined
      if (to === 'terminated') this.releaseVolumes(i)
    }
  }

  /** Termination: the instance's DeleteOnTermination volumes are deleted, the others detached (`available`). */
  private releaseVolumes(i: SandboxInstance): void {
    for (const v of [...(this.attached.get(i.id) ?? [])]) this.detach(v, v.attachment?.deleteOnTermination ?? false)
  }

  private detach(v: SandboxVolume, andDelete: boolean): void {
    const instanceId = v.attachment?.instanceId
    if (instanceId) {
      const rest = (this.attached.get(instanceId) ?? []).filter((x) => x !== v)
      if (rest.length > 0) this.attached.set(instanceId, rest)
      else this.attached.delete(instanceId)
    }
    v.attachment = undefined
    v.state = andDelete ? 'deleted' : 'available'
  }

  private attach(v: SandboxVolume, attachment: SandboxVolume['attachment'] & object): void {
    const list = this.attached.get(attachment.instanceId) ?? []
    if (list.some((x) => x.attachment?.device === attachment.device)) {
      throw new Error(`sandbox: instance ${attachment.instanceId} already has a volume at ${attachment.device}`)
    }
    list.push(v)
    this.attached.set(attachment.instanceId, list)
    v.attachment = attachment
    v.state = 'in-use'
  }

  private seedInstanceVolumes(r: RegionState, instance: SandboxInstance, s: InstanceSeed): void {
    const mappings =
      s.blockDeviceMappings ?? (instance.rootDeviceType === 'ebs' ? [{ deviceName: instance.rootDeviceName }] : [])
    for (const m of mappings) {
      const deleteOnTermination = m.deleteOnTermination ?? m.deviceName === instance.rootDeviceName
      // A terminated instance's DeleteOnTermination volumes are gone; the others are left available.
      if (instance.state === 'terminated' && deleteOnTermination) continue
      const volume = this.newVolume(
        r,
        instance.region,
        m,
        m.volumeId,
        m.tags,
        instance.availabilityZone,
        m.createTime ? new Date(m.createTime) : instance.launchTime
      )
      if (instance.state !== 'terminated') {
        this.attach(volume, {
          instanceId: instance.id,
          device: m.deviceName,
          deleteOnTermination,
          attachTime: instance.launchTime
        })
      }
    }
  }

  private seedVolume(r: RegionState, region: string, s: VolumeSeed, now: number): void {
    const volume = this.newVolume(
      r,
      region,
      s,
      s.volumeId,
      s.tags,
      s.availabilityZone ?? `${region}a`,
      when(s, s.createTime, now)
    )
    const a = s.attachment
    if (!a) return
    const instance = this.instance(a.instanceId)
    if (!instance || instance.region !== region)
      throw new Error(`sandbox: volume ${volume.volumeId} attached to ${a.instanceId}, not an instance of ${region}`)
    if (instance.state === 'terminated')
      throw new Error(`sandbox: volume ${volume.volumeId} attached to terminated ${a.instanceId}`)
    volume.availabilityZone = instance.availabilityZone
    this.attach(volume, {
      instanceId: instance.id,
      device: a.device,
      deleteOnTermination: a.deleteOnTermination ?? false,
      attachTime: a.attachTime ? new Date(a.attachTime) : volume.createTime
    })
  }

  private newVolume(
    r: RegionState,
    region: string,
    shape: VolumeShapeSeed,
    id: string | undefined,
    tags: Tags | undefined,
    availabilityZone: string,
    createTime: Date
  ): SandboxVolume {
    const volumeId = this.ebsId('vol', id)
    const size = shape.size ?? 8
    const volumeType = shape.volumeType ?? 'gp3'
    const encrypted = shape.encrypted ?? false
    const volume: SandboxVolume = {
      volumeId,
      region,
      size,
      volumeType,
      iops: shape.iops ?? defaultIops(volumeType, size),
      throughput: shape.throughput ?? (volumeType === 'gp3' ? 125 : undefined),
      encrypted,
      kmsKeyId: encrypted ? (shape.kmsKeyId ?? defaultEbsKeyArn(region)) : undefined,
      snapshotId: shape.snapshotId,
      availabilityZone,
      state: 'available',
      createTime,
      tags: { ...tags }
    }
    r.volumes.push(volume)
    this.volumesById.set(volumeId, volume)
    return volume
  }

  private seedSnapshot(r: RegionState, region: string, s: SnapshotSeed, now: number): SandboxSnapshot {
    const snapshotId = this.ebsId('snap', s.snapshotId)
    const state = s.state ?? 'completed'
    const encrypted = s.encrypted ?? false
    const snapshot: SandboxSnapshot = {
      snapshotId,
      region,
      ownerId: s.ownerId ?? ACCOUNT_ID,
      volumeId: s.volumeId,
      volumeSize: s.volumeSize ?? 8,
      state,
      progress: s.progress ?? (state === 'completed' ? '100%' : '0%'),
      startTime: when(s, s.startTime, now),
      description: s.description ?? '',
      encrypted,
      kmsKeyId: encrypted ? (s.kmsKeyId ?? defaultEbsKeyArn(region)) : undefined,
      tags: { ...s.tags },
      deleted: false
    }
    r.snapshots.push(snapshot)
    this.snapshotsById.set(snapshotId, snapshot)
    return snapshot
  }

  private seedImage(r: RegionState, region: string, s: ImageSeed, now: number): void {
    const imageId = this.ebsId('ami', s.imageId)
    const state = s.state ?? 'available'
    if (s.completes && state !== 'pending') throw new Error(`sandbox: image ${imageId} completes but is not pending`)
    if ((s.sourceImageId === undefined) !== (s.sourceImageRegion === undefined)) {
      throw new Error(`sandbox: image ${imageId}: a copy names both sourceImageId and sourceImageRegion`)
    }
    const creationDate = when(s, s.creationDate, now)
    const rootDeviceName = s.rootDeviceName ?? '/dev/xvda'
    const launchPermissions = [...(s.launchPermissions ?? [])]
    if (s.public && !launchPermissions.some((p) => 'group' in p)) launchPermissions.push({ group: 'all' })
    const image: SandboxImage = {
      imageId,
      ref: s.ref,
      region,
      name: s.name,
      description: s.description,
      state,
      creationDate,
      ownerId: s.ownerId ?? ACCOUNT_ID,
      ownerAlias: s.ownerAlias,
      sourceInstanceId: s.sourceInstanceId,
      sourceImageId: s.sourceImageId,
      sourceImageRegion: s.sourceImageRegion,
      launchPermissions,
      deregistrationProtection: s.deregistrationProtection ?? 'disabled',
      deprecationTime: s.deprecationTime ? new Date(s.deprecationTime) : undefined,
      rootDeviceName,
      blockDeviceMappings: [],
      stateReason: s.stateReason ? { ...s.stateReason } : undefined,
      tags: { ...s.tags },
      deregisteredAt: state === 'deregistered' ? now : undefined,
      completes: s.completes
        ? {
            reads: s.completes.reads,
            at: s.completes.ms === undefined ? undefined : now + s.completes.ms,
            to: s.completes.to ?? 'available'
          }
        : undefined
    }
    for (const m of s.blockDeviceMappings ?? [{ deviceName: rootDeviceName }]) {
      if (m.virtualName !== undefined || m.noDevice) {
        image.blockDeviceMappings.push({ deviceName: m.deviceName, virtualName: m.virtualName, noDevice: m.noDevice })
        continue
      }
      const snapshot =
        (m.snapshotId && this.snapshotsById.get(m.snapshotId)) ||
        this.snapshotForImage(r, region, image, m, s.snapshotTags)
      const shape = volumeShape(
        {
          ...m,
          size: m.size ?? snapshot.volumeSize,
          encrypted: m.encrypted ?? snapshot.encrypted,
          kmsKeyId: m.kmsKeyId ?? snapshot.kmsKeyId
        },
        region
      )
      const mapping: SandboxImageBlockDevice = {
        deviceName: m.deviceName,
        ebs: {
          snapshotId: snapshot.snapshotId,
          volumeSize: shape.size,
          volumeType: shape.volumeType,
          iops: shape.iops,
          throughput: shape.throughput,
          encrypted: shape.encrypted,
          kmsKeyId: shape.kmsKeyId,
          deleteOnTermination: m.deleteOnTermination ?? true
        }
      }
      image.blockDeviceMappings.push(mapping)
    }
    r.images.push(image)
    this.imagesById.set(imageId, image)
  }

  /**
   * The snapshot CreateImage (or CopyImage, for a copy) made for one EBS mapping: its state follows
   * the image's, its description the form EC2 gives it.
   */
  private snapshotForImage(
    r: RegionState,
    region: string,
    image: SandboxImage,
    m: VolumeShapeSeed & { deviceName: string },
    tags?: Tags
  ): SandboxSnapshot {
    const state = image.state === 'pending' ? 'pending' : image.state === 'failed' ? 'error' : 'completed'
    let description = ''
    let volumeId: string | undefined
    if (image.sourceImageId) {
      const source = this.imagesById
        .get(image.sourceImageId)
        ?.blockDeviceMappings.find((x) => x.deviceName === m.deviceName)?.ebs?.snapshotId
      description = `Copied for DestinationAmi ${image.imageId} from SourceAmi ${image.sourceImageId}${source ? ` for SourceSnapshot ${source}` : ''}`
      volumeId = 'vol-ffffffff'
    } else if (image.sourceInstanceId) {
      description = `Created by CreateImage(${image.sourceInstanceId}) for ${image.imageId}`
      volumeId = (this.attached.get(image.sourceInstanceId) ?? []).find(
        (v) => v.attachment?.device === m.deviceName
      )?.volumeId
    }
    return this.seedSnapshot(
      r,
      region,
      {
        snapshotId: m.snapshotId,
        volumeId,
        volumeSize: m.size ?? 8,
        state,
        startTime: image.creationDate.toISOString(),
        description,
        encrypted: m.encrypted,
        kmsKeyId: m.kmsKeyId,
        tags,
        ownerId: image.ownerId
      },
      image.creationDate.getTime()
    )
  }

  private ebsId(prefix: keyof typeof ID, id: string | undefined): string {
    const value = id ?? `${prefix}-${hex(this.ebsRandom, 17)}`
    if (id !== undefined && !ID[prefix].test(id)) throw new Error(`sandbox: malformed ${prefix} id ${id}`)
    if (this.volumesById.has(value) || this.snapshotsById.has(value) || this.imagesById.has(value))
      throw new Error(`sandbox: duplicate id ${value}`)
    return value
  }

  private hex(length: number): string {
    return hex(this.random, length)
  }
}

/** A volume's (or an image mapping's) size, type, IOPS, throughput and encryption with EBS's defaults filled in. */
export function volumeShape(
  s: VolumeShapeSeed,
  region: string
): { size: number; volumeType: VolumeType; iops?: number; throughput?: number; encrypted: boolean; kmsKeyId?: string } {
  const size = s.size ?? 8
  const volumeType = s.volumeType ?? 'gp3'
  const encrypted = s.encrypted ?? false
  return {
    size,
    volumeType,
    iops: s.iops ?? defaultIops(volumeType, size),
    throughput: s.throughput ?? (volumeType === 'gp3' ? 125 : undefined),
    encrypted,
    kmsKeyId: encrypted ? (s.kmsKeyId ?? defaultEbsKeyArn(region)) : undefined
  }
}

/** EBS's default IOPS: 3000 for gp3 and (here) io1/io2, 3 per GiB within 100–16000 for gp2, none for the HDD and magnetic types. */
function defaultIops(volumeType: VolumeType, size: number): number | undefined {
  if (volumeType === 'gp3' || volumeType === 'io1' || volumeType === 'io2') return 3000
  if (volumeType === 'gp2') return Math.min(16000, Math.max(100, 3 * size))
  return undefined
}

function permission(p: IpPermissionSeed): SandboxIpPermission {
  return {
    protocol: p.protocol ?? 'tcp',
    fromPort: p.fromPort,
    toPort: p.toPort,
    cidrs: p.cidrs ?? [],
    groupIds: p.groupIds ?? []
  }
}

export function when(aged: Aged, absolute: string | undefined, now: number): Date {
  if (absolute) return new Date(absolute)
  if (aged.ageSeconds !== undefined) return new Date(now - aged.ageSeconds * 1000)
  if (aged.age !== undefined) return new Date(now - durationSeconds(aged.age) * 1000)
  return new Date(now)
}

export function stateCode(state: InstanceStateName): number {
  return STATE_CODES[state]
}

/** A time-ordered Packer UUID (`%08x-…`): the first 8 hex digits are the Unix seconds of `start`. */
export function packerUuid(
  startSeconds: number,
  random: () => number = prng(stringSeed(String(startSeconds)))
): string {
  const head = Math.floor(startSeconds).toString(16).padStart(8, '0')
  return `${head}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 12)}`
}

/**
 * `packer_<uuid>` for a build that started `ageSeconds` before `now` (epoch milliseconds or a
 * Date). The rest of the UUID is reproducible: seeded by the start, or by `random` (a generator,
 * or a string that tells apart names of builds that started in the same second).
 */
export function packerName(
  ageSeconds: number,
  now: number | Date = Date.now(),
  random?: (() => number) | string
): string {
  const start = Math.floor(Number(now) / 1000) - ageSeconds
  return `packer_${packerUuid(start, typeof random === 'string' ? prng(stringSeed(`${start}/${random}`)) : random)}`
}
