import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as core from '../../../__fixtures__/core.js'
import { instance, orphan, region, regionFailure, report, settings } from '../../../__fixtures__/report.js'
import { workflowCommands } from '../../e2e/runner-log.js'

jest.unstable_mockModule('@actions/core', () => core)
const {
  ANNOTATIONS_PER_TYPE,
  annotationsFor,
  findingLogLine,
  logAccount,
  logData,
  logGroup,
  logRegion,
  logSettled,
  orphanLogLine
} = await import('../../../src/report/log.js')
const { KIND_MODULES } = await import('../../../src/kinds/registry.js')

const HOSTILE = 'x\r::error::pwned\n::add-mask::secret\r\n%0A::warning::x'

/** stdout as the runner would read it: what core.info, startGroup and endGroup wrote. */
function stdout(): string {
  const lines: string[] = []
  for (const [fn, name] of [
    [core.info, 'info'],
    [core.startGroup, 'group'],
    [core.endGroup, 'endgroup']
  ] as const) {
    fn.mock.calls.forEach((call, index) =>
      lines.push(
        `${fn.mock.invocationCallOrder[index]}\u0000${name === 'info' ? call[0] : name === 'group' ? `::group::${call[0]}` : '::endgroup::'}`
      )
    )
  }
  return lines
    .sort((a, b) => Number(a.split('\u0000')[0]) - Number(b.split('\u0000')[0]))
    .map((line) => line.split('\u0000')[1])
    .join('\n')
}

beforeEach(() => {
  jest.resetAllMocks()
})

describe('logData', () => {
  it('writes each line flat, between stop-commands and a fresh resume token', () => {
    logData([`i-1: ${HOSTILE}`, 'plain'])
    const written = core.info.mock.calls.map(([line]) => line)
    expect(written).toHaveLength(4)
    const token = /^::stop-commands::([0-9a-f-]{36})$/.exec(written[0] as string)?.[1]
    expect(token).toBeDefined()
    expect(written[3]).toBe(`::${token}::`)
    for (const line of written.slice(1, 3)) expect(line).not.toMatch(/[\r\n]/)
    expect(workflowCommands(stdout()).map(({ command }) => command)).toEqual(['stop-commands', token])
  })

  it('a new token every time', () => {
    logData(['a'])
    logData(['b'])
    const tokens = core.info.mock.calls.map(([line]) => line).filter((line) => line.startsWith('::stop-commands::'))
    expect(new Set(tokens).size).toBe(2)
  })

  it('nothing for no lines', () => {
    logData([])
    expect(core.info).not.toHaveBeenCalled()
  })
})

describe('logGroup and logRegion', () => {
  it('a group around the data: no command from the data, the group ends', () => {
    logGroup('us-east-1 · instances', [HOSTILE])
    const commands = workflowCommands(stdout()).map(({ command }) => command)
    expect(commands[0]).toBe('group')
    expect(commands.at(-1)).toBe('endgroup')
    expect(commands.filter((command) => ['error', 'warning', 'add-mask'].includes(command))).toEqual([])
  })

  it('a group per kind that found anything, key pairs named once', () => {
    logRegion(
      KIND_MODULES,
      region({ region: 'eu-west-1', matched: 3 }),
      new Map([
        ['instances', [instance({ keyName: HOSTILE })]],
        ['key-pairs', [orphan()]],
        ['security-groups', [orphan({ kind: 'security-groups', id: 'sg-1', name: 'packer_x' })]]
      ]),
      ['instances', 'key-pairs', 'security-groups']
    )
    expect(core.startGroup.mock.calls.map(([title]) => title)).toEqual([
      'eu-west-1 · instances: 3 matching instances, 1 stale',
      'eu-west-1 · 1 key pair',
      'eu-west-1 · 1 security group'
    ])
    const keyLine = orphanLogLine(KIND_MODULES, orphan())
    expect(keyLine.match(/packer_6745a1b2/g)).toHaveLength(1)
    expect(workflowCommands(stdout()).filter(({ command }) => command === 'error')).toEqual([])
  })

  it('writes each result once: what logSettled wrote as it was done is counted in the group, not repeated', () => {
    const terminated = instance({ id: 'i-00000000000000001' })
    const kept = instance({
      id: 'i-00000000000000002',
      outcome: 'skipped',
      reason: 'carries the packer-sweeper:keep tag'
    })
    const key = orphan()
    logSettled('eu-west-1', [findingLogLine(KIND_MODULES, terminated), findingLogLine(KIND_MODULES, key)])
    logRegion(
      KIND_MODULES,
      region({ region: 'eu-west-1', matched: 2 }),
      new Map([
        ['instances', [terminated, kept]],
        ['key-pairs', [key]]
      ]),
      ['instances', 'key-pairs']
    )
    const text = stdout()
    for (const finding of [terminated, kept, key])
      expect(text.split(findingLogLine(KIND_MODULES, finding))).toHaveLength(2)
    expect(core.startGroup.mock.calls.map(([title]) => title)).toEqual([
      'eu-west-1 · instances: 2 matching instances, 2 stale',
      'eu-west-1 · 1 key pair'
    ])
    expect(text.split('1 result logged above, as each was done')).toHaveLength(3)

    // The account-wide kinds alike; and a line is held back once only: the next run's group writes it again.
    const profile = orphan({ kind: 'instance-profiles', id: 'packer-x', name: 'packer-x', region: 'global' })
    logSettled('global', [findingLogLine(KIND_MODULES, profile)])
    logAccount(KIND_MODULES, new Map([['instance-profiles', [profile]]]))
    logAccount(KIND_MODULES, new Map([['instance-profiles', [profile]]]))
    expect(stdout().split(findingLogLine(KIND_MODULES, profile))).toHaveLength(3)
  })

  it('a failed region says why, flat, outside the groups', () => {
    logRegion(
      KIND_MODULES,
      region({ status: 'failed', failures: [regionFailure({ code: 'InternalError', message: HOSTILE })] }),
      new Map(),
      ['instances']
    )
    const text = stdout()
    expect(text).toContain('eu-west-1: nothing swept: instances failed: InternalError: x ::error::pwned')
    expect(workflowCommands(text).filter(({ command }) => command === 'error')).toEqual([])
  })

  it('a partly swept region names the kind that failed and what it swept, and still logs what it swept', () => {
    const failure = regionFailure({ kind: 'key-pairs', message: HOSTILE })
    logRegion(
      KIND_MODULES,
      region({ status: 'partial', matched: 1, failures: [failure] }),
      new Map([['instances', [instance()]]]),
      ['instances', 'key-pairs']
    )
    const text = stdout()
    expect(text).toMatch(
      /^eu-west-1: partly swept: key pairs failed: UnauthorizedOperation: x ::error::pwned .*; instances swept$/m
    )
    expect(core.startGroup.mock.calls.map(([title]) => title)).toEqual([
      'eu-west-1 · instances: 1 matching instances, 1 stale'
    ])
    expect(workflowCommands(text).filter(({ command }) => command === 'error')).toEqual([])
  })
})

describe('annotationsFor', () => {
  const failed = (n: number) =>
    instance({
      id: `i-${String(n).padStart(17, '0')}`,
      outcome: 'failed',
      error: { code: 'OperationNotPermitted', message: 'protected' }
    })

  it('an error per failed region and resource, a notice with the headline', () => {
    const annotations = annotationsFor(
      KIND_MODULES,
      report({
        regions: [
          region({
            region: 'us-east-1',
            status: 'failed',
            failures: [regionFailure({ kind: undefined, code: 'RegionTimeout', message: 'late' })]
          })
        ],
        instances: [failed(1)]
      })
    )
    expect(annotations.map(({ level, title }) => [level, title])).toEqual([
      ['error', 'packer-sweeper: region us-east-1 failed'],
      ['error', 'packer-sweeper: instance i-00000000000000001 (eu-west-1): terminate failed'],
      ['notice', 'packer-sweeper']
    ])
    expect(annotations[0]?.message).toBe('RegionTimeout: late')
  })

  it('a partly swept region: an error naming the kinds that failed and what was swept', () => {
    const [annotation] = annotationsFor(
      KIND_MODULES,
      report({
        settings: settings({ resources: ['instances', 'key-pairs'] }),
        regions: [region({ status: 'partial', failures: [regionFailure({ kind: 'key-pairs', message: 'denied' })] })]
      })
    )
    expect(annotation).toEqual({
      level: 'error',
      title: 'packer-sweeper: region eu-west-1 partly swept',
      message: 'key pairs failed: UnauthorizedOperation: denied; instances swept'
    })
  })

  it('never more errors than GitHub shows beside setFailed: the rest are counted in one', () => {
    const annotations = annotationsFor(
      KIND_MODULES,
      report({ instances: Array.from({ length: 30 }, (_, n) => failed(n)) })
    )
    const errors = annotations.filter(({ level }) => level === 'error')
    expect(errors).toHaveLength(ANNOTATIONS_PER_TYPE - 1)
    expect(errors.at(-1)?.message).toBe(
      '… and 22 more failed regions or resources: see the job summary for all of them.'
    )
  })

  it('exactly the limit: no counting annotation', () => {
    const errors = annotationsFor(
      KIND_MODULES,
      report({ instances: Array.from({ length: ANNOTATIONS_PER_TYPE - 1 }, (_, n) => failed(n)) })
    ).filter(({ level }) => level === 'error')
    expect(errors).toHaveLength(ANNOTATIONS_PER_TYPE - 1)
    expect(errors.every(({ title }) => title.includes('terminate failed'))).toBe(true)
  })

  it('unknown outcomes are errors too, named as no answer', () => {
    const [first] = annotationsFor(
      KIND_MODULES,
      report({ instances: [instance({ outcome: 'unknown', reason: 'no answer' })] })
    )
    expect(first?.title).toBe('packer-sweeper: instance i-00000000000000001 (eu-west-1): no answer on terminate')
  })

  it('a post-build sweep (max-age 0 with tags) that found something: a warning', () => {
    const postBuild = settings({ 'max-age': 0, tags: [{ key: 'github-run-id', value: '42' }] })
    const levels = annotationsFor(KIND_MODULES, report({ settings: postBuild, instances: [instance()] })).map(
      ({ level }) => level
    )
    expect(levels).toEqual(['warning', 'notice'])
    expect(annotationsFor(KIND_MODULES, report({ settings: postBuild })).map(({ level }) => level)).toEqual(['notice'])
    expect(annotationsFor(KIND_MODULES, report({ instances: [instance()] })).map(({ level }) => level)).toEqual([
      'notice'
    ])
  })
})

describe('one way to shorten long messages', () => {
  it('a 10 KB AWS error reads the same, cut the same, in the log, the annotation, the summary and SNS', async () => {
    const { shortMessage, MESSAGE_MAX_LENGTH } = await import('../../../src/model/format.js')
    const { renderSummary } = await import('../../../src/report/summary.js')
    const { buildNotifications } = await import('../../../src/report/notification.js')
    const { instanceLogLine } = await import('../../../src/report/log.js')
    const message = `${'The instance may not be terminated. '.repeat(300)}END`
    const failed = instance({ outcome: 'failed', error: { code: 'OperationNotPermitted', message } })
    const sample = report({ instances: [failed] })
    const short = shortMessage(`OperationNotPermitted: ${message}`)
    expect(short.length).toBe(MESSAGE_MAX_LENGTH)
    expect(short.endsWith('…')).toBe(true)
    expect(instanceLogLine(failed)).toContain(short)
    expect(annotationsFor(KIND_MODULES, sample)[0]?.message).toContain(short)
    expect(renderSummary(KIND_MODULES, sample)).toContain(short.replace(/'/g, '&#39;'))
    const [part] = buildNotifications(KIND_MODULES, sample, 'arn:aws:sns:eu-west-1:123456789012:t')
    expect((JSON.parse(part?.message ?? '{}') as { default: string }).default).toContain(short)
  })
})
