/**
 * The live state of the sandbox account, indexed by region and by ID so that 40,000 instances
 * stay cheap to page through. Seeds come from fixtures or `generateFleet`.
 */
import {
  STATE_CODES,
  type Aged,
  type FleetSeed,
  type InstanceStateName,
  type IpPermissionSeed,
  type SandboxInstance,
  type SandboxIpPermission,
  type SandboxKeyPair,
  type SandboxLaunchTemplate,
  type SandboxNetworkInterface,
  type SandboxSecurityGroup
} from './types.js'
import { durationSeconds, hex, prng, stringSeed } from './wire.js'

export const LAUNCH_TEMPLATE_TAG = 'aws:ec2launchtemplate:id'

interface RegionState {
  instances: SandboxInstance[]
  keyPairs: SandboxKeyPair[]
  securityGroups: SandboxSecurityGroup[]
  networkInterfaces: SandboxNetworkInterface[]
  launchTemplates: SandboxLaunchTemplate[]
}

export class Fleet {
  private readonly regions = new Map<string, RegionState>()
  private readonly instancesById = new Map<string, SandboxInstance>()
  private readonly random: () => number

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
          history: [state]
        }
        r.instances.push(instance)
        this.instancesById.set(id, instance)
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
    }
  }

  /** The region's state, created empty on first use. */
  region(name: string): RegionState {
    let r = this.regions.get(name)
    if (!r) {
      r = { instances: [], keyPairs: [], securityGroups: [], networkInterfaces: [], launchTemplates: [] }
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
  update(id: string, patch: Partial<Pick<SandboxInstance, 'state' | 'disableApiTermination' | 'disableApiStop' | 'lifecycle' | 'tags'>>): void {
    const i = this.instancesById.get(id)
    if (!i) throw new Error(`sandbox: no instance ${id}`)
    Object.assign(i, patch)
    if (patch.state) {
      i.transition = undefined
      i.history.push(patch.state)
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

  /** A deep copy of every resource, for before/after comparisons. */
  snapshot(): { instances: Array<Omit<SandboxInstance, 'history' | 'transition'>>; keyPairs: string[]; securityGroups: string[]; launchTemplates: string[] } {
    return {
      instances: this.instances().map(({ history: _h, transition: _t, ...rest }) => structuredClone(rest)),
      keyPairs: this.keyPairs().map((k) => `${k.region}/${k.keyName}`),
      securityGroups: this.securityGroups().map((g) => `${g.region}/${g.groupId}`),
      launchTemplates: this.launchTemplates().map((t) => `${t.region}/${t.launchTemplateId}`)
    }
  }

  private settle(i: SandboxInstance, now: number): void {
    while (i.transition && now >= i.transition.at) {
      const { to, at, then } = i.transition
      i.state = to
      i.history.push(to)
      i.transition = then ? { to: then.to, at: at + then.afterMs } : undefined
    }
  }

  private hex(length: number): string {
    return hex(this.random, length)
  }
}

function permission(p: IpPermissionSeed): SandboxIpPermission {
  return { protocol: p.protocol ?? 'tcp', fromPort: p.fromPort, toPort: p.toPort, cidrs: p.cidrs ?? [], groupIds: p.groupIds ?? [] }
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
export function packerUuid(startSeconds: number, random: () => number = prng(stringSeed(String(startSeconds)))): string {
  const head = Math.floor(startSeconds).toString(16).padStart(8, '0')
  return `${head}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 4)}-${hex(random, 12)}`
}

/**
 * `packer_<uuid>` for a build that started `ageSeconds` before `now` (epoch milliseconds or a
 * Date). The rest of the UUID is reproducible: seeded by the start, or by `random` (a generator,
 * or a string that tells apart names of builds that started in the same second).
 */
export function packerName(ageSeconds: number, now: number | Date = Date.now(), random?: (() => number) | string): string {
  const start = Math.floor(Number(now) / 1000) - ageSeconds
  return `packer_${packerUuid(start, typeof random === 'string' ? prng(stringSeed(`${start}/${random}`)) : random)}`
}
