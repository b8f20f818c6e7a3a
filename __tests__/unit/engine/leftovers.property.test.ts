/**
 * The promise of issue 4 as a property over random regions: nothing carrying the exclude-tag,
 * nothing younger than max-age by either of its clocks, nothing still used by an instance
 * that is not being terminated (or by an interface or group reference), and no key pair not named
 * packer_<uuid> (issue 17) is ever deleted; notify,
 * stop and dry-run delete nothing at all. Each run seeds a fresh in-process sandbox from a plain
 * model of the region; the oracle below reads that model, the checks read the sandbox.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { SWEEP_ACTIONS } from '../../../src/model/types.js'
import { type InstanceStateName, type RegionSeed, type Sandbox, startSandbox } from '../../../sandbox/index.js'
import { REGION, regionalKindsFor, sandboxClient, planLeftovers, actOn, testScope } from './harness.js'
import { defaultInputs, hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const KEEP = 'packer-sweeper:keep'
const INSTANCES = ['i-00000000', 'i-00000001', 'i-00000002', 'i-00000003', 'i-00000004']
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'terminated'] as const
const PACKERS_OWN_KEY = /^packer_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const hours = fc.integer({ min: 0, max: 8 })
const resource = fc.record({
  buildAgeHours: fc.option(hours, { nil: undefined }),
  createAgeHours: fc.option(hours, { nil: undefined }),
  excluded: fc.boolean(),
  usedBy: fc.subarray(INSTANCES, { maxLength: 2 }),
  detachedInterface: fc.boolean(),
  referencedBy: fc.option(fc.nat({ max: 3 }), { nil: undefined })
})
const scenario = fc.record({
  keyPairs: fc.array(resource, { maxLength: 4 }),
  groups: fc.array(resource, { maxLength: 4 }),
  templates: fc.array(resource, { maxLength: 3 }),
  states: fc.tuple(...INSTANCES.map(() => fc.constantFrom(...LIVE_STATES))),
  terminating: fc.subarray(INSTANCES),
  /** Of the terminating ones, those whose TerminateInstances failed. */
  failedToTerminate: fc.subarray(INSTANCES, { maxLength: 2 }),
  maxAgeHours: fc.integer({ min: 0, max: 6 }),
  action: fc.constantFrom(...SWEEP_ACTIONS),
  dryRun: fc.boolean()
})
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never
type Resource = Scenario['keyPairs'][number]

/** The region as the oracle sees it. */
interface World {
  instances: Array<{ id: string; state: InstanceStateName; keyName?: string; launchTemplateId?: string }>
  keyPairs: Array<{ name: string; id: string; createTime?: Date; tags: Record<string, string> }>
  groups: Array<{
    id: string
    name: string
    description: string
    tags?: Record<string, string>
    ingressFrom?: string[]
  }>
  interfaces: Array<{ id: string; groupIds: string[]; instanceId?: string }>
  templates: Array<{ id: string; name: string; createTime?: Date; tags: Record<string, string> }>
}

function buildWorld(s: Scenario): World {
  const world: World = { instances: [], keyPairs: [], groups: [], interfaces: [], templates: [] }
  const nameOf = (r: Resource, kind: number, n: number) =>
    r.buildAgeHours === undefined ? `packer_custom${kind}${n}` : packerName(r.buildAgeHours * 3600, NOW, `${kind}/${n}`)
  const tags = (r: Resource): Record<string, string> => (r.excluded ? { [KEEP]: '' } : {})
  const at = (age: number | undefined) => (age === undefined ? undefined : hoursBefore(NOW, age))
  world.instances = INSTANCES.map((id, n) => ({ id, state: s.states[n] ?? 'running' }))
  s.keyPairs.forEach((r, n) => {
    const name = nameOf(r, 1, n)
    world.keyPairs.push({ name, id: `key-${n}`, createTime: at(r.createAgeHours), tags: tags(r) })
    for (const id of r.usedBy) world.instances.find((instance) => instance.id === id)!.keyName = name
  })
  s.groups.forEach((r, n) => {
    world.groups.push({
      id: `sg-${n}`,
      name: nameOf(r, 2, n),
      description: 'Temporary group for Packer',
      tags: tags(r)
    })
    for (const id of r.usedBy) world.interfaces.push({ id: `eni-${n}-${id}`, groupIds: [`sg-${n}`], instanceId: id })
    if (r.detachedInterface) world.interfaces.push({ id: `eni-${n}`, groupIds: [`sg-${n}`] })
    if (r.referencedBy !== undefined)
      world.groups.push({ id: `sg-app-${n}`, name: 'app', description: 'app', ingressFrom: [`sg-${n}`] })
  })
  s.templates.forEach((r, n) => {
    world.templates.push({
      id: `lt-${n}`,
      name: `packer-fleet-launch-template-${n}`,
      createTime: at(r.createAgeHours),
      tags: tags(r)
    })
    for (const id of r.usedBy) world.instances.find((instance) => instance.id === id)!.launchTemplateId = `lt-${n}`
  })
  return world
}

/** The sandbox seed for `world`. */
function seedOf(world: World): RegionSeed {
  const iso = (date: Date | undefined) => date?.toISOString() ?? null
  return {
    instances: world.instances.map(({ id, state, keyName, launchTemplateId }) => ({
      id,
      state,
      keyName,
      launchTemplateId
    })),
    keyPairs: world.keyPairs.map((key) => ({
      keyName: key.name,
      keyPairId: key.id,
      createTime: iso(key.createTime),
      tags: key.tags
    })),
    securityGroups: world.groups.map((group) => ({
      groupId: group.id,
      groupName: group.name,
      description: group.description,
      tags: group.tags,
      ingress: group.ingressFrom && [{ protocol: '-1', groupIds: group.ingressFrom }]
    })),
    networkInterfaces: world.interfaces.map((eni) => ({
      networkInterfaceId: eni.id,
      groupIds: eni.groupIds,
      attachedInstanceId: eni.instanceId
    })),
    launchTemplates: world.templates.map((template) => ({
      launchTemplateId: template.id,
      launchTemplateName: template.name,
      createTime: iso(template.createTime),
      tags: template.tags
    }))
  }
}

/** What the core does between plan and sweep: the terminating instances that succeeded are gone, with their interfaces. */
function terminate(sandbox: Sandbox, ids: ReadonlySet<string>): void {
  for (const id of ids) sandbox.fleet.update(id, { state: 'terminated' })
  const interfaces = sandbox.fleet.region(REGION).networkInterfaces
  interfaces.splice(
    0,
    interfaces.length,
    ...interfaces.filter((eni) => !eni.attachedInstanceId || !ids.has(eni.attachedInstanceId))
  )
}

/** The oracle, reading the world as planned: may this resource be deleted at all? */
function mayDelete(
  r: Resource,
  s: Scenario,
  kind: 'key' | 'group' | 'template',
  id: string,
  world: World,
  freed: ReadonlySet<string>
): boolean {
  if (r.excluded) return false
  // Only Packer's own packer_<uuid> key pairs (this run does not opt in to deleting custom-named ones).
  if (kind === 'key' && !PACKERS_OWN_KEY.test(world.keyPairs.find((key) => key.id === id)?.name ?? '')) return false
  const clocks = [
    kind === 'template' ? undefined : r.buildAgeHours,
    kind === 'group' ? undefined : r.createAgeHours
  ].filter((age): age is number => age !== undefined)
  if (clocks.length === 0) return false
  if (s.maxAgeHours > 0 && clocks.some((age) => age <= s.maxAgeHours)) return false
  const holds = (instanceId: string | undefined) => instanceId === undefined || !freed.has(instanceId)
  if (kind === 'group') {
    const attached = world.interfaces.some((eni) => eni.groupIds.includes(id) && holds(eni.instanceId))
    const referenced = world.groups.some((group) => group.id !== id && (group.ingressFrom ?? []).includes(id))
    return !attached && !referenced
  }
  const name = world.keyPairs.find((key) => key.id === id)?.name
  return !world.instances.some(
    (instance) =>
      instance.state !== 'terminated' &&
      holds(instance.id) &&
      (kind === 'key' ? instance.keyName === name : instance.launchTemplateId === id)
  )
}

describe('safety', () => {
  it('never deletes what is excluded, young or still used; notify, stop and dry-run delete nothing', async () => {
    let runsThatDeleted = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const original = buildWorld(s)
        const sandbox = await startSandbox({ regions: [REGION], pageSize: 2, fleet: { [REGION]: seedOf(original) } })
        const client = sandboxClient(sandbox)
        try {
          const inputs = defaultInputs({
            resources: ['instances', 'key-pairs', 'security-groups', 'launch-templates'],
            // The old default, which lists custom-named keys too: they must be reported, never deleted.
            'key-name': ['packer_*'],
            action: s.action,
            'dry-run': s.dryRun,
            'max-age': s.maxAgeHours * 3600
          })
          const kinds = regionalKindsFor(inputs)
          const ctx = { kinds, scope: testScope({ region: REGION, inputs, now: NOW, ec2For: () => client }, kinds) }
          // Like the core: only terminate terminates, and only instances that are not terminated yet.
          const terminating = new Set(s.action === 'terminate' ? s.terminating : [])
          const terminated = new Set([...terminating].filter((id) => !s.failedToTerminate.includes(id)))
          const plan = await planLeftovers(ctx, terminating)
          if (!s.dryRun) terminate(sandbox, terminated)
          const findings = await actOn(ctx, plan, terminated)

          const deleted = findings.filter((finding) => finding.outcome === 'deleted').map((finding) => finding.id)
          if (deleted.length > 0) runsThatDeleted++
          const real = ['DeleteKeyPair', 'DeleteSecurityGroup', 'DeleteLaunchTemplate'].flatMap((action) =>
            sandbox.callsOf(action, REGION).filter((call) => call.params.DryRun !== 'true')
          )
          if (s.action !== 'terminate' || s.dryRun) {
            expect(real).toEqual([])
            expect(deleted).toEqual([])
            return
          }
          const freed = terminated
          s.keyPairs.forEach((r, n) => {
            if (!mayDelete(r, s, 'key', `key-${n}`, original, freed))
              expect(sandbox.fleet.keyPairs(REGION).map((key) => key.keyPairId)).toContain(`key-${n}`)
          })
          s.groups.forEach((r, n) => {
            if (!mayDelete(r, s, 'group', `sg-${n}`, original, freed))
              expect(sandbox.fleet.securityGroups(REGION).map((group) => group.groupId)).toContain(`sg-${n}`)
          })
          s.templates.forEach((r, n) => {
            if (!mayDelete(r, s, 'template', `lt-${n}`, original, freed))
              expect(sandbox.fleet.launchTemplates(REGION).map((template) => template.launchTemplateId)).toContain(
                `lt-${n}`
              )
          })
          // And what is deleted was debris to begin with: nothing outside the Packer patterns.
          expect(original.groups.filter((group) => group.name === 'app').length).toBe(
            sandbox.fleet.securityGroups(REGION).filter((group) => group.groupName === 'app').length
          )
        } finally {
          client.destroy()
          await sandbox.close()
        }
      }),
      { numRuns: 150 }
    )
    // Not vacuous: the random regions do hold debris that gets deleted.
    expect(runsThatDeleted).toBeGreaterThan(5)
  })
})
