/**
 * A cancelled job, with the runner's signals and timings (SIGINT, SIGTERM 7.5 s later, SIGKILL
 * 2.5 s after that): the record says exactly what the sandbox changed, nothing is claimed done
 * that was not, and the process ends by itself in under 5 s from the SIGINT (the bound;
 * nothing tighter is asserted on a shared machine).
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { NOT_STARTED_CANCELLED } from '../../src/engine/builders.js'
import { NOT_DELETED_CANCELLED } from '../../src/engine/regional-kind.js'
import { SLOW, slowTerminationFleet } from '../../__fixtures__/orphans-fleet.js'
import { generateFleet, type Sandbox } from '../../sandbox/index.js'
import { changedIds, idsInCall, sandboxPerTest, sorted } from './fleet.js'
import { runAction, type RunResult } from '../../sandbox/run-action.js'
import { describeRun } from './harness.js'

const { start } = sandboxPerTest()
const noCap = { 'max-instances': '0', 'max-resources': '0' }
/** The bound: the record written and the process gone within 5 s of the SIGINT. */
const CANCEL_BOUND_MS = 5_000
const measured: string[] = []

/** What every cancelled run must show, whatever it was doing. */
function expectCancelledRecord(run: RunResult): void {
  const why = describeRun(run)
  expect({ exit: run.exitCode, why }).toEqual({ exit: 1, why })
  expect(run.cancel?.sent.map((s) => s.signal)).toEqual(['SIGINT'])
  expect(run.cancel?.killedBy).toBeNull()
  expect(run.cancel?.sigintToExitMs).toBeLessThan(CANCEL_BOUND_MS)
  expect(run.report?.cancelled).toBe(true)
  expect(run.summary).toMatch(/^<h2>packer-sweeper: cancelled: /)
  expect(run.log).toContain('The job was cancelled before the sweep finished; the report says what was done.')
  // The record was finished in time: the forced exit (the net under a bug) never fired.
  expect(run.log).not.toContain('could not finish its record')
  // The report file was written too, and says the same.
  expect(JSON.parse(run.reportFileText ?? 'null')).toEqual(run.report)
}

/** `<region>: <id> (…): <outcome>` lines the action logs as each batch settles: id → lines. */
function settledLines(run: RunResult, region: string): Map<string, string[]> {
  const lines = new Map<string, string[]>()
  for (const line of run.stdout.split('\n')) {
    const match = new RegExp(`^${region}: (i-[0-9a-f]+) \\(`).exec(line)
    if (match) lines.set(match[1] as string, [...(lines.get(match[1] as string) ?? []), line])
  }
  return lines
}

const outcomeOf = (run: RunResult, id: string) => run.report?.instances.find((i) => i.id === id)

describe('SIGINT during the batches', () => {
  it('answered batches are terminated, the one in flight is read back, unsent ones are notified; the record matches the sandbox exactly', async () => {
    const region = 'us-east-1'
    const s = await start({ fleet: generateFleet({ region, count: 500, staleFraction: 1, seed: 50 }) })
    s.faults.slow({ action: 'TerminateInstances', delayMs: 400 })
    let silenced = false
    const terminates = () => s.callsOf('TerminateInstances').length
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', ...noCap },
      cancel: {
        when: () => {
          // The third batch makes its change but never answers: the grace ends, it is read back.
          if (!silenced && terminates() === 2)
            silenced = Boolean(s.faults.silence({ action: 'TerminateInstances', count: 1, afterProcessing: true }))
          return terminates() >= 3
        }
      }
    })
    expectCancelledRecord(run)
    measured.push(`during a batch: ${run.cancel?.sigintToExitMs.toFixed(0)} ms`)

    const all = sorted(s.fleet.instances(region).map((i) => i.id))
    const calls = s.callsOf('TerminateInstances')
    expect(calls.map((c) => c.outcome)).toEqual(['answered', 'answered', 'silenced'])
    const answered = sorted(calls.slice(0, 2).flatMap((c) => idsInCall(c.params)))
    const inFlight = sorted(idsInCall((calls[2] as (typeof calls)[number]).params))
    const sent = sorted([...answered, ...inFlight])
    const unsent = all.filter((id) => !sent.includes(id))
    expect(unsent).toHaveLength(200)

    // The sandbox changed exactly what was sent, and the record says terminated for exactly those.
    expect(changedIds(s)).toEqual(sent)
    expect(run.list('acted-ids')).toEqual(sent)
    for (const id of answered) expect(outcomeOf(run, id)).toMatchObject({ outcome: 'terminated' })
    for (const id of answered) expect(outcomeOf(run, id)?.reason).toBeUndefined()
    for (const id of inFlight)
      expect(outcomeOf(run, id)).toMatchObject({
        outcome: 'terminated',
        reason: expect.stringMatching(/^read back as (shutting-down|terminated) after the call got no answer$/)
      })
    for (const id of unsent) {
      expect(outcomeOf(run, id)).toMatchObject({ outcome: 'notified', reason: NOT_STARTED_CANCELLED })
      expect(s.fleet.instance(id)?.history).toEqual(['running'])
    }
    expect(run.list('instance-ids')).toEqual(all)
    expect(run.list('failed-ids')).toEqual([])
    expect(run.report?.instances).toHaveLength(500)

    // The log holds one settled line per instance, with the outcome the report gives it.
    const lines = settledLines(run, region)
    expect(sorted(lines.keys())).toEqual(all)
    for (const [id, ofId] of lines) {
      expect(ofId).toHaveLength(1)
      expect(ofId[0]).toMatch(
        sent.includes(id)
          ? /: terminated/
          : /: reported \(not acted on: the job was cancelled first\)$|not acted on: the job was cancelled first/
      )
    }
  })

  it('a batch whose call and read-back both never answer: unknown (not missing, not claimed done), the rest notified', async () => {
    const region = 'us-east-1'
    const s = await start({ fleet: generateFleet({ region, count: 300, staleFraction: 1, seed: 51 }) })
    // The first batch makes its change but never answers, and neither does its read-back.
    s.faults.silence({ action: 'TerminateInstances', count: 1, afterProcessing: true })
    const silentReadBack = () => s.faults.silence({ action: 'DescribeInstances' })
    let armed = false
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', ...noCap },
      cancel: {
        when: () => {
          if (!armed && s.callsOf('TerminateInstances').length === 1) armed = Boolean(silentReadBack())
          return armed
        }
      }
    })
    expectCancelledRecord(run)
    measured.push(`in-flight call and its read-back silent: ${run.cancel?.sigintToExitMs.toFixed(0)} ms`)
    const all = sorted(s.fleet.instances(region).map((i) => i.id))
    const [first] = s.callsOf('TerminateInstances')
    const inFlight = sorted(idsInCall(first?.params ?? {}))
    expect(inFlight).toHaveLength(100)
    expect(changedIds(s)).toEqual(inFlight)
    for (const id of inFlight)
      expect(outcomeOf(run, id)).toMatchObject({
        outcome: 'unknown',
        reason: expect.stringMatching(/^the terminate call got no answer and the instance could not be read back/)
      })
    for (const id of all.filter((i) => !inFlight.includes(i)))
      expect(outcomeOf(run, id)).toMatchObject({ outcome: 'notified', reason: NOT_STARTED_CANCELLED })
    expect(run.list('acted-ids')).toEqual([])
    expect(sorted(settledLines(run, region).keys())).toEqual(all)
  })
})

describe('SIGINT during the termination wait (resources: all)', () => {
  it("the instances are terminated, what they held is notified as not deleted, nothing is deleted; the waiter's sleep does not hold the exit", async () => {
    const s = await start({ fleet: slowTerminationFleet(), transitionDelayMs: 60_000, terminationLagMs: 60_000 })
    // The waiter's 4th poll (a listing of the live instances, after TerminateInstances answered) is
    // followed by its longest sleep (maxDelay, 15 s): SIGINT right after it.
    const waitPolls = () => {
      const terminatedAt = s.callsOf('TerminateInstances').find((c) => c.answeredAt !== undefined)?.answeredAt
      if (terminatedAt === undefined) return false
      return (
        s.callsOf('DescribeInstances').filter((c) => c.receivedAt >= terminatedAt && c.outcome === 'answered').length >=
        4
      )
    }
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', resources: 'all' },
      cancel: { when: waitPolls }
    })
    expectCancelledRecord(run)
    measured.push(`during the termination wait: ${run.cancel?.sigintToExitMs.toFixed(0)} ms`)
    const builders = sorted(s.fleet.instances('us-east-1').map((i) => i.id))
    expect(run.list('acted-ids')).toEqual(builders)
    // EC2 answered the TerminateInstances for both (the stopping one reads `stopping` for terminationLagMs).
    expect(s.callsOf('TerminateInstances').map((c) => [sorted(idsInCall(c.params)), c.status])).toEqual([
      [builders, 200]
    ])
    expect(s.fleet.byRef('slow-running').state).toBe('shutting-down')
    const leftovers = [
      ...(run.report?.keyPairs ?? []),
      ...(run.report?.securityGroups ?? []),
      ...(run.report?.launchTemplates ?? [])
    ]
    expect(leftovers.map((f) => f.kind).sort()).toEqual([
      'key-pairs',
      'key-pairs',
      'launch-templates',
      'security-groups',
      'security-groups'
    ])
    for (const finding of leftovers)
      expect(finding).toMatchObject({ outcome: 'notified', reason: NOT_DELETED_CANCELLED })
    expect(sorted(s.fleet.keyPairs('us-east-1').map((k) => k.keyName))).toEqual(sorted([SLOW.running, SLOW.stopping]))
    expect(s.calls.filter((c) => c.action.startsWith('Delete'))).toEqual([])
    for (const finding of leftovers) expect(run.stdout).toContain(`${finding.id}`)
  })
})

describe('SIGINT while a region is silent', () => {
  it('the silent region is abandoned (Cancelled), the other is reported without acting, and the run still ends in time', async () => {
    const fleet = {
      ...generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 52 }),
      ...generateFleet({ region: 'eu-west-1', count: 3, staleFraction: 1, seed: 53 })
    }
    const s: Sandbox = await start({ fleet })
    s.faults.silence({ region: 'eu-west-1' })
    const readBoth = () =>
      s.callsOf('DescribeInstances', 'eu-west-1').length > 0 &&
      s.callsOf('DescribeInstances', 'us-east-1').some((c) => c.outcome === 'answered')
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: 'us-east-1,eu-west-1' },
      cancel: { when: readBoth }
    })
    expectCancelledRecord(run)
    measured.push(`a region silent: ${run.cancel?.sigintToExitMs.toFixed(0)} ms`)
    expect(s.callsOf('TerminateInstances')).toEqual([])
    expect(changedIds(s)).toEqual([])
    expect(run.report?.regions.find((r) => r.region === 'eu-west-1')).toMatchObject({
      status: 'failed',
      failures: [
        {
          code: 'Cancelled',
          message: 'the job was cancelled while eu-west-1 was being read; nothing more was done in it'
        }
      ]
    })
    expect(run.report?.regions.find((r) => r.region === 'us-east-1')).toMatchObject({ status: 'ok' })
    const east = sorted(s.fleet.instances('us-east-1').map((i) => i.id))
    expect(sorted(run.report?.instances.map((i) => i.id) ?? [])).toEqual(east)
    for (const id of east)
      expect(outcomeOf(run, id)).toMatchObject({ outcome: 'notified', reason: NOT_STARTED_CANCELLED })
    // The abandoned calls were closed by the client at the grace's end, not left open.
    for (const call of s.callsOf('DescribeInstances', 'eu-west-1'))
      expect(call).toMatchObject({ outcome: 'silenced', closedAt: expect.any(Number) })
  })
})

afterAll(() => {
  // Printed for the record (the CI log): how long each cancelled run took from SIGINT to exit.
  process.stdout.write(`SIGINT to exit: ${measured.join('; ')}\n`)
})
