/**
 * AWS-controlled strings that try to speak to the runner (names, tags, key names, error messages
 * with line breaks and workflow commands) never become workflow commands: stdout, read as the
 * runner reads it, holds only the action's own commands; the SNS subject and text and the
 * summary's rows carry them flattened and inert.
 */
import { describe, expect, it } from '@jest/globals'
import { expectNothingLinked, LINKY } from '../../__fixtures__/gfm.js'
import {
  HOSTILE,
  HOSTILE_KEY_NAME,
  HOSTILE_MESSAGE,
  HOSTILE_RUN_TAG,
  hostileFleet
} from '../../__fixtures__/hostile-fleet.js'
import { DEFAULT_TOPIC_ARN, type Sandbox } from '../../sandbox/index.js'
import { sandboxPerTest } from './fleet.js'
import { runAction, STATIC_KEY_ID, type RunResult } from '../../sandbox/run-action.js'
import { describeRun } from './harness.js'
import { workflowCommands } from './runner-log.js'

const { start } = sandboxPerTest()
const SECRET = 'e2e-throwaway-secret'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** Tags the summary is built of; anything else that looks like a tag came from data. */
const SUMMARY_TAGS = /<\/?(?:h2|h3|h4|p|table|tr|th|td|code|ul|li|b)(?: colspan="\d+")?>/g
const LINE_BREAKING = Object.values(HOSTILE).filter((text) => /[\r\n]/.test(text))

/** The only commands the runner executes are the action's own, and none carries a payload. */
function expectOnlyOwnCommands(run: RunResult): void {
  const commands = workflowCommands(run.stdout)
  const why = describeRun(run)
  const names = new Set(commands.filter((c) => !c.resumes).map((c) => c.command))
  for (const name of names)
    expect({ name, why }).toEqual({
      name: expect.stringMatching(/^(add-mask|group|endgroup|stop-commands|error|warning|notice)$/),
      why
    })
  // add-mask: the two credentials, nothing a name could add.
  expect(
    commands
      .filter((c) => c.command === 'add-mask')
      .map((c) => c.data)
      .sort()
  ).toEqual([STATIC_KEY_ID, SECRET].sort())
  // Every pause is a fresh UUID, and every one is resumed by its own token and nothing else.
  const stops = commands.filter((c) => c.command === 'stop-commands')
  expect(stops.length).toBeGreaterThan(0)
  for (const stop of stops) expect(stop.data).toMatch(UUID)
  expect(new Set(stops.map((s) => s.data)).size).toBe(stops.length)
  expect(commands.filter((c) => c.resumes).map((c) => c.command)).toEqual(stops.map((s) => s.data))
  for (const command of commands) expect(command.syntax).toBe('::')
  // Annotations: ours (titled packer-sweeper…) and setFailed's one; flattened, never a payload.
  const annotations = commands.filter((c) => ['error', 'warning', 'notice'].includes(c.command))
  expect(annotations.filter((c) => c.properties.title === undefined).map((c) => c.command)).toEqual(
    run.exitCode === 0 ? [] : ['error']
  )
  for (const annotation of annotations) {
    if (annotation.properties.title !== undefined) expect(annotation.properties.title).toMatch(/^packer-sweeper/)
    expect(`${annotation.properties.title ?? ''}${annotation.data}`).not.toMatch(/[\r\n]/)
    expect(annotation.data).not.toMatch(/^\s*(::|pwned)/)
  }
  for (const group of commands.filter((c) => c.command === 'group'))
    expect(group.data).toMatch(/^[a-z]+-[a-z]+-\d · [a-z0-9 ,:]+$/)
}

/** The summary's text between tags holds no markup and no line break from AWS. */
function expectInertSummary(summary: string): void {
  expect(summary.length).toBeGreaterThan(0)
  const text = summary.replace(SUMMARY_TAGS, '')
  expect(text).not.toMatch(/[<>]/)
  for (const line of summary.split('\n')) expect(line).not.toMatch(/^\s*::/)
  for (const hostile of LINE_BREAKING) expect(summary).not.toContain(hostile)
}

function expectInertNotification(s: Sandbox): void {
  expect(s.published.length).toBeGreaterThan(0)
  for (const message of s.published) {
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/)
    const envelope = JSON.parse(message.message) as { default: string; sqs: string }
    expect(envelope.default).not.toContain('\r')
    for (const line of envelope.default.split('\n')) expect(line).not.toMatch(/^\s*::|^pwned/)
    for (const hostile of LINE_BREAKING) expect(envelope.default).not.toContain(hostile)
    // The JSON for programs keeps the values exactly (it is data, escaped by JSON itself).
    expect(envelope.sqs).toContain(JSON.stringify(HOSTILE.error).slice(1, -1))
  }
}

describe('hostile strings in every AWS-controlled field', () => {
  it('terminate, resources all, a topic, and DeleteKeyPair failing with a hostile message', async () => {
    const s = await start({ fleet: hostileFleet('us-east-1') })
    s.faults.fail({ action: 'DeleteKeyPair', code: 'InvalidParameterValue', message: HOSTILE_MESSAGE, status: 400 })
    // The hostile key names are not Packer's packer_<uuid>: deleting their key pairs takes the opt-in and a concrete tag.
    const run = await runAction({
      sandbox: s,
      inputs: {
        action: 'terminate',
        resources: 'all',
        'key-name': HOSTILE_KEY_NAME,
        tags: HOSTILE_RUN_TAG,
        'delete-custom-key-pairs': 'true',
        'sns-topic-arn': DEFAULT_TOPIC_ARN,
        'max-resources': '0'
      }
    })
    expect(run.exitCode).toBe(1)
    const keyPairs = run.report?.keyPairs ?? []
    expect(keyPairs.length).toBeGreaterThan(0)
    for (const finding of keyPairs)
      expect(finding).toMatchObject({
        outcome: 'failed',
        error: { code: 'InvalidParameterValue', message: HOSTILE_MESSAGE }
      })
    expect(run.report?.notification).toMatchObject({ published: 1 })
    expectOnlyOwnCommands(run)
    expectInertSummary(run.summary)
    expectInertNotification(s)
    // The failures are annotated, each titled with its key pair — flattened.
    const errors = workflowCommands(run.stdout).filter(
      (c) => c.command === 'error' && c.properties.title?.startsWith('packer-sweeper: key pair')
    )
    expect(errors.length).toBeGreaterThan(0)
  })

  it('terminate with TerminateInstances failing (InternalError, retries used up) with a hostile message', async () => {
    const s = await start({ fleet: hostileFleet('us-east-1') })
    s.faults.fail({
      action: 'TerminateInstances',
      code: 'InternalError',
      message: HOSTILE_MESSAGE,
      status: 500,
      count: 8
    })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'key-name': HOSTILE_KEY_NAME, 'sns-topic-arn': DEFAULT_TOPIC_ARN }
    })
    expect(run.exitCode).toBe(1)
    const instances = run.report?.instances ?? []
    expect(instances.length).toBe(Object.keys(HOSTILE).length)
    for (const finding of instances)
      expect(finding).toMatchObject({ outcome: 'failed', error: { code: 'InternalError', message: HOSTILE_MESSAGE } })
    expectOnlyOwnCommands(run)
    expectInertSummary(run.summary)
    expectInertNotification(s)
  })

  it('notify, resources all, a topic', async () => {
    const s = await start({ fleet: hostileFleet('us-east-1') })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'notify', resources: 'all', 'key-name': HOSTILE_KEY_NAME, 'sns-topic-arn': DEFAULT_TOPIC_ARN }
    })
    expect(run.exitCode).toBe(0)
    expectOnlyOwnCommands(run)
    expectInertSummary(run.summary)
    expectInertNotification(s)
  })
})

describe('nothing from AWS becomes a link or a mention in the job summary', () => {
  it('URLs, www. names, e-mail addresses and @mentions in Name tags, key names and AWS error messages stay text inside <code>', async () => {
    const instances = LINKY.map((value, i) => ({
      ref: `linky-${i}`,
      keyName: `packer_${value}`,
      age: '5h',
      tags: { Name: value, 'packer-run': `run ${value}` }
    }))
    const s = await start({ fleet: { 'us-east-1': { instances } } })
    const message = `denied, see https://evil.example/x or ask @team (www.evil.example, a@b.example, @org/team)`
    s.faults.fail({ action: 'DescribeKeyPairs', code: 'UnauthorizedOperation', message, status: 403 })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', resources: 'instances,key-pairs', 'key-name': 'packer_*' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.report?.instances.map((i) => i.outcome)).toEqual(LINKY.map(() => 'terminated'))
    expect(run.report?.regions[0]).toMatchObject({
      status: 'partial',
      failures: [{ kind: 'key-pairs', code: 'UnauthorizedOperation' }]
    })
    expectNothingLinked(run.summary, [
      ...LINKY,
      ...LINKY.map((value) => `packer_${value}`),
      'https://evil.example/x or ask @team'
    ])
    // The log and the SNS text are plain text, unchanged: the values are there as they are.
    for (const value of LINKY) expect(run.log).toContain(value)
  })
})
