/**
 * `resources: all`: what killed builds left (instance, key pair, group, spot launch template) is
 * swept in one run, instances first; what a live build, a kept builder or a user still uses survives.
 */
import { describe, expect, it } from '@jest/globals'
import { BUILDS, GROUPS, ORPHANS_EXPECTED, TEMPLATES, orphansFleet } from '../fixtures/orphans-fleet.js'
import type { Sandbox } from '../sandbox/index.js'
import { idsOf, mutatingCalls, sandboxPerTest, sorted } from './fleet.js'
import { expectExit, runAction, type RunResult } from './harness.js'

const { start } = sandboxPerTest()
const R = 'us-east-1'

const keyNames = (s: Sandbox) => sorted(s.fleet.keyPairs(R).map((k) => k.keyName))
const groupIds = (s: Sandbox) => sorted(s.fleet.securityGroups(R).map((g) => g.groupId))
const templateIds = (s: Sandbox) => sorted(s.fleet.launchTemplates(R).map((t) => t.launchTemplateId))

function outcomes(run: RunResult, kind: 'keyPairs' | 'securityGroups' | 'launchTemplates'): Record<string, string> {
  return Object.fromEntries((run.report?.[kind] ?? []).map((f) => [kind === 'keyPairs' ? f.name : f.id, f.outcome]))
}

describe('the orphan sweep (resources: all)', () => {
  it('terminate: deletes the debris of killed builds after their instances are gone, and nothing in use', async () => {
    const s = await start({ fleet: orphansFleet() })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'all' } })
    expectExit(run, 0)

    // Instances.
    const terminated = idsOf(s, ORPHANS_EXPECTED.terminatedInstances)
    expect(run.list('acted-ids')).toEqual(terminated)
    for (const ref of ['live', 'kept-stopped', 'user']) expect(s.fleet.byRef(ref).history).toHaveLength(1)
    expect(run.list('skipped-ids')).toEqual(idsOf(s, ['kept-stopped']))

    // What is left in the account.
    expect(keyNames(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingKeyPairs))
    expect(groupIds(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingGroups))
    expect(templateIds(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingTemplates))

    // What the report says, per resource.
    const keys = outcomes(run, 'keyPairs')
    for (const name of ORPHANS_EXPECTED.deletedKeyPairs) expect(keys[name]).toBe('deleted')
    // Something still uses these: they are not orphans (left out of the report, or reported in use).
    const notOrphans = [undefined, 'in-use']
    expect(notOrphans).toContain(keys[BUILDS.keptStopped])
    expect(keys[BUILDS.live]).toBeUndefined()
    expect(run.report?.keyPairs.find((k) => k.name === 'packer_something')).toMatchObject({ ageSource: 'create-time' })
    expect(run.report?.keyPairs.find((k) => k.name === BUILDS.killed)?.ageSource).toMatch(/name|create-time/)
    const groups = outcomes(run, 'securityGroups')
    for (const id of ORPHANS_EXPECTED.deletedGroups) expect(groups[id]).toBe('deleted')
    expect(notOrphans).toContain(groups[GROUPS.attached])
    expect(notOrphans).toContain(groups[GROUPS.referenced])
    expect(run.report?.securityGroups.find((g) => g.id === GROUPS.noTimestamp)).toMatchObject({ outcome: 'skipped', ageSource: 'unknown' })
    expect(groups[GROUPS.live]).toBeUndefined()
    expect(groups[GROUPS.userDefault]).toBeUndefined()
    const templates = outcomes(run, 'launchTemplates')
    for (const id of ORPHANS_EXPECTED.deletedTemplates) expect(templates[id]).toBe('deleted')
    expect(templates[TEMPLATES.liveSpot]).toBeUndefined()

    // Outputs list what was found.
    expect(run.list('key-pairs')).toEqual(expect.arrayContaining(ORPHANS_EXPECTED.deletedKeyPairs))
    expect(run.list('security-groups')).toEqual(expect.arrayContaining(ORPHANS_EXPECTED.deletedGroups))
    expect(run.list('launch-templates')).toEqual(expect.arrayContaining(ORPHANS_EXPECTED.deletedTemplates))
    for (const name of [BUILDS.live, 'deploy', 'packer_mine']) expect(run.list('key-pairs')).not.toContain(name)

    // Instances go first: the groups they held are deleted only after they terminated.
    const firstTerminate = s.callsOf('TerminateInstances')[0]?.seq ?? Infinity
    const groupDeletes = s.callsOf('DeleteSecurityGroup').filter((c) => c.status === 200)
    expect(groupDeletes.length).toBe(ORPHANS_EXPECTED.deletedGroups.length)
    for (const call of groupDeletes) expect(call.seq).toBeGreaterThan(firstTerminate)
    expect(s.calls.filter((c) => c.errorCode === 'DependencyViolation')).toEqual([])

    // The summary has a section per kind.
    for (const name of [...ORPHANS_EXPECTED.deletedGroups, ...ORPHANS_EXPECTED.deletedTemplates]) expect(run.summary).toContain(name)
  })

  it('notify: reports the same debris and deletes nothing', async () => {
    const s = await start({ fleet: orphansFleet() })
    const before = s.fleet.snapshot()
    const run = await runAction({ sandbox: s, inputs: { resources: 'all' } })
    expectExit(run, 0)
    expect(mutatingCalls(s)).toEqual([])
    expect(s.fleet.snapshot()).toEqual(before)
    const keys = outcomes(run, 'keyPairs')
    for (const name of [BUILDS.leftovers, 'packer_something']) expect(keys[name]).toBe('notified')
    expect(outcomes(run, 'securityGroups')[GROUPS.leftovers]).toBe('notified')
    expect(outcomes(run, 'launchTemplates')[TEMPLATES.old]).toBe('notified')
  })

  it('stop: stops the builders and leaves key pairs, groups and templates alone', async () => {
    const s = await start({ fleet: orphansFleet() })
    const run = await runAction({ sandbox: s, inputs: { action: 'stop', resources: 'all' } })
    expect(s.callsOf('DeleteKeyPair')).toEqual([])
    expect(s.callsOf('DeleteSecurityGroup')).toEqual([])
    expect(s.callsOf('DeleteLaunchTemplate')).toEqual([])
    expect(s.fleet.byRef('killed').state).toBe('stopped')
    // The killed spot builder cannot be stopped: reported failed.
    expect(run.list('failed-ids')).toEqual(idsOf(s, ['killed-spot']))
    expectExit(run, 1)
  })
})
