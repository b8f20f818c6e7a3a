/**
 * The bundle against a mixed fleet in three regions: exactly the right instances change state,
 * nothing else does, and outputs, report, summary and SNS agree.
 */
import { describe, expect, it } from '@jest/globals'
import { MIXED_EXCLUDED, MIXED_REGIONS, MIXED_STALE, mixedFleet } from '../../__fixtures__/mixed-fleet.js'
import { changedIds, idsInCall, idsOf, mutatingCalls, sandboxPerTest, sorted } from './fleet.js'
import { RUN_URL, runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const { start } = sandboxPerTest()
const regions = MIXED_REGIONS.join(',')

describe('a mixed fleet in three regions', () => {
  it('terminate: every stale builder is terminated but the protected one, which fails the step; nothing else changes', async () => {
    const s = await start({ fleet: mixedFleet() })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', regions } })
    const id = (ref: string) => s.fleet.byRef(ref).id
    const stale = idsOf(s, MIXED_STALE)
    const acted = idsOf(
      s,
      MIXED_STALE.filter((r) => r !== 'usw2-protected')
    )

    expectExit(run, 1)
    expect(run.list('instance-ids')).toEqual(stale)
    expect(run.outputs.count).toBe(String(stale.length))
    expect(run.list('acted-ids')).toEqual(acted)
    expect(run.list('failed-ids')).toEqual([id('usw2-protected')])
    expect(run.list('skipped-ids')).toEqual(idsOf(s, MIXED_EXCLUDED))
    // The sandbox's own record: exactly these instances changed state, each once.
    expect(changedIds(s)).toEqual(acted)
    for (const instanceId of acted)
      expect(s.fleet.instance(instanceId)?.history).toEqual([expect.any(String), 'shutting-down', 'terminated'])
    expect(s.fleet.byRef('usw2-protected').state).toBe('running')
    expect(s.fleet.byRef('use1-excluded').state).toBe('running')

    const report = run.report
    expect(report).toBeDefined()
    const finding = (ref: string) => report?.instances.find((i) => i.id === id(ref))
    expect(finding('usw2-protected')).toMatchObject({
      region: 'us-west-2',
      outcome: 'failed',
      error: { code: 'OperationNotPermitted' }
    })
    expect(finding('use1-stale-running')).toMatchObject({
      region: 'us-east-1',
      outcome: 'terminated',
      name: 'Packer Builder',
      state: 'running'
    })
    expect(finding('use1-excluded')?.outcome).toBe('skipped')
    expect(finding('use1-stale-old')?.ageSeconds).toBeGreaterThanOrEqual(48 * 3600)
    expect(sorted(report?.instances.map((i) => i.id) ?? [])).toEqual(sorted([...stale, ...run.list('skipped-ids')]))
    expect(report?.regions.map((r) => [r.region, r.status]).sort()).toEqual(MIXED_REGIONS.map((r) => [r, 'ok']).sort())
    expect(report?.regions.find((r) => r.region === 'us-east-1')).toMatchObject({ fresh: 1 })
    expect(report?.settings).toMatchObject({
      action: 'terminate',
      'max-age': 7200,
      'key-name': ['packer_????????-????-????-????-????????????']
    })

    // The summary lists what the outputs list, nothing of other people's instances, and escapes tags.
    for (const instanceId of [...stale, ...run.list('skipped-ids')]) expect(run.summary).toContain(instanceId)
    for (const ref of ['use1-web', 'use1-nokey', 'use1-case', 'usw2-web', 'euw1-lookalike', 'use1-fresh'])
      expect(run.summary).not.toContain(id(ref))
    expect(run.summary).not.toContain('<b>builder</b>')
    for (const region of MIXED_REGIONS) expect(run.summary).toContain(region)
    expect(run.log).toContain(id('usw2-protected'))
  })

  it('stop: running builders stop (termination protection does not prevent it), spot cannot, stopped and stopping ones are reported untouched; acted-ids is exactly what stopped', async () => {
    const s = await start({ fleet: mixedFleet() })
    const run = await runAction({ sandbox: s, inputs: { action: 'stop', regions } })
    const id = (ref: string) => s.fleet.byRef(ref).id
    const stopped = idsOf(s, [
      'use1-stale-running',
      'use1-stale-old',
      'usw2-protected',
      'usw2-stale-same-az',
      'usw2-stale-other-az',
      'euw1-stale-running'
    ])

    expectExit(run, 1)
    expect(changedIds(s)).toEqual(stopped)
    for (const instanceId of stopped) expect(s.fleet.instance(instanceId)?.state).toBe('stopped')
    expect(run.list('failed-ids')).toEqual([id('usw2-spot-stale')])
    expect(run.report?.instances.find((i) => i.id === id('usw2-spot-stale'))).toMatchObject({
      outcome: 'failed',
      error: { code: 'UnsupportedOperation' }
    })
    // Already stopped: reported, not acted on, no API call, not a failure.
    const alreadyStopped = idsOf(s, ['use1-stale-stopped', 'euw1-stale-stopped'])
    for (const instanceId of alreadyStopped) {
      expect(run.list('failed-ids')).not.toContain(instanceId)
      expect(run.report?.instances.find((i) => i.id === instanceId)).toMatchObject({
        outcome: 'notified',
        reason: 'already stopped'
      })
      expect(s.fleet.instance(instanceId)?.history).toEqual(['stopped'])
    }
    const stopping = id('euw1-stale-stopping')
    expect(run.report?.instances.find((i) => i.id === stopping)).toMatchObject({
      outcome: 'notified',
      reason: 'already stopping'
    })
    expect(s.fleet.instance(stopping)?.history).toEqual(['stopping'])
    const stopCalls = s.callsOf('StopInstances')
    expect(
      stopCalls.flatMap((c) => idsInCall(c.params)).filter((i) => [...alreadyStopped, stopping].includes(i))
    ).toEqual([])
    // acted-ids: exactly the running builders this run stopped.
    expect(sorted(run.list('acted-ids'))).toEqual(stopped)
    expect(run.list('instance-ids')).toEqual(idsOf(s, MIXED_STALE))
  })

  it('notify (the default): reports every stale builder, changes nothing, succeeds', async () => {
    const s = await start({ fleet: mixedFleet() })
    const run = await runAction({ sandbox: s, inputs: { regions } })
    expectExit(run, 0)
    expect(run.list('instance-ids')).toEqual(idsOf(s, MIXED_STALE))
    expect(run.list('acted-ids')).toEqual([])
    expect(changedIds(s)).toEqual([])
    expect(mutatingCalls(s)).toEqual([])
    expect(new Set(run.report?.instances.filter((i) => i.outcome !== 'skipped').map((i) => i.outcome))).toEqual(
      new Set(['notified'])
    )
  })

  it('dry-run: proves the permission with DryRun, changes nothing and publishes nothing', async () => {
    const s = await start({ fleet: { 'us-east-1': mixedFleet()['us-east-1'] ?? {} } })
    const run = await runAction({
      sandbox: s,
      inputs: {
        action: 'terminate',
        'dry-run': 'true',
        'sns-topic-arn': 'arn:aws:sns:us-east-1:123456789012:packer-sweeper'
      }
    })
    expectExit(run, 0)
    expect(changedIds(s)).toEqual([])
    expect(s.published).toEqual([])
    expect(run.list('acted-ids')).toEqual([])
    const terminates = s.callsOf('TerminateInstances')
    expect(terminates.length).toBeGreaterThan(0)
    for (const call of terminates) expect(call.params.DryRun).toBe('true')
    expect(sorted(terminates.flatMap((c) => idsInCall(c.params)))).toEqual(
      idsOf(s, ['use1-stale-running', 'use1-stale-old', 'use1-stale-stopped'])
    )
    expect(new Set(run.report?.instances.filter((i) => i.outcome !== 'skipped').map((i) => i.outcome))).toEqual(
      new Set(['dry-run'])
    )
  })

  it('the cap: more stale instances than max-instances → nothing is acted on, the step fails', async () => {
    const s = await start({ fleet: { 'us-east-1': mixedFleet()['us-east-1'] ?? {} } })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', 'max-instances': '2' } })
    expectExit(run, 1)
    expect(changedIds(s)).toEqual([])
    expect(s.callsOf('TerminateInstances').filter((c) => c.params.DryRun !== 'true')).toEqual([])
    expect(run.list('acted-ids')).toEqual([])
    expect(run.list('instance-ids')).toHaveLength(3)
    expect(run.log).toMatch(/max-instances/)
    expect(run.report?.errors.join('\n')).toMatch(/max-instances/)
  })
})

describe('SNS', () => {
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:image-builds'

  it('publishes one message in the topic’s region: short subject, the text as default (email, SMS), the JSON report for machines', async () => {
    const s = await start({ fleet: { 'us-east-1': mixedFleet()['us-east-1'] ?? {} }, topics: [TOPIC] })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', 'sns-topic-arn': TOPIC } })
    expectExit(run, 0)
    const acted = run.list('acted-ids')
    expect(acted).toHaveLength(3)
    expect(s.published).toHaveLength(1)
    const [message] = s.published
    expect(message?.region).toBe('eu-west-1')
    expect(message?.subject?.length).toBeLessThan(100)
    expect(message?.subject).not.toMatch(/[\r\n]/)
    expect(message?.messageStructure).toBe('json')
    const body = JSON.parse(message?.message ?? '{}') as Record<string, string>
    // SNS sends `default` to every protocol without a key of its own: email gets the text once.
    expect(body.email).toBeUndefined()
    expect(typeof body.default).toBe('string')
    for (const instanceId of acted) expect(body.default).toContain(instanceId)
    expect(body.default).toContain(RUN_URL)
    for (const protocol of ['sqs', 'lambda', 'https']) {
      const payload = body[protocol]
      expect(typeof payload).toBe('string')
      const parsed: unknown = JSON.parse(payload as string)
      for (const instanceId of acted) expect(JSON.stringify(parsed)).toContain(instanceId)
    }
  })

  it('publishes nothing when the fleet is clean', async () => {
    const clean = (mixedFleet()['us-east-1']?.instances ?? []).filter((i) =>
      ['use1-fresh', 'use1-web', 'use1-nokey', 'use1-terminated'].includes(i.ref ?? '')
    )
    const s = await start({ fleet: { 'us-east-1': { instances: clean } } })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'sns-topic-arn': 'arn:aws:sns:us-east-1:123456789012:packer-sweeper' }
    })
    expectExit(run, 0)
    expect(run.list('instance-ids')).toEqual([])
    expect(run.outputs.count).toBe('0')
    expect(s.published).toEqual([])
    expect(s.callsOf('Publish')).toEqual([])
  })
})
