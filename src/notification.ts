/**
 * The SNS notification: Packer Cleaner's plain-text message for people (email, SMS, `default`)
 * and the JSON report for programs (SQS, Lambda, HTTPS), in one MessageStructure=json publish.
 * Building it is pure; publishing is one call, and the SNS client is loaded only when there
 * is something to publish, so a run without a topic never pays for loading it.
 */
import { createHash } from 'node:crypto'
import type { PublishCommandInput } from '@aws-sdk/client-sns'
import type { AwsCredentialIdentity } from '@smithy/types'
import { formatAwsError } from './aws-errors.js'
import { clientConfig } from './clients.js'
import { costParagraphs } from './cost.js'
import { describeOutcome, formatAge, formatMaxAge, oneLine } from './format.js'
import { headline, needsAttention, ORPHAN_KINDS, outcomeCounts, reportJsonWithin } from './report.js'
import type { InstanceFinding, OrphanFinding, Outcome, Report } from './types.js'

/** SNS refuses a message over 256 KiB, UTF-8. */
export const SNS_MESSAGE_MAX_BYTES = 262_144
/** SNS wants a subject under 100 characters, without line breaks or control characters. */
export const SNS_SUBJECT_MAX_LENGTH = 99
/**
 * Bytes of list lines in the text, tried in turn until the envelope fits: the text goes out
 * twice (default, email) and the report three times (sqs, lambda, https), so long text
 * crowds out the report that programs read.
 */
const TEXT_LIST_BUDGETS = [48 * 1024, 16 * 1024, 4 * 1024, 0]
const MAX_TEXT_ERROR_LENGTH = 500

export interface Notification {
  topicArn: string
  subject: string
  /** The MessageStructure=json envelope: one message per protocol. */
  message: string
  messageStructure: 'json'
}

const TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:([a-z]+(?:-[a-z]+)+-\d+):\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/

/** `arn:<partition>:sns:<region>:<account>:<name>`, in any partition (aws, aws-cn, aws-us-gov, …). */
export function isTopicArn(value: string): boolean {
  return TOPIC_ARN.test(value)
}

/** The region a topic lives in, where it must be published to. */
export function topicRegion(arn: string): string {
  const region = TOPIC_ARN.exec(arn)?.[1]
  if (!region) throw new Error(`sns-topic-arn: "${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`)
  return region
}

/**
 * The headline, or its brief form when that is too long, in printable ASCII only (the headline
 * is ASCII already; this makes it a rule) and under SNS's limit, cut as a last resort.
 */
export function subjectFor(report: Report): string {
  const subject = (line: string) => `packer-sweeper: ${line}`.replace(/[^\x20-\x7e]/g, '')
  const full = subject(headline(report))
  if (full.length <= SNS_SUBJECT_MAX_LENGTH) return full
  const brief = subject(headline(report, { brief: true }))
  return brief.length <= SNS_SUBJECT_MAX_LENGTH ? brief : `${brief.slice(0, SNS_SUBJECT_MAX_LENGTH - 3)}...`
}

/** `have been terminated`, per outcome and number: the honest version of "They have been stopped/terminated". */
function outcomeVerb(outcome: Outcome, plural: boolean, failedVerb: string): string {
  const has = plural ? 'have' : 'has'
  switch (outcome) {
    case 'stopped':
    case 'terminated':
    case 'deleted':
    case 'skipped':
      return `${has} been ${outcome}`
    case 'notified':
      return `${has} been reported, not changed`
    case 'dry-run':
      return `${has} not been changed (dry run)`
    case 'in-use':
      return `${plural ? 'are' : 'is'} still in use and ${has} been left alone`
    case 'failed':
      return `could not be ${failedVerb}`
  }
}

/**
 * "They have been terminated." when all went one way; otherwise one clause per outcome:
 * "2 have been terminated; 1 could not be terminated."
 */
export function closingSentence(findings: readonly (InstanceFinding | OrphanFinding)[], failedVerb: string): string {
  const counts = outcomeCounts(findings)
  const [only] = counts
  if (counts.length === 1 && only) return `${only[1] === 1 ? 'It' : 'They'} ${outcomeVerb(only[0], only[1] > 1, failedVerb)}.`
  return `${counts.map(([outcome, count]) => `${count} ${outcomeVerb(outcome, count > 1, failedVerb)}`).join('; ')}.`
}

/** Bytes left for list lines, shared by every list of one message. */
interface LineBudget {
  bytes: number
}

/** The lines that fit the budget, then "… and N more" for the rest. */
function listLines(lines: readonly string[], budget: LineBudget): string[] {
  const shown: string[] = []
  for (const line of lines) {
    const bytes = Buffer.byteLength(line) + 1
    if (bytes > budget.bytes) break
    budget.bytes -= bytes
    shown.push(line)
  }
  if (shown.length < lines.length) shown.push(`… and ${lines.length - shown.length} more`)
  return shown
}

const byRegionThenId = (a: { region: string; id: string }, b: { region: string; id: string }) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id)

function instanceLine(finding: InstanceFinding): string {
  return `* ${finding.id} (${finding.region}, ${formatAge(finding.ageSeconds)}, ${oneLine(describeOutcome(finding), MAX_TEXT_ERROR_LENGTH)})`
}

function orphanLine(finding: OrphanFinding): string {
  const name = finding.name && finding.name !== finding.id ? ` ${oneLine(finding.name)}` : ''
  const age = finding.ageSeconds === undefined ? 'age unknown' : formatAge(finding.ageSeconds)
  return `* ${finding.id}${name} (${finding.region}, ${age}, ${oneLine(describeOutcome(finding), MAX_TEXT_ERROR_LENGTH)})`
}

/** The plain-text message, with at most `listBytes` of resource lines. */
export function notificationText(report: Report, listBytes: number): string {
  const budget: LineBudget = { bytes: listBytes }
  const settings = report.settings
  const paragraphs: string[] = []
  if (report.instances.length > 0) {
    const failedVerb = settings.action === 'stop' ? 'stopped' : 'terminated'
    paragraphs.push(
      [
        'The following instances were running too long:',
        ...listLines([...report.instances].sort(byRegionThenId).map(instanceLine), budget),
        closingSentence(report.instances, failedVerb)
      ].join('\n')
    )
  }
  const orphans = ORPHAN_KINDS.filter(({ key }) => report[key].length > 0)
  if (orphans.length > 0) {
    const lines = ['The following Packer leftovers were found:']
    for (const { key, title } of orphans) lines.push(`${title}:`, ...listLines([...report[key]].sort(byRegionThenId).map(orphanLine), budget))
    lines.push(closingSentence(orphans.flatMap(({ key }) => report[key]), 'deleted'))
    paragraphs.push(lines.join('\n'))
  }
  paragraphs.push(...costParagraphs(report.cost))
  const failedRegions = report.regions.filter((region) => region.status === 'failed')
  if (failedRegions.length > 0) {
    const lines = failedRegions.map(({ region, error }) => `* ${region}: ${oneLine(error ? formatAwsError(error) : 'failed', MAX_TEXT_ERROR_LENGTH)}`)
    paragraphs.push(['These regions could not be swept:', ...lines].join('\n'))
  }
  if (report.errors.length > 0) {
    paragraphs.push(['Errors:', ...report.errors.map((error) => `* ${oneLine(error, MAX_TEXT_ERROR_LENGTH)}`)].join('\n'))
  }
  const settingsParts = [
    `action ${settings.action}`,
    `max-age ${formatMaxAge(settings['max-age'])}`,
    `regions ${settings.regions.join(', ') || 'none'}`,
    ...(settings['dry-run'] ? ['dry run: nothing was changed'] : [])
  ]
  paragraphs.push(`Settings: ${settingsParts.join(', ')}`)
  if (report.run.runUrl) paragraphs.push(`Workflow run: ${report.run.runUrl}`)
  return `${paragraphs.join('\n\n')}\n`
}

/** Protocols that get the JSON report; the others fall back to `default`, the text. */
const JSON_PROTOCOLS = ['sqs', 'lambda', 'https'] as const

function envelope(text: string, reportJson: string): string {
  return JSON.stringify({ default: text, email: text, ...Object.fromEntries(JSON_PROTOCOLS.map((protocol) => [protocol, reportJson])) })
}

/** Bytes a string takes inside the envelope: JSON-escaped, without its quotes. */
const escapedBytes = (value: string) => Buffer.byteLength(JSON.stringify(value)) - 2

/**
 * The envelope with this text and the largest report that fits beside it, or undefined when
 * not even the report without resource lists fits. The envelope's size is the size with
 * empty reports plus the escaped report once per JSON protocol: exact, then checked again.
 */
function envelopeWithin(text: string, report: Report): string | undefined {
  const withoutReport = Buffer.byteLength(envelope(text, ''))
  const perProtocol = Math.floor((SNS_MESSAGE_MAX_BYTES - withoutReport) / JSON_PROTOCOLS.length)
  const reportJson = reportJsonWithin(report, perProtocol, escapedBytes)
  if (reportJson === undefined) return undefined
  const message = envelope(text, reportJson)
  return Buffer.byteLength(message) <= SNS_MESSAGE_MAX_BYTES ? message : undefined
}

/**
 * The notification for this report, or undefined when there is nothing to tell: nothing was
 * selected for the action and nothing failed. Long lists are cut ("… and N more" in the text,
 * `truncated` in the JSON) until the message fits SNS's 256 KiB.
 */
export function buildNotification(report: Report, topicArn: string): Notification | undefined {
  if (!needsAttention(report)) return undefined
  for (const listBytes of TEXT_LIST_BUDGETS) {
    const message = envelopeWithin(notificationText(report, listBytes), report)
    if (message !== undefined) return { topicArn, subject: subjectFor(report), message, messageStructure: 'json' }
  }
  // Only run-level errors and failed regions are never cut; it takes megabytes of them to get here.
  throw new Error(`the SNS message does not fit in ${SNS_MESSAGE_MAX_BYTES} bytes even with every resource list cut`)
}

/**
 * The Publish request. A FIFO topic requires a message group and (unless content-based
 * deduplication is on) a deduplication id; the message's hash is a correct one for both cases.
 */
export function publishInput(notification: Notification): PublishCommandInput {
  const input: PublishCommandInput = {
    TopicArn: notification.topicArn,
    Subject: notification.subject,
    Message: notification.message,
    MessageStructure: notification.messageStructure
  }
  if (notification.topicArn.endsWith('.fifo')) {
    input.MessageGroupId = 'packer-sweeper'
    input.MessageDeduplicationId = createHash('sha256').update(notification.message).digest('hex')
  }
  return input
}

/** One Publish in the topic's own region. Errors propagate: main fails the step after writing outputs and summary. */
export async function publishNotification(notification: Notification, credentials?: AwsCredentialIdentity): Promise<void> {
  const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns')
  const client = new SNSClient(clientConfig({ region: topicRegion(notification.topicArn), credentials }))
  try {
    await client.send(new PublishCommand(publishInput(notification)))
  } finally {
    // Close the connection pool now rather than leaving sockets that keep the step alive.
    client.destroy()
  }
}
