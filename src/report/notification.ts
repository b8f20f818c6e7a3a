/**
 * The SNS notification: Packer Cleaner's plain-text message for people (email, SMS: `default`)
 * and a JSON document for programs (SQS, Lambda, HTTPS), as MessageStructure=json publishes.
 * Every resource's ID and outcome reaches every subscriber: when one 256 KiB message cannot hold
 * them all, the notification is split into numbered parts, packed greedily so there are as few
 * as possible. Building is pure; publishing loads the SNS client only when there is something to
 * publish, so a run without a topic never pays for loading it. The kinds whose resources it lists
 * are a parameter: main.ts hands it the registry's KIND_MODULES.
 */
import { recordOf } from '../model/record.js'
import { createHash } from 'node:crypto'
import type { PublishCommandInput } from '@aws-sdk/client-sns'
import type { AwsCredentialIdentity } from '@smithy/types'
import * as core from '@actions/core'
import { clientConfig } from '../aws/clients.js'
import { describeAwsError, errorMessage } from '../aws/errors.js'
import { RECORD_BY_MS, type RunControl } from '../engine/run-control.js'
import { PERMISSION } from '../model/permissions.js'
import { costParagraphs, formatUsd } from '../model/cost.js'
import {
  byRegionThenId,
  describeOutcome,
  formatAge,
  formatAwsError,
  formatMaxAge,
  oneLine,
  outcomeCounts,
  shortMessage
} from '../model/format.js'
import { isBuilderKind, type KindModule } from '../engine/kind.js'
import { KIND_NAMES, REPORT_LISTS, type ListName } from '../kinds/names.js'
import { storageTotals } from './cost-estimate.js'
import { findingsOf } from './lists.js'
import { largestFitting } from '../model/fitting.js'
import { headline, isNotSwept, needsAttention, regionLine } from './report.js'
import { topicRegion } from '../aws/sns-topic.js'
import type { Finding, InstanceFinding, Inputs, OrphanFinding, Outcome } from '../model/types.js'
import type { Report } from './types.js'

/** SNS refuses a message over 256 KiB, UTF-8. */
export const SNS_MESSAGE_MAX_BYTES = 262_144
/** SNS wants a subject under 100 characters, without line breaks or control characters. */
export const SNS_SUBJECT_MAX_LENGTH = 99
/** `kind` and `version` of the JSON document for programs. */
export const NOTIFICATION_KIND = 'packer-sweeper'
export const NOTIFICATION_VERSION = 2
/** IDs are never shortened in the text (key pair names have at most 255 characters). */
const MAX_TEXT_ID_LENGTH = 1024

/** One Publish: one part of the notification. */
export interface Notification {
  topicArn: string
  subject: string
  /** The MessageStructure=json envelope: `default` (the text) and the JSON for sqs, lambda and https. */
  message: string
  messageStructure: 'json'
  /** 1-based; the parts of one run are published in this order. */
  part: number
  parts: number
  /** The same in every part of one run: see notificationRunId. */
  runId: string
}

/**
 * The headline, or its brief form when that is too long, in printable ASCII only (the headline
 * is ASCII already; this makes it a rule) and under SNS's limit, cut as a last resort. A split
 * notification says which part this is first, where the cut cannot reach it.
 */
export function subjectFor(report: Report, part = 1, parts = 1): string {
  const prefix = parts > 1 ? `packer-sweeper, part ${part} of ${parts}: ` : 'packer-sweeper: '
  const subject = (line: string) => `${prefix}${line}`.replace(/[^\x20-\x7e]/g, '')
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
    case 'unknown':
      return `may or may not have been ${failedVerb}: the call got no answer`
  }
}

/**
 * "They have been terminated." when all went one way; otherwise one clause per outcome:
 * "2 have been terminated; 1 could not be terminated."
 */
export function closingSentence(findings: readonly Finding[], failedVerb: string): string {
  const counts = outcomeCounts(findings)
  const [only] = counts
  if (counts.length === 1 && only)
    return `${only[1] === 1 ? 'It' : 'They'} ${outcomeVerb(only[0], only[1] > 1, failedVerb)}.`
  return `${counts.map(([outcome, count]) => `${count} ${outcomeVerb(outcome, count > 1, failedVerb)}`).join('; ')}.`
}

function instanceLine(finding: InstanceFinding): string {
  return `* ${oneLine(finding.id, MAX_TEXT_ID_LENGTH)} (${oneLine(finding.region)}, ${formatAge(finding.ageSeconds)}, ${describeOutcome(finding)})`
}

function orphanLine(kind: KindModule, finding: OrphanFinding): string {
  const name = finding.name && finding.name !== finding.id ? ` ${oneLine(finding.name)}` : ''
  const age = finding.ageSeconds === undefined ? 'age unknown' : formatAge(finding.ageSeconds)
  // What the kind adds comes after Packer Cleaner's `(region, age, outcome)`, which programs may parse.
  const details = [...columnWords(kind, finding), ...monthlyCostWords(kind, finding)]
  return `* ${oneLine(finding.id, MAX_TEXT_ID_LENGTH)}${name} (${oneLine(finding.region)}, ${age}, ${describeOutcome(finding)})${details.length > 0 ? `; ${details.join(', ')}` : ''}`
}

/** The kind's own columns, as the summary shows them, in words: `state available, snapshots 2`; empty ones left out. */
function columnWords(kind: KindModule, finding: OrphanFinding): string[] {
  const columns = kind.columns
  if (!columns) return []
  const cells = columns.cells(finding)
  return columns.headers.flatMap((header, index) => {
    const cell = cells[index]
    const value = cell === undefined ? '' : 'data' in cell ? oneLine(cell.data) : cell.text
    return value ? [`${header.toLowerCase()} ${value}`] : []
  })
}

/** What the resource costs to keep, once priced: `up to $0.40 a month`, or `cost unknown`. */
function monthlyCostWords(kind: KindModule, finding: OrphanFinding): string[] {
  const storage = kind.storageCost
  const cost = storage?.monthlyCost(finding)
  if (!storage || !cost) return []
  if ('unknown' in cost) return ['cost unknown']
  return [`${storage.upperBound ? 'up to ' : ''}${formatUsd(cost.usdPerMonth)} a month`]
}

/** The resource lists of a report (one per kind), in the kinds' order, as the notification lists them. */
export type ResourceList = ListName
const RESOURCE_LISTS: readonly ResourceList[] = KIND_NAMES.map((kind) => REPORT_LISTS[kind])

/** One resource as the notification carries it: its list, its finding and its line of text. */
interface Entry {
  list: ResourceList
  /** True for the builders, which have a paragraph of their own. */
  builder: boolean
  finding: Finding
  line: string
}

/** Every resource of the report, kind by kind in the order of `kinds`, each by region and ID. */
function entriesOf(kinds: readonly KindModule[], report: Report): Entry[] {
  return kinds.flatMap((kind) =>
    [...findingsOf(report, kind.name)].sort(byRegionThenId).map((finding): Entry => ({
      list: REPORT_LISTS[kind.name],
      builder: isBuilderKind(kind),
      finding,
      line: 'kind' in finding ? orphanLine(kind, finding) : instanceLine(finding)
    }))
  )
}

/** Resource IDs by outcome, e.g. `{ "terminated": [...], "failed": [...] }`. */
export type IdsByOutcome = Partial<Record<Outcome, string[]>>

function idsByOutcome(entries: readonly Entry[]): Record<ResourceList, IdsByOutcome> {
  const ids = recordOf(
    RESOURCE_LISTS,
    (list) => list,
    (): IdsByOutcome => ({})
  )
  for (const { list, finding } of entries) (ids[list][finding.outcome] ??= []).push(finding.id)
  return ids
}

function countsByOutcome(entries: readonly Entry[]): Record<ResourceList, Partial<Record<Outcome, number>>> {
  const ids = idsByOutcome(entries)
  return recordOf(
    RESOURCE_LISTS,
    (list) => list,
    (list): Partial<Record<Outcome, number>> =>
      Object.fromEntries(Object.entries(ids[list]).map(([outcome, listed]) => [outcome, listed.length]))
  )
}

/**
 * The JSON document for programs, one per part. The ID lists come first and are never cut; the
 * verbose findings of the part's resources follow as far as they fit, `truncated` counting those
 * left out. `regions` and `errors` are in part 1 only.
 */
export interface NotificationJson {
  kind: typeof NOTIFICATION_KIND
  version: typeof NOTIFICATION_VERSION
  runId: string
  part: number
  parts: number
  /** This part's resources: every ID of the run is in exactly one part. */
  ids: Record<ResourceList, IdsByOutcome>
  /** How many resources the whole run has per list and outcome, over all parts. */
  totals: Record<ResourceList, Partial<Record<Outcome, number>>>
  headline: string
  startedAt: string
  finishedAt: string
  run: Report['run']
  settings: Report['settings']
  regions?: Report['regions']
  errors?: Report['errors']
  /** The full findings of this part's resources, in the order of `ids`, as far as they fit. */
  findings: Record<ResourceList, Finding[]>
  /** Findings of this part's resources left out of `findings` for size; their IDs are in `ids`. */
  truncated: number
}

/** What every part of one notification shares. */
interface Context {
  kinds: readonly KindModule[]
  report: Report
  runId: string
  totals: NotificationJson['totals']
  headline: string
}

/**
 * The run identifier in every part of one notification: the first 16 hex digits of the SHA-256
 * of the workflow run URL and the time the sweep started (`<runUrl>\n<startedAt>`), so the jobs
 * of one workflow run (a matrix over accounts) and the re-runs of one job all differ.
 */
export function notificationRunId(report: Report): string {
  return createHash('sha256')
    .update(`${report.run.runUrl ?? ''}\n${report.startedAt}`)
    .digest('hex')
    .slice(0, 16)
}

/** The plain text of one part: every resource of the part on its own line. */
function partText(context: Context, entries: readonly Entry[], part: number, parts: number): string {
  const { report } = context
  const settings = report.settings
  const paragraphs: string[] = []
  if (parts > 1)
    paragraphs.push(
      `Part ${part} of ${parts} of packer-sweeper run ${context.runId}; every resource is listed in exactly one part.`
    )
  const instances = entries.filter((entry) => entry.builder)
  if (instances.length > 0) {
    const failedVerb = settings.action === 'stop' ? 'stopped' : 'terminated'
    paragraphs.push(
      [
        'The following instances were running too long:',
        ...instances.map((entry) => entry.line),
        closingSentence(
          instances.map((entry) => entry.finding),
          failedVerb
        )
      ].join('\n')
    )
  }
  const orphans = entries.filter((entry) => !entry.builder)
  if (orphans.length > 0) {
    const lines = ['The following Packer leftovers were found:']
    for (const { name, nouns } of context.kinds) {
      const ofKind = orphans.filter((entry) => entry.list === REPORT_LISTS[name])
      if (ofKind.length > 0) lines.push(`${nouns.title}:`, ...ofKind.map((entry) => entry.line))
    }
    lines.push(
      closingSentence(
        orphans.map((entry) => entry.finding),
        'deleted'
      )
    )
    paragraphs.push(lines.join('\n'))
  }
  if (part === 1) {
    paragraphs.push(...costParagraphs(report.cost, storageTotals(context.kinds, report)))
    const notSwept = report.regions.filter(isNotSwept)
    if (notSwept.length > 0) {
      const lines = notSwept.map((region) => `* ${regionLine(context.kinds, region, settings.resources)}`)
      paragraphs.push(['These regions could not be swept in full:', ...lines].join('\n'))
    }
    if (report.errors.length > 0) {
      paragraphs.push(['Errors:', ...report.errors.map((error) => `* ${shortMessage(error)}`)].join('\n'))
    }
  }
  const settingsParts = [
    `action ${settings.action}`,
    `max-age ${formatMaxAge(settings['max-age'])}`,
    `regions ${settings.regions.join(', ') || 'none'}`,
    ...(settings['dry-run'] ? ['dry run: nothing was changed'] : [])
  ]
  paragraphs.push(oneLine(`Settings: ${settingsParts.join(', ')}`, 4096))
  if (report.run.runUrl) paragraphs.push(`Workflow run: ${oneLine(report.run.runUrl, 2048)}`)
  return `${paragraphs.join('\n\n')}\n`
}

/** The JSON of one part, with the findings of its first `keep` resources. */
function partJson(context: Context, entries: readonly Entry[], part: number, parts: number, keep: number): string {
  const { report } = context
  const findings: NotificationJson['findings'] = recordOf(
    RESOURCE_LISTS,
    (list) => list,
    (): Finding[] => []
  )
  for (const { list, finding } of entries.slice(0, keep)) findings[list].push(finding)
  const json: NotificationJson = {
    kind: NOTIFICATION_KIND,
    version: NOTIFICATION_VERSION,
    runId: context.runId,
    part,
    parts,
    ids: idsByOutcome(entries),
    totals: context.totals,
    headline: context.headline,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    run: report.run,
    settings: report.settings,
    ...(part === 1 ? { regions: report.regions, errors: report.errors } : {}),
    findings,
    truncated: entries.length - keep
  }
  return JSON.stringify(json)
}

/** Protocols that get the JSON; the others (email, email-json, sms, …) fall back to `default`, the text. */
const JSON_PROTOCOLS = ['sqs', 'lambda', 'https'] as const

function envelope(text: string, json: string): string {
  return JSON.stringify({ default: text, ...Object.fromEntries(JSON_PROTOCOLS.map((protocol) => [protocol, json])) })
}

/** Bytes a string takes inside the envelope: JSON-escaped, without its quotes. */
const escapedBytes = (value: string) => Buffer.byteLength(JSON.stringify(value)) - 2
/** The envelope's bytes besides the escaped text and JSON: keys, quotes, braces. */
const ENVELOPE_OVERHEAD = Buffer.byteLength(envelope('', ''))

/** The bytes `envelope(text, json)` takes, without building it. */
function envelopeBytes(text: string, json: string): number {
  return ENVELOPE_OVERHEAD + escapedBytes(text) + JSON_PROTOCOLS.length * escapedBytes(json)
}

/** What one resource adds to an envelope at least: its text line and its ID, escaped, once per JSON protocol. */
function entryBytes(entry: Entry): number {
  return escapedBytes(entry.line) + 2 + JSON_PROTOCOLS.length * (escapedBytes(JSON.stringify(entry.finding.id)) + 1)
}

/**
 * The resources split into parts, greedily: each part takes resources in order until the next
 * would push its envelope (text and ID lists, without verbose findings) over 256 KiB. The text
 * and the JSON only grow as resources are added, so this gives the fewest parts possible.
 */
function pack(context: Context, entries: readonly Entry[], parts: number, hint: number): Entry[][] {
  const packed: Entry[][] = []
  let start = 0
  do {
    const part = packed.length + 1
    const rest = entries.length - start
    const fits = (count: number) => {
      const slice = entries.slice(start, start + count)
      return (
        envelopeBytes(partText(context, slice, part, parts), partJson(context, slice, part, parts, 0)) <=
        SNS_MESSAGE_MAX_BYTES
      )
    }
    // Only run-level errors and failed regions (part 1) are never spread; it takes megabytes of them to get here.
    if (!fits(0) || (rest > 0 && !fits(1)))
      throw new Error(`the SNS message does not fit in ${SNS_MESSAGE_MAX_BYTES} bytes even with one resource per part`)
    const count = largestFitting(rest, fits, packed.at(-1)?.length ?? hint)
    packed.push(entries.slice(start, start + count))
    start += count
  } while (start < entries.length)
  return packed
}

/**
 * The notification for this report as parts to publish in order, or none when there is nothing
 * to tell: nothing was selected for the action and nothing failed. Each part is a complete
 * MessageStructure=json envelope of at most 256 KiB: the text lists every resource of the part,
 * the JSON its IDs by outcome, then as many of its full findings as fit.
 */
export function buildNotifications(kinds: readonly KindModule[], report: Report, topicArn: string): Notification[] {
  if (!needsAttention(report)) return []
  const entries = entriesOf(kinds, report)
  const context: Context = {
    kinds,
    report,
    runId: notificationRunId(report),
    totals: countsByOutcome(entries),
    headline: headline(report)
  }
  // The part count is in every part ("part 2 of 3"): pack until the count packed is the count assumed.
  // A first guess from the bytes each resource needs at least, to spare most rounds and probes.
  const bytes = entries.reduce((sum, entry) => sum + entryBytes(entry), 0)
  const perEntry = entries.length > 0 ? bytes / entries.length : 1
  let assumed = Math.max(1, Math.ceil(bytes / SNS_MESSAGE_MAX_BYTES))
  const hint = Math.floor(SNS_MESSAGE_MAX_BYTES / perEntry)
  let packed = pack(context, entries, assumed, hint)
  for (let round = 0; round < 8 && packed.length !== assumed; round++) {
    assumed = packed.length
    packed = pack(context, entries, assumed, hint)
  }
  if (packed.length !== assumed)
    throw new Error(`the SNS message does not settle on a number of parts (${assumed} or ${packed.length})`)
  const parts = packed.length
  return packed.map((slice, index) => {
    const part = index + 1
    const text = partText(context, slice, part, parts)
    const textBytes = escapedBytes(text)
    const keep = largestFitting(
      slice.length,
      (count) =>
        ENVELOPE_OVERHEAD +
          textBytes +
          JSON_PROTOCOLS.length * escapedBytes(partJson(context, slice, part, parts, count)) <=
        SNS_MESSAGE_MAX_BYTES
    )
    const message = envelope(text, partJson(context, slice, part, parts, keep))
    if (Buffer.byteLength(message) > SNS_MESSAGE_MAX_BYTES)
      throw new Error(`part ${part} of the SNS message takes more than ${SNS_MESSAGE_MAX_BYTES} bytes`)
    return {
      topicArn,
      subject: subjectFor(report, part, parts),
      message,
      messageStructure: 'json',
      part,
      parts,
      runId: context.runId
    }
  })
}

/**
 * The Publish request. A FIFO topic requires a message group and (unless content-based
 * deduplication is on) a deduplication id: one group for every part, so they arrive in order,
 * and the message's hash, which differs per part (each says which part it is).
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

export interface PublishOptions {
  /** Cancels the publish in flight; the parts not yet sent are not sent. */
  abortSignal?: AbortSignal
  /** Called after each part SNS accepted, with its index in `notifications`. */
  onPublished?: (index: number) => void
}

/**
 * Publishes the parts in order with one client in the topic's region, stopping at the first
 * failure. Never throws: the result says how many parts went out and what stopped the rest, and
 * main fails the step after writing outputs and summary.
 */
export async function publishNotifications(
  notifications: readonly Notification[],
  credentials?: AwsCredentialIdentity,
  options: PublishOptions = {}
): Promise<{ published: number; error?: unknown }> {
  const [first] = notifications
  if (!first) return { published: 0 }
  let published = 0
  try {
    const other = notifications.find((notification) => notification.topicArn !== first.topicArn)
    if (other)
      throw new Error(
        `publishNotifications: every part must go to one topic, not to ${first.topicArn} and ${other.topicArn}`
      )
    const { SNSClient, PublishCommand } = await import('@aws-sdk/client-sns')
    const client = new SNSClient(clientConfig({ region: topicRegion(first.topicArn), credentials }))
    try {
      for (const [index, notification] of notifications.entries()) {
        await client.send(new PublishCommand(publishInput(notification)), { abortSignal: options.abortSignal })
        published++
        options.onPublished?.(index)
      }
    } finally {
      // Close the connection pool now rather than leaving sockets that keep the step alive.
      client.destroy()
    }
    return { published }
  } catch (error) {
    return { published, error }
  }
}

/** Publishing the notification (all its parts) gets this long. */
const PUBLISH_TIMEOUT_MS = 60_000

/**
 * The notification, published only when it can be done in time: on a cancelled job, only if
 * there is room before the record must be written. A failed publish is a run error.
 */
export async function notify(
  kinds: readonly KindModule[],
  report: Report,
  inputs: Inputs,
  credentials: AwsCredentialIdentity | undefined,
  control: RunControl
): Promise<void> {
  const topicArn = inputs['sns-topic-arn']
  if (!topicArn || inputs['dry-run'] || !credentials) return
  let parts
  try {
    parts = buildNotifications(kinds, report, topicArn)
  } catch (error) {
    report.errors.push(`Publishing to ${topicArn} failed: ${errorMessage(error)}`)
    return
  }
  if (parts.length === 0) return
  report.notification = { topicArn, parts: parts.length, published: 0 }
  if (control.msUntil(RECORD_BY_MS) < 1_000) {
    report.notification.error =
      'not published: the job was cancelled and there was no time left before the runner ends the step'
    report.errors.push(`Publishing to ${topicArn} failed: ${report.notification.error}`)
    return
  }
  const abortSignal = AbortSignal.any([AbortSignal.timeout(PUBLISH_TIMEOUT_MS), control.deadline(RECORD_BY_MS)])
  const result = await publishNotifications(parts, credentials, { abortSignal })
  report.notification.published = result.published
  if (result.error === undefined) {
    core.info(
      `Published the report to ${topicArn}${parts.length > 1 ? ` (${parts.length} of ${parts.length} parts published)` : ''}`
    )
    return
  }
  const why = formatAwsError(describeAwsError(result.error, PERMISSION.publish))
  report.notification.error = why
  const sent = parts.length > 1 ? ` (${result.published} of ${parts.length} parts were published)` : ''
  report.errors.push(`Publishing to ${topicArn} failed${sent}: ${why}`)
}
