/**
 * The promise of issue 4 as a property over random regions: nothing carrying the exclude-tag,
 * nothing younger than max-age by either of its clocks, and nothing still used by an instance
 * that is not being terminated (or by an interface or group reference) is ever deleted; notify,
 * stop and dry-run delete nothing at all. The oracle below reads the fake world directly.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { DeleteKeyPairCommand, DeleteLaunchTemplateCommand, DeleteSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2'
import fc from 'fast-check'
import { planOrphans, sweepOrphans } from '../../../src/orphans/index.js'
import { SWEEP_ACTIONS } from '../../../src/types.js'
import { ec2, emptyWorld, type FakeWorld, installFakeEc2, QUICK_WAIT } from './fake-ec2.js'
import { defaultInputs, hoursBefore, NOW, packerName } from '../../../__fixtures__/support.js'

const KEEP = 'packer-sweeper:keep'
const INSTANCES = ['i-0', 'i-1', 'i-2', 'i-3', 'i-4']
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'terminated'] as const

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

function buildWorld(s: Scenario): FakeWorld {
  const world = emptyWorld()
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
    world.groups.push({ id: `sg-${n}`, name: nameOf(r, 2, n), description: 'Temporary group for Packer', tags: tags(r) })
    for (const id of r.usedBy) world.interfaces.push({ id: `eni-${n}-${id}`, groupIds: [`sg-${n}`], instanceId: id })
    if (r.detachedInterface) world.interfaces.push({ id: `eni-${n}`, groupIds: [`sg-${n}`] })
    if (r.referencedBy !== undefined) world.groups.push({ id: `sg-app-${n}`, name: 'app', description: 'app', ingressFrom: [`sg-${n}`] })
  })
  s.templates.forEach((r, n) => {
    world.templates.push({ id: `lt-${n}`, name: `packer-fleet-launch-template-${n}`, createTime: at(r.createAgeHours), tags: tags(r) })
    for (const id of r.usedBy) world.instances.find((instance) => instance.id === id)!.launchTemplateId = `lt-${n}`
  })
  return world
}

/** What the core does between plan and sweep: the terminating instances that succeeded are gone. */
function terminate(world: FakeWorld, ids: ReadonlySet<string>): void {
  for (const instance of world.instances) if (ids.has(instance.id)) instance.state = 'terminated'
  world.interfaces = world.interfaces.filter((eni) => !eni.instanceId || !ids.has(eni.instanceId))
}

/** The oracle, reading the world as planned: may this resource be deleted at all? */
function mayDelete(r: Resource, s: Scenario, kind: 'key' | 'group' | 'template', id: string, world: FakeWorld, freed: ReadonlySet<string>): boolean {
  if (r.excluded) return false
  const clocks = [kind === 'template' ? undefined : r.buildAgeHours, kind === 'group' ? undefined : r.createAgeHours].filter(
    (age): age is number => age !== undefined
  )
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
    (instance) => instance.state !== 'terminated' && holds(instance.id) && (kind === 'key' ? instance.keyName === name : instance.launchTemplateId === id)
  )
}

afterEach(() => {
  ec2.reset()
})

describe('safety', () => {
  it('never deletes what is excluded, young or still used; notify, stop and dry-run delete nothing', async () => {
    let runsThatDeleted = 0
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        ec2.reset()
        const world = buildWorld(s)
        installFakeEc2(world)
        const original = structuredClone(world)
        const inputs = defaultInputs({
          resources: ['instances', 'key-pairs', 'security-groups', 'launch-templates'],
          action: s.action,
          'dry-run': s.dryRun,
          'max-age': s.maxAgeHours * 3600
        })
        const ctx = { client: new EC2Client({ region: 'us-east-1' }), region: 'us-east-1', inputs, now: NOW, terminationWait: QUICK_WAIT }
        // Like the core: only terminate terminates, and only instances that are not terminated yet.
        const terminating = new Set(s.action === 'terminate' ? s.terminating : [])
        const terminated = new Set([...terminating].filter((id) => !s.failedToTerminate.includes(id)))
        const plan = await planOrphans(ctx, terminating)
        if (!s.dryRun) terminate(world, terminated)
        const findings = await sweepOrphans(ctx, plan, terminated)

        const deleted = findings.filter((finding) => finding.outcome === 'deleted').map((finding) => finding.id)
        if (deleted.length > 0) runsThatDeleted++
        const real = [DeleteKeyPairCommand, DeleteSecurityGroupCommand, DeleteLaunchTemplateCommand].flatMap((command) =>
          ec2.commandCalls(command).filter((call) => !call.args[0].input.DryRun)
        )
        if (s.action !== 'terminate' || s.dryRun) {
          expect(real).toEqual([])
          expect(deleted).toEqual([])
          return
        }
        const freed = terminated
        s.keyPairs.forEach((r, n) => {
          if (!mayDelete(r, s, 'key', `key-${n}`, original, freed)) expect(world.keyPairs.map((key) => key.id)).toContain(`key-${n}`)
        })
        s.groups.forEach((r, n) => {
          if (!mayDelete(r, s, 'group', `sg-${n}`, original, freed)) expect(world.groups.map((group) => group.id)).toContain(`sg-${n}`)
        })
        s.templates.forEach((r, n) => {
          if (!mayDelete(r, s, 'template', `lt-${n}`, original, freed)) expect(world.templates.map((template) => template.id)).toContain(`lt-${n}`)
        })
        // And what is deleted was debris to begin with: nothing outside the Packer patterns.
        expect(original.groups.filter((group) => group.name === 'app').length).toBe(world.groups.filter((group) => group.name === 'app').length)
      }),
      { numRuns: 150 }
    )
    // Not vacuous: the random regions do hold debris that gets deleted.
    expect(runsThatDeleted).toBeGreaterThan(5)
  })
})
