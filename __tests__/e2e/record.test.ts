/**
 * The record a run leaves for the runner: outputs within GitHub's 1 MB however many instances
 * were acted on (the whole report in `report-file`), a failed publish in the report, summary and
 * exit code, and the log's groups and annotations as the runner reads them.
 */
import { describe, expect, it } from '@jest/globals'
import type { Report } from '../../src/report/types.js'
import { DEFAULT_TOPIC_ARN, generateFleet } from '../../sandbox/index.js'
import { changedIds, sandboxPerTest, sorted } from './fleet.js'
import { runAction } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'
import { workflowCommands, type WorkflowCommand } from './runner-log.js'

const { start } = sandboxPerTest()
const noCap = { 'max-instances': '0', 'max-resources': '0' }
/** GitHub's limit on a job's outputs. */
const GITHUB_OUTPUTS_LIMIT = 1_000_000

describe('outputs within 1 MB', () => {
  it('30,000 instances terminated: outputs shortened (≤ 1 MB, outputs-truncated true, a warning naming them), report-file holds every ID', async () => {
    const regions = ['us-east-1', 'eu-west-1', 'ap-south-1']
    const s = await start({
      fleet: Object.assign(
        {},
        ...regions.map((region, n) => generateFleet({ region, count: 10_000, staleFraction: 1, seed: 60 + n }))
      )
    })
    const startedAt = performance.now()
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', regions: regions.join(','), ...noCap } })
    process.stdout.write(
      `30,000 instances terminated end to end in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`
    )
    expectExit(run, 0)
    const all = sorted(s.fleet.instances().map((i) => i.id))
    expect(all).toHaveLength(30_000)
    expect(changedIds(s)).toEqual(all)

    expect(run.outputFileBytes).toBeLessThanOrEqual(GITHUB_OUTPUTS_LIMIT)
    expect(run.outputs['outputs-truncated']).toBe('true')
    expect(run.outputs.count).toBe('30000')
    // Every output still parses; the shortened lists are prefixes of the whole sorted list.
    const acted = run.list('acted-ids')
    expect(acted.length).toBeGreaterThan(0)
    expect(acted.length).toBeLessThan(30_000)
    expect(acted).toEqual(all.slice(0, acted.length))
    expect(run.list('failed-ids')).toEqual([])
    expect(JSON.parse(run.outputs.report ?? '')).toMatchObject({
      truncated: { instances: expect.any(Number) },
      reportFile: run.outputs['report-file']
    })

    const file = JSON.parse(run.reportFileText ?? 'null') as Report
    expect(sorted(file.instances.map((i) => i.id))).toEqual(all)
    expect(file.instances.every((i) => i.outcome === 'terminated')).toBe(true)
    const warnings = workflowCommands(run.stdout).filter((c) => c.command === 'warning')
    expect(warnings).toEqual([
      expect.objectContaining({
        properties: { title: 'packer-sweeper: outputs shortened' },
        data: `Outputs shortened to stay within GitHub's 1 MB per job: instance-ids, acted-ids, report; the whole report is in ${run.outputs['report-file']} (output report-file).`
      })
    ])
  })

  it('a small run: nothing shortened, report-file holds the same report as the `report` output', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 6, staleFraction: 1, seed: 64 }) })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate' } })
    expectExit(run, 0)
    expect(run.outputs['outputs-truncated']).toBe('false')
    expect(run.outputs['report-file']).toMatch(/packer-sweeper-report-4242-1-\d+\.json$/)
    expect(JSON.parse(run.reportFileText ?? 'null')).toEqual(run.report)
    expect(run.report?.reportFile).toBe(run.outputs['report-file'])
    expect(run.stdout).not.toContain('Outputs shortened')
  })
})

describe('a failed publish', () => {
  it('is a run error in the report, the summary and the outputs, and fails the step; nothing was published', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 3, staleFraction: 1, seed: 65 }) })
    const message = 'The request was rejected because the specified CMK is not enabled.'
    s.faults.fail({ action: 'Publish', code: 'KMSDisabled', message, status: 400 })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', 'sns-topic-arn': DEFAULT_TOPIC_ARN } })
    expectExit(run, 1)
    // The instances were still terminated: the publish comes after.
    expect(run.list('acted-ids')).toEqual(changedIds(s))
    expect(s.published).toEqual([])
    expect(s.callsOf('Publish').map((c) => c.errorCode)).toEqual(['KMSDisabled'])
    const error = `Publishing to ${DEFAULT_TOPIC_ARN} failed: KMSDisabled: ${message}`
    expect(run.report?.errors).toEqual([error])
    expect(run.report?.notification).toEqual({
      topicArn: DEFAULT_TOPIC_ARN,
      parts: 1,
      published: 0,
      error: `KMSDisabled: ${message}`
    })
    expect(run.summary).toContain('<h3>Errors</h3><ul><li><code>Publishing to')
    expect(run.summary).toContain('KMSDisabled: The request was rejected because the specified CMK is not enabled.')
    expect(JSON.parse(run.reportFileText ?? 'null')).toEqual(run.report)
    expect(
      workflowCommands(run.stdout)
        .filter((c) => c.command === 'error' && c.properties.title === undefined)
        .map((c) => c.data)
    ).toEqual([error])
  })
})

/** The commands of a run in order, with the group nesting checked: returns the groups' titles. */
function groupsOf(commands: readonly WorkflowCommand[]): string[] {
  const titles: string[] = []
  let open: string | undefined
  for (const command of commands) {
    if (command.command === 'group') {
      expect(open).toBeUndefined()
      open = command.data
      titles.push(command.data)
    } else if (command.command === 'endgroup') {
      expect(open).toBeDefined()
      open = undefined
    } else if (['error', 'warning', 'notice'].includes(command.command)) {
      // Annotations are never folded inside a region's group.
      expect({ annotation: command.data, open }).toEqual({ annotation: command.data, open: undefined })
    }
  }
  expect(open).toBeUndefined()
  return titles
}

describe('log groups and annotations, as the runner reads stdout', () => {
  it('two regions with failures: a group per region and kind, an error per failed region and resource, the headline notice outside groups', async () => {
    const fleet = {
      ...generateFleet({ region: 'us-east-1', count: 4, staleFraction: 1, seed: 66, zones: ['us-east-1a'] }),
      ...generateFleet({ region: 'eu-west-1', count: 2, staleFraction: 1, seed: 67 })
    }
    const east = fleet['us-east-1'] ?? {}
    const guarded = east.instances?.[1]
    if (guarded) guarded.disableApiTermination = true
    // A stale builder's key pair: deleted once it is terminated, in a group of its own.
    east.keyPairs = [{ keyName: east.instances?.[0]?.keyName ?? '', age: '5h' }]
    const s = await start({ fleet })
    s.faults.deny({ region: 'eu-west-1', action: 'DescribeKeyPairs' })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', regions: 'us-east-1,eu-west-1', resources: 'instances,key-pairs' }
    })
    expectExit(run, 1)
    const commands = workflowCommands(run.stdout)
    const groups = groupsOf(commands)
    expect(sorted(groups.map((title) => title.replace(/:.*/, '')))).toEqual([
      'eu-west-1 · instances',
      'us-east-1 · 1 key pair',
      'us-east-1 · instances'
    ])
    expect(groups).toContain('us-east-1 · instances: 4 matching instances, 4 stale')

    const errors = commands.filter((c) => c.command === 'error')
    // Only its key pairs failed: its builders were swept, so the region is partly swept, not failed.
    expect(errors.map((c) => c.properties.title)).toEqual([
      'packer-sweeper: region eu-west-1 partly swept',
      `packer-sweeper: instance ${guarded?.id} (us-east-1): terminate failed`,
      // setFailed's own, untitled, last.
      undefined
    ])
    expect(errors[0]?.data).toMatch(
      /^key pairs failed: UnauthorizedOperation: .*ec2:DescribeKeyPairs.*; instances swept$/
    )
    expect(errors[1]?.data).toMatch(/^failed: OperationNotPermitted: /)
    const notices = commands.filter((c) => c.command === 'notice')
    expect(notices).toEqual([
      expect.objectContaining({
        properties: { title: 'packer-sweeper' },
        data: '6 stale Packer instances (5 terminated, 1 failed), 1 Packer leftover deleted, 1 region partly swept'
      })
    ])
    expect(commands.filter((c) => c.command === 'warning')).toEqual([])
  })

  it("more than 9 failures: exactly 9 error annotations from the action, the last counting the rest, plus setFailed's one", async () => {
    const fleet = generateFleet({ region: 'us-east-1', count: 14, staleFraction: 1, protectedFraction: 1, seed: 68 })
    const s = await start({ fleet })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate' } })
    expectExit(run, 1)
    expect(run.list('failed-ids')).toHaveLength(14)
    const errors = workflowCommands(run.stdout).filter((c) => c.command === 'error')
    expect(errors).toHaveLength(10)
    const ours = errors.filter((c) => c.properties.title !== undefined)
    expect(ours).toHaveLength(9)
    for (const error of ours.slice(0, 8))
      expect(error.properties.title).toMatch(/^packer-sweeper: instance i-[0-9a-f]+ \(us-east-1\): terminate failed$/)
    expect(ours[8]).toMatchObject({
      properties: { title: 'packer-sweeper: more failures' },
      data: '… and 6 more failed regions or resources: see the job summary for all of them.'
    })
    expect(errors[9]?.properties.title).toBeUndefined()
    expect(errors[9]?.data).toMatch(/^14 instances failed: /)
  })
})
