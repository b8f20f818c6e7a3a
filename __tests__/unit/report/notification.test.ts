import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { mockClient } from 'aws-sdk-client-mock'
import * as core from '../../../__fixtures__/core.js'
import {
  iamLeftover,
  imageLeftover,
  instance,
  instances,
  orphan,
  region,
  regionFailure,
  report,
  settings,
  volumeLeftover
} from '../../../__fixtures__/report.js'
import type { NotificationJson as PartJson } from '../../../src/report/notification.js'
import type { Report } from '../../../src/report/types.js'
import { instanceId, NOW } from '../../../__fixtures__/support.js'
import { computeCost } from '../../../src/model/cost.js'

jest.unstable_mockModule('@actions/core', () => core)
const {
  buildNotifications,
  closingSentence,
  notificationRunId,
  publishInput,
  publishNotifications,
  SNS_MESSAGE_MAX_BYTES,
  SNS_SUBJECT_MAX_LENGTH,
  subjectFor
} = await import('../../../src/report/notification.js')
const { isTopicArn, topicRegion } = await import('../../../src/aws/sns-topic.js')
const { KIND_MODULES } = await import('../../../src/kinds/registry.js')
type Notification = ReturnType<typeof buildNotifications>[number]

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:packer-alerts'
const LISTS = [
  'instances',
  'keyPairs',
  'securityGroups',
  'launchTemplates',
  'instanceProfiles',
  'images',
  'volumes'
] as const
type List = (typeof LISTS)[number]

interface Envelope {
  default: string
  sqs: string
  lambda: string
  https: string
}

const envelopeOf = (notification: Notification) => JSON.parse(notification.message) as Envelope
const jsonOf = (notification: Notification) => JSON.parse(envelopeOf(notification).sqs) as PartJson

/** The one notification of a report small enough for one part. */
function build(overrides: Partial<Report>) {
  const notifications = buildNotifications(KIND_MODULES, report(overrides), TOPIC)
  expect(notifications).toHaveLength(1)
  const [notification] = notifications as [Notification]
  return { ...notification, envelope: envelopeOf(notification), json: jsonOf(notification) }
}

/** `list:id → outcome` for every resource of a report: what every subscriber must be able to rebuild. */
function expectedOutcomes(sample: Report): Map<string, string> {
  return new Map(
    LISTS.flatMap((list) => sample[list].map((finding): [string, string] => [`${list}:${finding.id}`, finding.outcome]))
  )
}

/** The same, rebuilt from the parts' JSON only; each ID must be in exactly one part. */
function outcomesFromJson(notifications: readonly Notification[]): Map<string, string> {
  const found = new Map<string, string>()
  for (const notification of notifications) {
    const json = jsonOf(notification)
    for (const list of LISTS) {
      for (const [outcome, ids] of Object.entries(json.ids[list])) {
        for (const id of ids) {
          if (found.has(`${list}:${id}`)) throw new Error(`${list}:${id} is in two parts`)
          found.set(`${list}:${id}`, outcome)
        }
      }
    }
  }
  return found
}

/** `id → outcome` rebuilt from the parts' text only: `* <id>[ name] (<region>, <age>, <outcome>…)`. */
function outcomesFromText(notifications: readonly Notification[]): Map<string, string> {
  const found = new Map<string, string>()
  for (const notification of notifications) {
    for (const match of envelopeOf(notification).default.matchAll(/^\* (\S+)(?: \S+)? \([^,]+, [^,]+, ([a-z-]+)/gm)) {
      found.set(match[1] as string, match[2] as string)
    }
  }
  return found
}

describe('isTopicArn and topicRegion', () => {
  it.each([
    ['arn:aws:sns:eu-central-1:123456789012:packer-alerts', 'eu-central-1'],
    ['arn:aws:sns:us-east-1:000000000000:alerts.fifo', 'us-east-1'],
    ['arn:aws-cn:sns:cn-north-1:123456789012:alerts', 'cn-north-1'],
    ['arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts', 'us-gov-west-1'],
    ['arn:aws-eusc:sns:eusc-de-east-1:123456789012:alerts', 'eusc-de-east-1'],
    ['arn:aws:sns:ap-southeast-5:123456789012:A_b-1', 'ap-southeast-5']
  ])('%s is a topic in %s', (arn, expected) => {
    expect(isTopicArn(arn)).toBe(true)
    expect(topicRegion(arn)).toBe(expected)
  })

  it.each([
    '',
    'packer-alerts',
    'arn:aws:sqs:eu-central-1:123456789012:queue',
    'arn:aws:sns:eu-central-1:12345678901:short-account',
    'arn:aws:sns:eu-central-1:123456789012:',
    'arn:aws:sns::123456789012:no-region',
    'arn:aws:sns:Europe:123456789012:bad-region',
    'arn:aws:sns:eu-central-1:123456789012:has space',
    'arn:aws:sns:eu-central-1:123456789012:alerts:subscription-id',
    ' arn:aws:sns:eu-central-1:123456789012:alerts'
  ])('%p is not a topic ARN', (value) => {
    expect(isTopicArn(value)).toBe(false)
    expect(() => topicRegion(value)).toThrow(/sns-topic-arn: .* is not an SNS topic ARN/)
  })
})

describe('buildNotifications', () => {
  it.each<[string, Partial<Report>]>([
    ['a clean run', {}],
    [
      'a run that only skipped',
      { instances: instances(2, { outcome: 'skipped' }), keyPairs: [orphan({ outcome: 'skipped' })] }
    ]
  ])('is empty for %s', (_, overrides) => {
    expect(buildNotifications(KIND_MODULES, report(overrides), TOPIC)).toEqual([])
  })

  it.each<[string, Partial<Report>, string]>([
    ['terminated', { instances: instances(3) }, 'packer-sweeper: 3 stale Packer instances terminated'],
    [
      'stopped',
      { settings: settings({ action: 'stop' }), instances: instances(1, { outcome: 'stopped' }) },
      'packer-sweeper: 1 stale Packer instance stopped'
    ],
    [
      'notify',
      { settings: settings({ action: 'notify' }), instances: instances(2, { outcome: 'notified' }) },
      'packer-sweeper: 2 stale Packer instances found'
    ],
    [
      'dry run',
      { settings: settings({ 'dry-run': true }), instances: instances(3, { outcome: 'dry-run' }) },
      'packer-sweeper: 3 stale Packer instances found (dry run)'
    ],
    [
      'partly failed',
      { instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)] },
      'packer-sweeper: 3 stale Packer instances (2 terminated, 1 failed)'
    ],
    [
      'only a failed region',
      { regions: [region({ status: 'failed' }), region({ region: 'us-east-1', status: 'failed' })] },
      'packer-sweeper: 2 regions failed'
    ],
    ['only leftovers', { keyPairs: [orphan(), orphan({ id: 'k2' })] }, 'packer-sweeper: 2 Packer leftovers deleted'],
    [
      'everything at once, briefly',
      {
        instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)],
        keyPairs: [orphan(), orphan({ id: 'k2', outcome: 'in-use' })],
        regions: [region({ status: 'failed' })],
        errors: ['x']
      },
      'packer-sweeper: 3 stale instances (1 failed), 2 leftovers, 1 region failed, 1 error'
    ]
  ])('one part, and its subject without "part", when %s', (_, overrides, expected) => {
    const { subject, part, parts, json } = build(overrides)
    expect(subject).toBe(expected)
    expect([part, parts, json.part, json.parts]).toEqual([1, 1, 1, 1])
  })

  it('keeps the subject under 100 printable ASCII characters whatever the counts, the part first', () => {
    const huge = report({
      settings: settings({ 'dry-run': true }),
      instances: [...instances(40_000, { outcome: 'failed' }), ...instances(40_000, { outcome: 'dry-run' }, 40_001)],
      keyPairs: Array.from({ length: 1000 }, (_, i) => orphan({ id: `k${i}`, outcome: i % 2 ? 'failed' : 'dry-run' })),
      regions: Array.from({ length: 30 }, (_, i) => region({ region: `r-${i}`, status: 'failed' })),
      errors: Array.from({ length: 12 }, () => 'e')
    })
    for (const subject of [subjectFor(huge), subjectFor(huge, 17, 123)]) {
      expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_LENGTH)
      expect(subject).toMatch(/^[\x20-\x7e]+$/)
    }
    expect(subjectFor(huge)).toMatch(/^packer-sweeper: 80000 stale instances \(40000 failed\)/)
    expect(subjectFor(huge, 17, 123)).toMatch(/^packer-sweeper, part 17 of 123: 80000 stale instances \(40000 failed\)/)
  })

  it('sends the text to people (default) and the JSON, IDs first, to programs (sqs, lambda, https)', () => {
    const sample = report({
      instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)],
      securityGroups: [orphan({ kind: 'security-groups', id: 'sg-1', name: 'packer_x' })]
    })
    const { envelope, json, runId, topicArn, messageStructure, message } = build(sample)
    expect({ topicArn, messageStructure }).toEqual({ topicArn: TOPIC, messageStructure: 'json' })
    expect(Object.keys(envelope).sort()).toEqual(['default', 'https', 'lambda', 'sqs'])
    expect(envelope.lambda).toBe(envelope.sqs)
    expect(envelope.https).toBe(envelope.sqs)
    expect(Object.keys(json).slice(0, 6)).toEqual(['kind', 'version', 'runId', 'part', 'parts', 'ids'])
    expect(json).toMatchObject({
      kind: 'packer-sweeper',
      version: 2,
      runId,
      part: 1,
      parts: 1,
      truncated: 0,
      errors: [],
      regions: sample.regions,
      run: sample.run
    })
    expect(runId).toBe(notificationRunId(sample))
    expect(runId).toMatch(/^[0-9a-f]{16}$/)
    expect(json.ids).toEqual({
      instances: { terminated: [instanceId(1), instanceId(2)], failed: [instanceId(3)] },
      keyPairs: {},
      securityGroups: { deleted: ['sg-1'] },
      launchTemplates: {},
      instanceProfiles: {},
      images: {},
      volumes: {}
    })
    expect(json.totals).toEqual({
      instances: { terminated: 2, failed: 1 },
      keyPairs: {},
      securityGroups: { deleted: 1 },
      launchTemplates: {},
      instanceProfiles: {},
      images: {},
      volumes: {}
    })
    expect(json.findings).toEqual({
      instances: sample.instances,
      keyPairs: [],
      securityGroups: sample.securityGroups,
      launchTemplates: [],
      instanceProfiles: [],
      images: [],
      volumes: []
    })
    expect(message.indexOf('\\"ids\\"')).toBeLessThan(message.indexOf('\\"findings\\"'))
  })

  it('the run ID differs between runs and between jobs of one workflow run', () => {
    const one = report()
    expect(notificationRunId(report({ startedAt: '2026-03-01T12:00:00.001Z' }))).not.toBe(notificationRunId(one))
    expect(notificationRunId(report({ run: { runUrl: 'https://github.com/acme/images/actions/runs/43' } }))).not.toBe(
      notificationRunId(one)
    )
    expect(notificationRunId(report())).toBe(notificationRunId(one))
  })

  it('says what each image and volume is after its outcome, with its monthly cost once priced, and what the storage costs in total', () => {
    const { envelope } = build({
      images: [
        imageLeftover({
          outcome: 'dry-run',
          image: { copies: [{ id: 'ami-0copy', region: 'us-east-1' }], monthlyCost: { usdPerMonth: 0.4 } }
        }),
        imageLeftover({
          id: 'ami-0second',
          name: '',
          outcome: 'skipped',
          reason: 'pending',
          image: { state: 'pending' }
        })
      ],
      volumes: [
        volumeLeftover({ outcome: 'deleted', reason: undefined, volume: { monthlyCost: { unknown: 'denied' } } })
      ],
      cost: computeCost([], new Map(), NOW)
    })
    const lines = envelope.default.split('\n')
    expect(lines).toContain(
      '* ami-0123456789abcdef0 packer-build-1772354880 (eu-west-1, 3h 12m, dry-run); state available, class interrupted, snapshots 1, copies ami-0copy (us-east-1), up to $0.4000 a month'
    )
    expect(lines).toContain(
      '* ami-0second (eu-west-1, 3h 12m, skipped (pending)); state pending, class interrupted, snapshots 1'
    )
    expect(lines).toContain(
      `* vol-0123456789abcdef0 (eu-west-1, 3h 12m, deleted); builder ${instanceId(1)}, device /dev/xvda, size 20 GiB gp3, cost unknown`
    )
    expect(lines).toContain(
      '* EBS storage still billed after this run: the images’ snapshots up to $0.4000 a month (1 image)'
    )
    expect(lines).toContain('* Storage price unknown for 1 volume: denied')
  })

  it("extends Packer Cleaner's text with region, age, outcome, leftovers, failed regions, errors and the run link", () => {
    const { envelope, json } = build({
      errors: ['fail-on-stale: 3 stale resources were found'],
      regions: [
        region(),
        region({
          region: 'ap-east-1',
          status: 'failed',
          failures: [regionFailure({ code: 'AuthFailure', message: 'AWS was not able to validate\nthe credentials' })]
        }),
        region({
          region: 'us-east-1',
          status: 'partial',
          failures: [regionFailure({ kind: 'key-pairs', message: 'denied' })]
        })
      ],
      instances: [
        instance({ id: instanceId(2), region: 'us-east-1', ageSeconds: 90_000 }),
        instance({ outcome: 'failed', error: { code: 'OperationNotPermitted', message: 'may not be terminated' } })
      ],
      securityGroups: [
        orphan({
          kind: 'security-groups',
          id: 'sg-0abc',
          name: 'packer_6745a1b2',
          ageSeconds: undefined,
          ageSource: 'unknown',
          outcome: 'skipped',
          reason: 'age unknown'
        })
      ]
    })
    expect(envelope.default).toBe(
      [
        'The following instances were running too long:',
        `* ${instanceId(1)} (eu-west-1, 3h 12m, failed: OperationNotPermitted: may not be terminated)`,
        `* ${instanceId(2)} (us-east-1, 1d 1h, terminated)`,
        '1 has been terminated; 1 could not be terminated.',
        '',
        'The following Packer leftovers were found:',
        'Security groups:',
        '* sg-0abc packer_6745a1b2 (eu-west-1, age unknown, skipped (age unknown))',
        'It has been skipped.',
        '',
        'These regions could not be swept in full:',
        '* ap-east-1: nothing swept: instances failed: AuthFailure: AWS was not able to validate the credentials',
        '* us-east-1: partly swept: key pairs failed: UnauthorizedOperation: denied; instances swept',
        '',
        'Errors:',
        '* fail-on-stale: 3 stale resources were found',
        '',
        'Settings: action terminate, max-age 2h, regions eu-west-1',
        '',
        'Workflow run: https://github.com/acme/images/actions/runs/42',
        ''
      ].join('\n')
    )
    // Programs get each region's status and every failure with its kind.
    expect(
      json.regions?.map(({ region: name, status, failures }) => ({
        name,
        status,
        kinds: failures.map((failure) => failure.kind)
      }))
    ).toEqual([
      { name: 'eu-west-1', status: 'ok', kinds: [] },
      { name: 'ap-east-1', status: 'failed', kinds: ['instances'] },
      { name: 'us-east-1', status: 'partial', kinds: ['key-pairs'] }
    ])
  })

  describe('20,000 terminated instances, leftovers and failures', () => {
    const message = 'The instance may not be terminated because its disableApiTermination attribute is set. '.repeat(3)
    const big = report({
      regions: [
        region(),
        region({
          region: 'ap-east-1',
          status: 'failed',
          failures: [regionFailure({ code: 'AuthFailure', message: 'no' })]
        })
      ],
      errors: ['max-instances: over the cap'],
      instances: [
        ...instances(20_000, { name: 'ünïcödé build 🚀' }),
        ...instances(150, { outcome: 'failed', error: { code: 'OperationNotPermitted', message } }, 20_001),
        ...instances(50, { outcome: 'skipped', reason: 'carries the packer-sweeper:keep tag' }, 20_151)
      ],
      keyPairs: Array.from({ length: 700 }, (_, i) => orphan({ id: `packer_${i}`, name: `packer_${i}` })),
      securityGroups: Array.from({ length: 300 }, (_, i) =>
        orphan({ kind: 'security-groups', id: `sg-${i}`, name: `packer_${i}`, outcome: i % 3 ? 'deleted' : 'in-use' })
      ),
      launchTemplates: Array.from({ length: 40 }, (_, i) =>
        orphan({
          kind: 'launch-templates',
          id: `lt-${i}`,
          name: `packer-fleet-launch-template-${i}`,
          outcome: 'failed',
          error: { code: 'X', message: 'y' }
        })
      ),
      instanceProfiles: Array.from({ length: 30 }, (_, i) =>
        iamLeftover({ id: `packer-${i}`, name: `packer-${i}`, outcome: i % 2 ? 'deleted' : 'in-use' })
      ),
      images: Array.from({ length: 60 }, (_, i) =>
        imageLeftover({ id: `ami-${i}`, outcome: i % 2 ? 'deleted' : 'skipped', reason: 'reported only' })
      ),
      volumes: Array.from({ length: 90 }, (_, i) => volumeLeftover({ id: `vol-${i}` }))
    })
    const notifications = buildNotifications(KIND_MODULES, big, TOPIC)
    const expected = expectedOutcomes(big)

    it('every ID and outcome is in the union of the parts’ JSON, each in exactly one part', () => {
      expect(outcomesFromJson(notifications)).toEqual(expected)
      const totals = jsonOf(notifications[0] as Notification).totals
      expect(
        Object.values(totals)
          .flatMap((counts) => Object.values(counts))
          .reduce((a, b) => a + b, 0)
      ).toBe(expected.size)
    })

    it('every ID and outcome is in the union of the parts’ text, one line each', () => {
      const fromText = outcomesFromText(notifications)
      expect(fromText.size).toBe(expected.size)
      for (const [key, outcome] of expected)
        expect(`${key} ${fromText.get(key.slice(key.indexOf(':') + 1))}`).toBe(`${key} ${outcome}`)
    })

    it('every part is a complete envelope of at most 256 KiB, numbered in order, with one run ID', () => {
      expect(notifications.length).toBeGreaterThan(1)
      const runId = notificationRunId(big)
      notifications.forEach((notification, index) => {
        expect(Buffer.byteLength(notification.message)).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES)
        expect(Object.keys(envelopeOf(notification)).sort()).toEqual(['default', 'https', 'lambda', 'sqs'])
        expect(notification).toMatchObject({ part: index + 1, parts: notifications.length, runId, topicArn: TOPIC })
        expect(jsonOf(notification)).toMatchObject({
          kind: 'packer-sweeper',
          version: 2,
          runId,
          part: index + 1,
          parts: notifications.length
        })
        expect(envelopeOf(notification).default.split('\n')[0]).toBe(
          `Part ${index + 1} of ${notifications.length} of packer-sweeper run ${runId}; every resource is listed in exactly one part.`
        )
        expect(notification.subject).toMatch(
          new RegExp(`^packer-sweeper, part ${index + 1} of ${notifications.length}: `)
        )
        expect(notification.subject.length).toBeLessThan(100)
        expect(notification.subject).toMatch(/^[\x20-\x7e]+$/)
      })
      // Run-level problems once, in part 1.
      expect(jsonOf(notifications[0] as Notification)).toMatchObject({ errors: big.errors, regions: big.regions })
      expect(envelopeOf(notifications[0] as Notification).default).toContain(
        'These regions could not be swept in full:'
      )
      for (const notification of notifications.slice(1)) expect(jsonOf(notification).errors).toBeUndefined()
    })

    it('the verbose findings are cut, never the IDs: findings plus truncated is the part’s resources', () => {
      for (const notification of notifications) {
        const json = jsonOf(notification)
        const ids = LISTS.flatMap((list) => Object.values(json.ids[list]).flat())
        const findings = LISTS.flatMap((list) => json.findings[list])
        expect(findings.length + json.truncated).toBe(ids.length)
        for (const finding of findings)
          expect(expected.get(`${LISTS.find((list) => json.findings[list].includes(finding))}:${finding.id}`)).toBe(
            finding.outcome
          )
      }
      const last = jsonOf(notifications.at(-1) as Notification)
      expect(LISTS.flatMap((list) => last.findings[list]).length).toBeGreaterThan(0) // room left in the last part is used
    })

    it('uses the fewest parts: each part is full, the next resource would not fit, and the count meets the byte bound', () => {
      const minimumCost = (list: List, id: string, line: string) =>
        Buffer.byteLength(JSON.stringify(line)) -
        2 +
        2 +
        3 * (Buffer.byteLength(JSON.stringify(JSON.stringify(id))) - 2 + 1)
      const lines = new Map(
        notifications.flatMap((n) =>
          envelopeOf(n)
            .default.split('\n')
            .filter((line) => line.startsWith('* '))
            .map((line): [string, string] => [line.split(' ')[1] as string, line])
        )
      )
      let total = 0
      for (const notification of notifications) {
        const json = jsonOf(notification)
        for (const list of LISTS)
          for (const id of Object.values(json.ids[list]).flat()) total += minimumCost(list, id, lines.get(id) ?? '')
      }
      expect(notifications.length).toBeGreaterThanOrEqual(Math.ceil(total / SNS_MESSAGE_MAX_BYTES))
      // Greedy certificate: without its verbose findings, each part but the last cannot take the next resource.
      notifications.slice(0, -1).forEach((notification, index) => {
        const json = jsonOf(notification)
        const idCount = LISTS.flatMap((list) => Object.values(json.ids[list]).flat()).length
        const bare = { ...json, findings: Object.fromEntries(LISTS.map((list) => [list, []])), truncated: idCount }
        const bytes = Buffer.byteLength(
          JSON.stringify({
            ...envelopeOf(notification),
            sqs: JSON.stringify(bare),
            lambda: JSON.stringify(bare),
            https: JSON.stringify(bare)
          })
        )
        const next = jsonOf(notifications[index + 1] as Notification)
        const list = LISTS.find((name) => Object.values(next.ids[name]).flat().length > 0) as List
        const nextId = LISTS.flatMap((name) => Object.values(next.ids[name]).flat())[0] as string
        expect(bytes + minimumCost(list, nextId, lines.get(nextId) ?? '')).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES)
      })
    })

    it('on a FIFO topic: one message group, a different deduplication ID per part', () => {
      const inputs = buildNotifications(KIND_MODULES, big, `${TOPIC}.fifo`).map(publishInput)
      expect(new Set(inputs.map((input) => input.MessageGroupId))).toEqual(new Set(['packer-sweeper']))
      expect(new Set(inputs.map((input) => input.MessageDeduplicationId)).size).toBe(inputs.length)
      for (const input of inputs) expect(input.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/)
    })
  })

  it('flattens hostile strings from AWS: no CR, no line of its own, no workflow command in text or subject', () => {
    const hostile = 'x\r\n::error::pwned\n::add-mask::y\u2028z'
    const sample = report({
      instances: [
        instance({ outcome: 'failed', error: { code: 'Bad\n::error::code', message: hostile } }),
        instance({ id: instanceId(2), reason: hostile, outcome: 'skipped' })
      ],
      keyPairs: [orphan({ id: `packer_${hostile}`, name: hostile })],
      images: [imageLeftover({ name: hostile, image: { state: hostile, monthlyCost: { unknown: hostile } } })],
      volumes: [volumeLeftover({ volume: { deviceName: hostile, monthlyCost: { unknown: `other ${hostile}` } } })],
      regions: [region({ status: 'failed', failures: [regionFailure({ code: 'AuthFailure', message: hostile })] })],
      errors: [hostile],
      run: { runUrl: `https://example.test/${hostile}` },
      cost: computeCost([], new Map(), NOW)
    })
    const [notification, ...rest] = buildNotifications(KIND_MODULES, sample, TOPIC) as [Notification]
    expect(rest).toEqual([])
    const { default: text } = envelopeOf(notification)
    for (const value of [text, notification.subject]) {
      expect(value).not.toMatch(/[\r\u2028\u2029]/)
      for (const line of value.split('\n')) expect(line.trim()).not.toMatch(/^::/)
    }
    expect(notification.subject).not.toContain('::')
    expect(text).toContain('* Storage price unknown for 1 image, 1 volume: x ::error::pwned ::add-mask::y z; other x')
    // Programs still get the exact strings.
    expect(jsonOf(notification).ids.keyPairs.deleted).toEqual([`packer_${hostile}`])
  })

  it('says so when even one resource next to the run-level errors cannot fit', () => {
    const errors = Array.from({ length: 1000 }, (_, i) => `${i}: ${'x'.repeat(1000)}`)
    expect(() => buildNotifications(KIND_MODULES, report({ errors }), TOPIC)).toThrow(/does not fit in 262144 bytes/)
  })
})

describe('closingSentence', () => {
  it.each<[string, Report['instances'], string, string]>([
    ['all terminated', instances(3), 'terminated', 'They have been terminated.'],
    ['one stopped', instances(1, { outcome: 'stopped' }), 'stopped', 'It has been stopped.'],
    ['reported only', instances(2, { outcome: 'notified' }), 'terminated', 'They have been reported, not changed.'],
    ['dry run', instances(2, { outcome: 'dry-run' }), 'terminated', 'They have not been changed (dry run).'],
    ['all failed', instances(2, { outcome: 'failed' }), 'stopped', 'They could not be stopped.'],
    [
      'mixed',
      [...instances(2), ...instances(1, { outcome: 'failed' }, 3), ...instances(1, { outcome: 'skipped' }, 4)],
      'terminated',
      '2 have been terminated; 1 could not be terminated; 1 has been skipped.'
    ]
  ])('%s', (_, findings, failedVerb, expected) => {
    expect(closingSentence(findings, failedVerb)).toBe(expected)
  })

  it('speaks of leftovers in use', () => {
    expect(closingSentence([orphan(), orphan({ outcome: 'in-use' }), orphan({ outcome: 'in-use' })], 'deleted')).toBe(
      '1 has been deleted; 2 are still in use and have been left alone.'
    )
  })
})

describe('publishInput', () => {
  const notification = {
    topicArn: TOPIC,
    subject: 's',
    message: '{"default":"x"}',
    messageStructure: 'json' as const,
    part: 1,
    parts: 1,
    runId: '0123456789abcdef'
  }

  it('publishes the envelope as MessageStructure json', () => {
    expect(publishInput(notification)).toEqual({
      TopicArn: TOPIC,
      Subject: 's',
      Message: '{"default":"x"}',
      MessageStructure: 'json'
    })
  })

  it('gives a FIFO topic a message group and a deduplication id from the message', () => {
    const fifo = publishInput({ ...notification, topicArn: `${TOPIC}.fifo` })
    expect(fifo.MessageGroupId).toBe('packer-sweeper')
    expect(fifo.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/)
    expect(
      publishInput({ ...notification, topicArn: `${TOPIC}.fifo`, message: '{"default":"y"}' }).MessageDeduplicationId
    ).not.toBe(fifo.MessageDeduplicationId)
  })
})

describe('publishNotifications', () => {
  const sns = mockClient(SNSClient)
  const part = (n: number, parts = 3): Notification => ({
    topicArn: TOPIC,
    subject: `packer-sweeper, part ${n} of ${parts}: 1 stale Packer instance terminated`,
    message: `{"default":"part ${n}"}`,
    messageStructure: 'json',
    part: n,
    parts,
    runId: '0123456789abcdef'
  })
  const parts = [part(1), part(2), part(3)]

  beforeEach(() => {
    sns.reset()
  })

  it("publishes every part in order with one client in the topic's region, with the credentials it is given", async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' })
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }
    const published: number[] = []
    const abort = new AbortController()
    expect(
      await publishNotifications(parts, credentials, {
        abortSignal: abort.signal,
        onPublished: (index) => published.push(index)
      })
    ).toEqual({
      published: 3
    })

    const calls = sns.commandCalls(PublishCommand)
    expect(calls.map((call) => call.args[0].input)).toEqual(parts.map(publishInput))
    expect(published).toEqual([0, 1, 2])
    expect(new Set(sns.calls().map((call) => call.thisValue)).size).toBe(1)
    for (const call of sns.calls()) expect((call.args as unknown[])[1]).toEqual({ abortSignal: abort.signal })
    const client = sns.call(0).thisValue as SNSClient
    expect(await client.config.region()).toBe('eu-central-1')
    expect(await client.config.credentials()).toMatchObject(credentials)
  })

  it('stops at the first refused part and says how many went out', async () => {
    const refusal = Object.assign(new Error('User is not authorized to perform: SNS:Publish'), {
      name: 'AuthorizationError'
    })
    sns.on(PublishCommand).resolvesOnce({ MessageId: 'm-1' }).rejects(refusal)
    const published: number[] = []
    expect(await publishNotifications(parts, undefined, { onPublished: (index) => published.push(index) })).toEqual({
      published: 1,
      error: refusal
    })
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2)
    expect(published).toEqual([0])
  })

  it('publishes nothing, and loads no client, for no parts', async () => {
    expect(await publishNotifications([])).toEqual({ published: 0 })
    expect(sns.calls()).toHaveLength(0)
  })

  it('refuses parts for different topics without publishing any', async () => {
    const result = await publishNotifications([part(1, 2), { ...part(2, 2), topicArn: `${TOPIC}-other` }])
    expect(result.published).toBe(0)
    expect(String(result.error)).toMatch(/one topic/)
    expect(sns.calls()).toHaveLength(0)
  })

  it('loads the SNS client only when publishing, so runs without a topic never pay for it', () => {
    const source = readFileSync(new URL('../../../src/report/notification.ts', import.meta.url), 'utf8')
    expect(source).not.toMatch(/^import (?!type ).*@aws-sdk\/client-sns/m)
    expect(source).toContain("await import('@aws-sdk/client-sns')")
  })
})
