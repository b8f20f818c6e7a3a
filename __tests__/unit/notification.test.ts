import { readFileSync } from 'node:fs'
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns'
import { mockClient } from 'aws-sdk-client-mock'
import * as core from '../../__fixtures__/core.js'
import { instance, instanceId, instances, orphan, region, report, settings } from '../../__fixtures__/report.js'
import type { Report } from '../../src/types.js'

jest.unstable_mockModule('@actions/core', () => core)
const { buildNotification, closingSentence, isTopicArn, notificationText, publishInput, publishNotification, SNS_MESSAGE_MAX_BYTES, SNS_SUBJECT_MAX_LENGTH, topicRegion } =
  await import('../../src/notification.js')

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:packer-alerts'

interface Envelope {
  default: string
  email: string
  sqs: string
  lambda: string
  https: string
}
type ReportOutput = Report & { truncated?: Record<string, number> }

function build(overrides: Partial<Report>) {
  const notification = buildNotification(report(overrides), TOPIC)
  if (!notification) throw new Error('expected a notification')
  return { ...notification, envelope: JSON.parse(notification.message) as Envelope }
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

describe('buildNotification', () => {
  it.each<[string, Partial<Report>]>([
    ['a clean run', {}],
    ['a run that only skipped', { instances: instances(2, { outcome: 'skipped' }), keyPairs: [orphan({ outcome: 'skipped' })] }]
  ])('is undefined for %s', (_, overrides) => {
    expect(buildNotification(report(overrides), TOPIC)).toBeUndefined()
  })

  it.each<[string, Partial<Report>, string]>([
    ['terminated', { instances: instances(3) }, 'packer-sweeper: 3 stale Packer instances terminated'],
    ['stopped', { settings: settings({ action: 'stop' }), instances: instances(1, { outcome: 'stopped' }) }, 'packer-sweeper: 1 stale Packer instance stopped'],
    ['notify', { settings: settings({ action: 'notify' }), instances: instances(2, { outcome: 'notified' }) }, 'packer-sweeper: 2 stale Packer instances found'],
    [
      'dry run',
      { settings: settings({ 'dry-run': true }), instances: instances(3, { outcome: 'dry-run' }) },
      'packer-sweeper: 3 stale Packer instances found (dry run)'
    ],
    ['partly failed', { instances: [...instances(2), ...instances(1, { outcome: 'failed' }, 3)] }, 'packer-sweeper: 3 stale Packer instances (2 terminated, 1 failed)'],
    ['only a failed region', { regions: [region({ status: 'failed' }), region({ region: 'us-east-1', status: 'failed' })] }, 'packer-sweeper: 2 regions failed'],
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
  ])('subject when %s', (_, overrides, expected) => {
    expect(build(overrides).subject).toBe(expected)
  })

  it('keeps the subject under 100 printable ASCII characters whatever the counts', () => {
    const { subject } = build({
      settings: settings({ 'dry-run': true }),
      instances: [...instances(40_000, { outcome: 'failed' }), ...instances(40_000, { outcome: 'dry-run' }, 40_001)],
      keyPairs: Array.from({ length: 1000 }, (_, i) => orphan({ id: `k${i}`, outcome: i % 2 ? 'failed' : 'dry-run' })),
      regions: Array.from({ length: 30 }, (_, i) => region({ region: `r-${i}`, status: 'failed' })),
      errors: Array.from({ length: 12 }, () => 'e')
    })
    expect(subject.length).toBeLessThanOrEqual(SNS_SUBJECT_MAX_LENGTH)
    expect(subject).toMatch(/^[\x20-\x7e]+$/)
    expect(subject).toMatch(/^packer-sweeper: 80000 stale instances \(40000 failed\)/)
  })

  it('sends the text to people and the compact JSON report to programs', () => {
    const sample = report({ instances: instances(2) })
    const notification = buildNotification(sample, TOPIC)
    expect(notification).toMatchObject({ topicArn: TOPIC, messageStructure: 'json' })
    const envelope = JSON.parse(notification?.message ?? '') as Envelope
    expect(Object.keys(envelope).sort()).toEqual(['default', 'email', 'https', 'lambda', 'sqs'])
    expect(envelope.email).toBe(envelope.default)
    expect(envelope.default).toBe(notificationText(sample, Number.MAX_SAFE_INTEGER))
    for (const protocol of ['sqs', 'lambda', 'https'] as const) expect(envelope[protocol]).toBe(JSON.stringify(sample))
  })

  it("extends Packer Cleaner's text with region, age, outcome, leftovers, failed regions, errors and the run link", () => {
    const { envelope } = build({
      errors: ['fail-on-stale: 3 stale resources were found'],
      regions: [region(), region({ region: 'ap-east-1', status: 'failed', error: { code: 'AuthFailure', message: 'AWS was not able to validate\nthe credentials' } })],
      instances: [
        instance({ id: instanceId(2), region: 'us-east-1', ageSeconds: 90_000 }),
        instance({ outcome: 'failed', error: { code: 'OperationNotPermitted', message: 'may not be terminated' } })
      ],
      securityGroups: [orphan({ kind: 'security-groups', id: 'sg-0abc', name: 'packer_6745a1b2', ageSeconds: undefined, ageSource: 'unknown', outcome: 'skipped', reason: 'age unknown' })]
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
        'These regions could not be swept:',
        '* ap-east-1: AuthFailure: AWS was not able to validate the credentials',
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
  })

  it('fits in 256 KiB with tens of thousands of findings, cutting the text lists and the JSON report', () => {
    const message = 'The instance may not be terminated because its disableApiTermination attribute is set. '.repeat(3)
    const big = report({
      instances: instances(20_000, { name: 'ünïcödé build 🚀', outcome: 'failed', error: { code: 'OperationNotPermitted', message } }),
      keyPairs: Array.from({ length: 4000 }, (_, i) => orphan({ id: `packer_${i}`, name: `packer_${i}` }))
    })
    const notification = buildNotification(big, TOPIC)
    const bytes = Buffer.byteLength(notification?.message ?? '')
    expect(bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES)
    expect(bytes).toBeGreaterThan(SNS_MESSAGE_MAX_BYTES * 0.9) // cut to fit, not cut to nothing

    const envelope = JSON.parse(notification?.message ?? '') as Envelope
    const listed = envelope.default.split('\n').filter((line) => line.startsWith('* ')).length
    const more = [...envelope.default.matchAll(/^… and (\d+) more$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
    expect(listed + more).toBe(24_000)
    expect(envelope.default).toContain('They could not be terminated.')
    expect(envelope.default).toContain('Workflow run: https://github.com/acme/images/actions/runs/42')

    const json = JSON.parse(envelope.sqs) as ReportOutput
    expect(json.instances.length).toBeGreaterThan(0)
    expect(json.truncated).toEqual({ instances: 20_000 - json.instances.length, keyPairs: 4000 - json.keyPairs.length, securityGroups: 0, launchTemplates: 0 })
    expect(json.instances).toEqual(big.instances.slice(0, json.instances.length))
  })

  it('says so when even the uncut parts cannot fit', () => {
    const errors = Array.from({ length: 1000 }, (_, i) => `${i}: ${'x'.repeat(1000)}`)
    expect(() => buildNotification(report({ errors }), TOPIC)).toThrow(/does not fit in 262144 bytes/)
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
  const notification = { topicArn: TOPIC, subject: 's', message: '{"default":"x"}', messageStructure: 'json' as const }

  it('publishes the envelope as MessageStructure json', () => {
    expect(publishInput(notification)).toEqual({ TopicArn: TOPIC, Subject: 's', Message: '{"default":"x"}', MessageStructure: 'json' })
  })

  it('gives a FIFO topic a message group and a deduplication id from the message', () => {
    const fifo = publishInput({ ...notification, topicArn: `${TOPIC}.fifo` })
    expect(fifo.MessageGroupId).toBe('packer-sweeper')
    expect(fifo.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/)
    expect(publishInput({ ...notification, topicArn: `${TOPIC}.fifo`, message: '{"default":"y"}' }).MessageDeduplicationId).not.toBe(fifo.MessageDeduplicationId)
  })
})

describe('publishNotification', () => {
  const sns = mockClient(SNSClient)
  const notification = { topicArn: TOPIC, subject: 'packer-sweeper: 1 stale Packer instance terminated', message: '{"default":"x"}', messageStructure: 'json' as const }

  beforeEach(() => {
    sns.reset()
  })

  it("publishes once, in the topic's region, with the credentials it is given", async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' })
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' }
    await publishNotification(notification, credentials)

    const calls = sns.commandCalls(PublishCommand)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.args[0].input).toEqual(publishInput(notification))
    const client = sns.call(0).thisValue as SNSClient
    expect(await client.config.region()).toBe('eu-central-1')
    expect(await client.config.credentials()).toMatchObject(credentials)
  })

  it('lets a refused publish reach the caller', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('User is not authorized to perform: SNS:Publish'), { name: 'AuthorizationError' }))
    await expect(publishNotification(notification)).rejects.toThrow('not authorized')
  })

  it('loads the SNS client only when publishing, so runs without a topic never pay for it', () => {
    const source = readFileSync(new URL('../../src/notification.ts', import.meta.url), 'utf8')
    expect(source).not.toMatch(/^import (?!type ).*@aws-sdk\/client-sns/m)
    expect(source).toContain("await import('@aws-sdk/client-sns')")
  })
})
