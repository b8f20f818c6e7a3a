/**
 * Every run ends by itself: a region that never answers is cut off at region-timeout and reported
 * failed, the others are swept exactly; a mutating call that never answers (silent endpoint, or
 * retries used up on dropped connections) is read back and reported as EC2 says.
 */
import { describe, expect, it } from '@jest/globals'
import { generateFleet, type Sandbox } from '../../sandbox/index.js'
import { changedIds, idsInCall, sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { describeRun, expectExit } from './harness.js'
import { workflowCommands } from './runner-log.js'

const { start } = sandboxPerTest()
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1']
const SILENT = 'eu-west-1'
const threeRegions = () =>
  Object.assign({}, ...REGIONS.map((region, n) => generateFleet({ region, count: 4, staleFraction: 1, seed: 30 + n })))
const idsIn = (s: Sandbox, ...regions: string[]) =>
  sorted(regions.flatMap((region) => s.fleet.instances(region).map((i) => i.id)))
const errorAnnotations = (stdout: string) => workflowCommands(stdout).filter((c) => c.command === 'error')

describe('a region that never answers (region-timeout 3s)', () => {
  it('is failed with RegionTimeout and never acted on; the other regions are swept exactly; the run ends by itself with exit 1', async () => {
    const s = await start({ fleet: threeRegions() })
    s.faults.silence({ region: SILENT })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: REGIONS.join(','), 'region-timeout': '3s' }
    })
    expectExit(run, 1)
    const swept = idsIn(s, 'us-east-1', 'ap-south-1')
    expect(changedIds(s)).toEqual(swept)
    expect(run.list('acted-ids')).toEqual(swept)
    expect(run.list('failed-ids')).toEqual([])
    expect(s.callsOf('TerminateInstances', SILENT)).toEqual([])
    for (const id of idsIn(s, SILENT)) expect(s.fleet.instance(id)?.history).toEqual(['running'])

    const report = run.report
    expect(report?.regions.map((r) => [r.region, r.status]).sort()).toEqual([
      ['ap-south-1', 'ok'],
      ['eu-west-1', 'failed'],
      ['us-east-1', 'ok']
    ])
    const failed = report?.regions.find((r) => r.region === SILENT)
    // The region's own failure: no kind is named, nothing in it was judged.
    expect(failed?.failures).toEqual([
      {
        code: 'RegionTimeout',
        message: `${SILENT} was not read within region-timeout (3s): AWS did not answer in time. Nothing in it was acted on.`
      }
    ])
    // Nothing of the silent region is listed: it found nothing as far as the run knows.
    expect(report?.instances.filter((i) => i.region === SILENT)).toEqual([])
    expect(sorted(report?.instances.map((i) => `${i.id} ${i.outcome}`) ?? [])).toEqual(
      swept.map((id) => `${id} terminated`)
    )
    expect(run.summary).toMatch(
      new RegExp(
        `<h3>Regions with failures</h3><ul><li><code>${SILENT}</code>: nothing swept: <code>RegionTimeout: ${SILENT} was not read within region-timeout`
      )
    )
    expect(errorAnnotations(run.stdout)).toContainEqual(
      expect.objectContaining({
        properties: { title: `packer-sweeper: region ${SILENT} failed` },
        data: expect.stringMatching(/^RegionTimeout: eu-west-1 was not read within/)
      })
    )
    // The silent calls were given up by the client, not left open until the sandbox closed.
    const silenced = s.calls.filter((c) => c.region === SILENT)
    expect(silenced.length).toBeGreaterThan(0)
    for (const call of silenced) expect(call.outcome).toBe('silenced')
  })
})

describe('a region that goes silent while acting (TerminateInstances never answers)', () => {
  const actSilently = async (afterProcessing: boolean) => {
    const s = await start({ fleet: threeRegions() })
    s.faults.silence({ region: SILENT, action: 'TerminateInstances', afterProcessing })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: REGIONS.join(','), 'region-timeout': '3s' }
    })
    // Whatever EC2 says, the region missed its deadline for acting: it fails the step.
    expectExit(run, 1)
    const region = run.report?.regions.find((r) => r.region === SILENT)
    // Its instances were read and judged, and what was done is reported: partly swept, the deadline named.
    expect(region).toMatchObject({
      status: 'partial',
      failures: [
        {
          code: 'RegionTimeout',
          message: `${SILENT} was not swept within region-timeout (3s): what was not done is reported as such.`
        }
      ]
    })
    const others = idsIn(s, 'us-east-1', 'ap-south-1')
    for (const id of others) expect(run.report?.instances.find((i) => i.id === id)?.outcome).toBe('terminated')
    // One batch was sent into the silent region, then read back with one DescribeInstances of its IDs.
    const silent = idsIn(s, SILENT)
    expect(s.callsOf('TerminateInstances', SILENT).map((c) => sorted(idsInCall(c.params)))).toEqual([silent])
    const readBacks = s.callsOf('DescribeInstances', SILENT).filter((c) => idsInCall(c.params).length > 0)
    expect(readBacks.map((c) => [sorted(idsInCall(c.params)), c.outcome])).toEqual([[silent, 'answered']])
    return { s, run, others, silent }
  }

  it('afterProcessing (the change was made, the answer never came): read back as terminated', async () => {
    const { s, run, others, silent } = await actSilently(true)
    expect(changedIds(s)).toEqual(sorted([...others, ...silent]))
    expect(run.list('acted-ids')).toEqual(sorted([...others, ...silent]))
    expect(run.list('failed-ids')).toEqual([])
    for (const id of silent) {
      expect(run.report?.instances.find((i) => i.id === id)).toMatchObject({
        outcome: 'terminated',
        reason: expect.stringMatching(/^read back as (shutting-down|terminated) after the call got no answer$/)
      })
    }
  })

  it('before processing (nothing was changed yet): read back as running, unknown — the abandoned call may still take effect', async () => {
    const { s, run, others, silent } = await actSilently(false)
    expect(changedIds(s)).toEqual(others)
    expect(run.list('acted-ids')).toEqual(others)
    expect(run.list('failed-ids')).toEqual([])
    for (const id of silent) {
      expect(s.fleet.instance(id)?.history).toEqual(['running'])
      expect(run.report?.instances.find((i) => i.id === id)).toMatchObject({
        outcome: 'unknown',
        reason: 'read back as running after the call was abandoned; it may still take effect',
        error: { code: 'AbortError' }
      })
    }
    // One error annotation per instance whose outcome is unknown, besides the region's.
    const titles = errorAnnotations(run.stdout).map((c) => c.properties.title)
    for (const id of silent)
      expect(titles).toContain(`packer-sweeper: instance ${id} (${SILENT}): no answer on terminate`)
    expect(titles).toContain(`packer-sweeper: region ${SILENT} partly swept`)
  })
})

describe('retries ran out without an answer', () => {
  it('TerminateInstances dropped after processing on all 8 attempts: read back, reported terminated (not failed), exit 0', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 5, staleFraction: 1, seed: 41 }) })
    s.faults.drop({ action: 'TerminateInstances', count: 8, afterProcessing: true })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate' } })
    expectExit(run, 0)
    const all = idsIn(s, 'us-east-1')
    // The SDK's 8 attempts, every one dropped: no answer ever reached the action.
    expect(s.callsOf('TerminateInstances').map((c) => c.outcome)).toEqual(Array(8).fill('dropped'))
    expect(changedIds(s)).toEqual(all)
    expect(run.list('acted-ids')).toEqual(all)
    expect(run.list('failed-ids')).toEqual([])
    for (const id of all) {
      expect(run.report?.instances.find((i) => i.id === id)).toMatchObject({
        outcome: 'terminated',
        reason: expect.stringMatching(/^read back as (shutting-down|terminated) after the call got no answer$/)
      })
    }
    expect(run.report?.regions).toEqual([expect.objectContaining({ region: 'us-east-1', status: 'ok' })])
    expect(run.log).toMatch(/us-east-1: i-[0-9a-f]+ \(.*\): terminated/)
    expect(describeRun(run)).not.toMatch(/::error/)
  })
})
