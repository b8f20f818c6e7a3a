/**
 * `resources: all`: what killed builds left (instance, key pair, group, spot launch template) is
 * swept in one run, instances first; what a live build, a kept or dying builder or a user still
 * uses is reported `skipped` ("in use by …") and survives; what is younger than max-age is not
 * listed at all.
 */
import { describe, expect, it } from '@jest/globals'
import {
  BUILDS,
  GROUPS,
  ORPHANS_EXPECTED,
  ORPHANS_IN_USE,
  SLOW,
  TEMPLATES,
  orphansFleet,
  slowTerminationFleet
} from '../../__fixtures__/orphans-fleet.js'
import type { Sandbox } from '../../sandbox/index.js'
import type { OrphanFinding } from '../../src/model/types.js'
import { idsOf, mutatingCalls, sandboxPerTest, sorted } from './fleet.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import { describeRun, expectExit, summarySection } from './harness.js'

const { start } = sandboxPerTest()
const R = 'us-east-1'

type Kind = 'keyPairs' | 'securityGroups' | 'launchTemplates'

const keyNames = (s: Sandbox) => sorted(s.fleet.keyPairs(R).map((k) => k.keyName))
const groupIds = (s: Sandbox) => sorted(s.fleet.securityGroups(R).map((g) => g.groupId))
const templateIds = (s: Sandbox) => sorted(s.fleet.launchTemplates(R).map((t) => t.launchTemplateId))

/**
 * The key-pair names DeleteKeyPair calls named (by KeyName or by KeyPairId), sorted. Call it with
 * the IDs read before the run: deleted key pairs are gone from the fleet afterwards.
 */
function deletedKeyNames(s: Sandbox, nameById: Map<string, string>): string[] {
  return sorted(
    s
      .callsOf('DeleteKeyPair')
      .map((c) => c.params.KeyName ?? nameById.get(c.params.KeyPairId ?? '') ?? `unknown ${c.params.KeyPairId}`)
  )
}

const keyPairIds = (s: Sandbox) => new Map(s.fleet.keyPairs().map((k) => [k.keyPairId, k.keyName]))

/** Key (name for key pairs, ID otherwise) → finding. */
function findings(run: RunResult, kind: Kind): Record<string, OrphanFinding> {
  return Object.fromEntries((run.report?.[kind] ?? []).map((f) => [kind === 'keyPairs' ? f.name : f.id, f]))
}

function outcomes(run: RunResult, kind: Kind): Record<string, string> {
  return Object.fromEntries(Object.entries(findings(run, kind)).map(([key, f]) => [key, f.outcome]))
}

/** Asserts a stale-but-used resource: skipped, `in use by …`, the user named. */
function expectInUse(finding: OrphanFinding | undefined, user: string): void {
  expect(finding).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^in use by /) })
  // An instance may be named by its ID or by its primary interface's (eni-<same hex>).
  expect(finding?.reason).toContain(user.replace(/^i-/, ''))
}

describe('fewer waits on AWS (resources: all)', () => {
  it('one DescribeInstances pass per region serves the builders and who uses each key and template; the leftovers are read beside it', async () => {
    // Every call held 50 ms, so calls that overlap are seen overlapping in the call log.
    const s = await start({ fleet: orphansFleet(), requestDelayMs: 50 })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'all' } })
    expectExit(run, 0)
    const terminate = s.callsOf('TerminateInstances', R)
    expect(terminate).toHaveLength(1)
    const terminatedAt = terminate[0]?.answeredAt ?? Infinity
    const survey = s.callsOf('DescribeInstances', R).filter((c) => c.receivedAt < terminatedAt)
    // One listing of the live instances (one page here), no key name or template ID sent.
    expect(survey.map((c) => c.params)).toEqual([
      expect.not.objectContaining({ 'Filter.2.Name': expect.anything(), NextToken: expect.anything() })
    ])
    expect(survey[0]?.params).toMatchObject({ 'Filter.1.Name': 'instance-state-name' })
    // The leftovers' discovery went out before that listing was answered: read side by side.
    const listed = survey[0]?.answeredAt ?? 0
    for (const action of ['DescribeKeyPairs', 'DescribeSecurityGroups', 'DescribeLaunchTemplates']) {
      expect(s.callsOf(action, R)[0]?.receivedAt).toBeLessThan(listed)
    }
    // After the terminate: the polls of the wait are listings, the last of them the recheck; nothing more.
    const after = s.callsOf('DescribeInstances', R).filter((c) => c.receivedAt >= terminatedAt)
    expect(after.length).toBeGreaterThanOrEqual(1)
    for (const call of after) expect(call.params).toMatchObject({ 'Filter.1.Name': 'instance-state-name' })
    const firstDelete = Math.min(...s.calls.filter((c) => c.action.startsWith('Delete')).map((c) => c.receivedAt))
    expect(after.every((c) => (c.answeredAt ?? Infinity) <= firstDelete)).toBe(true)
  })
})

describe('the orphan sweep (resources: all)', () => {
  it('terminate: deletes the debris of killed builds after their instances are gone; what is in use is skipped and survives', async () => {
    const s = await start({ fleet: orphansFleet() })
    const keyIds = keyPairIds(s)
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'all' } })
    expectExit(run, 0)
    const id = (ref: string) => s.fleet.byRef(ref).id

    // Instances.
    const terminated = idsOf(s, ORPHANS_EXPECTED.terminatedInstances)
    expect(run.list('acted-ids')).toEqual(terminated)
    for (const ref of ['live', 'kept-stopped', 'user', 'dying']) expect(s.fleet.byRef(ref).history).toHaveLength(1)
    expect(run.list('skipped-ids')).toEqual(idsOf(s, ['kept-stopped']))

    // What is left in the account.
    expect(keyNames(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingKeyPairs))
    expect(groupIds(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingGroups))
    expect(templateIds(s)).toEqual(sorted(ORPHANS_EXPECTED.survivingTemplates))

    // What the report says, per resource: exactly the stale ones, deleted or skipped with the reason.
    // Young ones (the live build's, packer_mine, the fresh templates) and non-Packer ones (packer_something, deploy) are not listed.
    expect(outcomes(run, 'keyPairs')).toEqual({
      ...Object.fromEntries(ORPHANS_EXPECTED.deletedKeyPairs.map((name) => [name, 'deleted'])),
      ...Object.fromEntries(ORPHANS_IN_USE.keyPairs.map(({ name }) => [name, 'skipped']))
    })
    const keys = findings(run, 'keyPairs')
    for (const { name, userRef } of ORPHANS_IN_USE.keyPairs) expectInUse(keys[name], id(userRef))
    expect(keys['packer_something']).toBeUndefined()
    expect(keys[BUILDS.killed]?.ageSource).toMatch(/name|create-time/)

    expect(outcomes(run, 'securityGroups')).toEqual({
      ...Object.fromEntries(ORPHANS_EXPECTED.deletedGroups.map((g) => [g, 'deleted'])),
      ...Object.fromEntries(ORPHANS_IN_USE.securityGroups.map(({ id: g }) => [g, 'skipped'])),
      [GROUPS.noTimestamp]: 'skipped'
    })
    const groups = findings(run, 'securityGroups')
    for (const g of ORPHANS_IN_USE.securityGroups) expectInUse(groups[g.id], g.user ?? id(g.userRef ?? ''))
    expect(groups[GROUPS.noTimestamp]).toMatchObject({
      outcome: 'skipped',
      ageSource: 'unknown',
      reason: 'age unknown'
    })

    expect(outcomes(run, 'launchTemplates')).toEqual(
      Object.fromEntries(ORPHANS_EXPECTED.deletedTemplates.map((t) => [t, 'deleted']))
    )
    expect(findings(run, 'launchTemplates')[TEMPLATES.killedSpot]?.reason).toContain(id('killed-spot'))

    // Outputs list exactly the findings that were not skipped.
    expect(sorted(run.list('key-pairs'))).toEqual(sorted(ORPHANS_EXPECTED.deletedKeyPairs))
    expect(sorted(run.list('security-groups'))).toEqual(sorted(ORPHANS_EXPECTED.deletedGroups))
    expect(sorted(run.list('launch-templates'))).toEqual(sorted(ORPHANS_EXPECTED.deletedTemplates))

    // Exactly one delete per deleted resource; nothing in use was even tried.
    const deleted = (action: string, param: string) => sorted(s.callsOf(action).map((c) => c.params[param] ?? ''))
    expect(deletedKeyNames(s, keyIds)).toEqual(sorted(ORPHANS_EXPECTED.deletedKeyPairs))
    expect(deleted('DeleteSecurityGroup', 'GroupId')).toEqual(sorted(ORPHANS_EXPECTED.deletedGroups))
    expect(deleted('DeleteLaunchTemplate', 'LaunchTemplateId')).toEqual(sorted(ORPHANS_EXPECTED.deletedTemplates))

    // Instances go first: the groups they held are deleted only after they terminated.
    const firstTerminate = s.callsOf('TerminateInstances')[0]?.seq ?? Infinity
    const groupDeletes = s.callsOf('DeleteSecurityGroup').filter((c) => c.status === 200)
    expect(groupDeletes.length).toBe(ORPHANS_EXPECTED.deletedGroups.length)
    for (const call of groupDeletes) expect(call.seq).toBeGreaterThan(firstTerminate)
    expect(s.calls.filter((c) => c.errorCode === 'DependencyViolation')).toEqual([])

    // The summary has a section per kind, listing each finding with its outcome.
    const keySection = summarySection(run.summary, 'Key pairs')
    for (const name of [...ORPHANS_EXPECTED.deletedKeyPairs, ...ORPHANS_IN_USE.keyPairs.map((k) => k.name)])
      expect(keySection).toContain(name)
    for (const name of [BUILDS.live, 'packer_something', 'packer_mine', 'deploy'])
      expect(keySection).not.toContain(name)
    expect(keySection).toContain('in use by')
    const groupSection = summarySection(run.summary, 'Security groups')
    for (const g of [
      ...ORPHANS_EXPECTED.deletedGroups,
      ...ORPHANS_IN_USE.securityGroups.map((x) => x.id),
      GROUPS.noTimestamp
    ])
      expect(groupSection).toContain(g)
    // (GROUPS.referencing may appear: it is what uses GROUPS.referenced.)
    for (const g of [GROUPS.live, GROUPS.userDefault]) expect(groupSection).not.toContain(g)
    const templateSection = summarySection(run.summary, 'Launch templates')
    for (const t of ORPHANS_EXPECTED.deletedTemplates) expect(templateSection).toContain(t)
    for (const t of [TEMPLATES.liveSpot, TEMPLATES.fresh, 'lt-0a000000000000005'])
      expect(templateSection).not.toContain(t)
  })

  it('a killed build whose builder is still shutting down: its key and group are skipped "in use by" it and survive', async () => {
    const s = await start({ fleet: orphansFleet() })
    const keyIds = keyPairIds(s)
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'key-pairs,security-groups' } })
    expectExit(run, 0)
    const dying = s.fleet.byRef('dying')
    expect(dying.history).toEqual(['shutting-down'])
    expectInUse(findings(run, 'keyPairs')[BUILDS.dying], dying.id)
    expectInUse(findings(run, 'securityGroups')[GROUPS.dying], dying.id)
    expect(keyNames(s)).toContain(BUILDS.dying)
    expect(groupIds(s)).toContain(GROUPS.dying)
    expect(run.list('key-pairs')).not.toContain(BUILDS.dying)
    expect(run.list('security-groups')).not.toContain(GROUPS.dying)
    expect(deletedKeyNames(s, keyIds)).not.toContain(BUILDS.dying)
    expect(s.callsOf('DeleteSecurityGroup').map((c) => c.params.GroupId)).not.toContain(GROUPS.dying)
    // resources without instances: no builder is touched.
    expect(s.callsOf('TerminateInstances')).toEqual([])
  })

  it('builders that read stopping, then shutting-down, for seconds after TerminateInstances: the run waits, then deletes their key, group and template', async () => {
    // slow-running: shutting-down for delayMs; slow-stopping: still stopping for lagMs, then shutting-down for delayMs.
    const delayMs = 3000
    const lagMs = 3000
    const s = await start({ fleet: slowTerminationFleet(), transitionDelayMs: delayMs, terminationLagMs: lagMs })
    const keyIds = keyPairIds(s)
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', resources: 'all' } })
    expectExit(run, 0)
    const builders = idsOf(s, ['slow-running', 'slow-stopping'])
    expect(run.list('acted-ids')).toEqual(builders)
    expect(s.fleet.byRef('slow-running').history).toEqual(['running', 'shutting-down', 'terminated'])
    expect(s.fleet.byRef('slow-stopping').history).toEqual(['stopping', 'shutting-down', 'terminated'])

    const keys = [SLOW.running, SLOW.stopping]
    const groups = [SLOW.groups.running, SLOW.groups.stopping]
    expect(outcomes(run, 'keyPairs')).toEqual(Object.fromEntries(keys.map((k) => [k, 'deleted'])))
    expect(outcomes(run, 'securityGroups')).toEqual(Object.fromEntries(groups.map((g) => [g, 'deleted'])))
    expect(outcomes(run, 'launchTemplates')).toEqual({ [SLOW.template]: 'deleted' })
    expect(keyNames(s)).toEqual([])
    expect(groupIds(s)).toEqual([])
    expect(templateIds(s)).toEqual([])
    expect(s.calls.filter((c) => c.errorCode === 'DependencyViolation')).toEqual([])

    // Nothing was deleted before the builders could have reached terminated.
    const terminateCall = s.callsOf('TerminateInstances').find((c) => c.params.DryRun !== 'true')
    expect(terminateCall).toBeDefined()
    const deletes = mutatingCalls(s).filter((c) => c.action.startsWith('Delete'))
    expect(deletes).toHaveLength(keys.length + groups.length + 1)
    const after = (call: (typeof deletes)[number]) => call.receivedAt - (terminateCall?.receivedAt ?? Infinity)
    for (const call of deletes) expect(after(call)).toBeGreaterThanOrEqual(delayMs - 50)
    // The builder caught mid-stop frees its key and group only after the lag and the shutdown.
    const ofStopping = deletes.filter(
      (c) =>
        c.params.GroupId === SLOW.groups.stopping ||
        c.params.KeyName === SLOW.stopping ||
        (c.params.KeyPairId && keyIds.get(c.params.KeyPairId) === SLOW.stopping)
    )
    expect(ofStopping).toHaveLength(2)
    for (const call of ofStopping) expect(after(call)).toBeGreaterThanOrEqual(lagMs + delayMs - 50)
  })

  it('debris still in use counts neither for the caps nor for fail-on-stale', async () => {
    // Only what is stale and in use (and what uses it): none of the debris that is free to delete.
    const fleet = orphansFleet()[R] ?? {}
    const inUseKeys = ORPHANS_IN_USE.keyPairs.map((k) => k.name)
    const inUseGroups = ORPHANS_IN_USE.securityGroups.map((g) => g.id)
    const t = await start({
      fleet: {
        [R]: {
          instances: (fleet.instances ?? []).filter((i) => ['kept-stopped', 'dying', 'user'].includes(i.ref ?? '')),
          keyPairs: (fleet.keyPairs ?? []).filter((k) => inUseKeys.includes(k.keyName)),
          securityGroups: (fleet.securityGroups ?? []).filter((g) =>
            [...inUseGroups, GROUPS.referencing, GROUPS.userDefault].includes(g.groupId ?? '')
          ),
          networkInterfaces: fleet.networkInterfaces
        }
      }
    })
    const run = await runAction({
      sandbox: t,
      inputs: {
        action: 'terminate',
        resources: 'all',
        'max-resources': '1',
        'max-instances': '1',
        'fail-on-stale': 'true'
      }
    })
    expectExit(run, 0)
    expect(run.report?.errors).toEqual([])
    expect(mutatingCalls(t)).toEqual([])
    expect(sorted(Object.keys(outcomes(run, 'keyPairs')))).toEqual(sorted(inUseKeys))
    expect(new Set(Object.values(outcomes(run, 'keyPairs')))).toEqual(new Set(['skipped']))
    expect(sorted(Object.keys(outcomes(run, 'securityGroups')))).toEqual(sorted(inUseGroups))
    expect(new Set(Object.values(outcomes(run, 'securityGroups')))).toEqual(new Set(['skipped']))
    expect(run.list('key-pairs')).toEqual([])
    expect(run.list('security-groups')).toEqual([])
  })

  it('notify: reports the same debris and deletes nothing', async () => {
    const s = await start({ fleet: orphansFleet() })
    const before = s.fleet.snapshot()
    const run = await runAction({ sandbox: s, inputs: { resources: 'all' } })
    expectExit(run, 0)
    expect(mutatingCalls(s)).toEqual([])
    expect(s.fleet.snapshot()).toEqual(before)
    const keys = outcomes(run, 'keyPairs')
    expect(keys[BUILDS.leftovers]).toBe('notified')
    expect(keys['packer_something']).toBeUndefined()
    expect(outcomes(run, 'securityGroups')[GROUPS.leftovers]).toBe('notified')
    expect(outcomes(run, 'launchTemplates')[TEMPLATES.old]).toBe('notified')
    for (const { name } of ORPHANS_IN_USE.keyPairs) expect(keys[name]).toBe('skipped')
    expect(run.list('key-pairs')).not.toContain(BUILDS.keptStopped)
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
    expect(run.list('acted-ids')).toEqual(idsOf(s, ['killed']))
    if (run.exitCode !== 1) throw new Error(describeRun(run))
  })
})
