/**
 * Pure formatting shared by the job summary and the SNS notification: human ages, counted
 * nouns, one-line text. Nothing here escapes for a particular medium; callers do that.
 */
import type { AwsErrorInfo, Outcome } from './types.js'

const UNITS = [
  ['d', 86_400],
  ['h', 3_600],
  ['m', 60],
  ['s', 1]
] as const

/**
 * A duration as a person reads it: the two largest non-zero units, rounded down
 * ("3h 12m", "2d 1h", "45s", "0s"). Negative ages (a launch time a little ahead of the
 * runner's clock) read as "0s" rather than as nonsense.
 */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown'
  let rest = Math.max(0, Math.floor(seconds))
  const parts: string[] = []
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size)
    rest -= amount * size
    if (amount > 0) parts.push(`${amount}${unit}`)
    if (parts.length === 2) break
    // Once a unit was printed, a zero in the next one ends the reading: "2d 5m" would mislead.
    if (parts.length === 1 && amount === 0) break
  }
  return parts.length > 0 ? parts.join(' ') : '0s'
}

/** The max-age setting as read back: 0 is not an age but "every match". */
export function formatMaxAge(seconds: number): string {
  return seconds === 0 ? '0 (every match)' : formatAge(seconds)
}

/** `3 instances`, `1 instance`, `2 key pairs`. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`
}

/** An ISO 8601 time as `2024-05-01 10:00 UTC`, or the input as it is when it does not parse. */
export function formatTime(iso: string): string {
  const time = Date.parse(iso)
  if (Number.isNaN(time)) return iso
  return `${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/**
 * One line of display text: control characters (line breaks above all, which could start a
 * new list item or end an HTML block) become spaces, and anything longer than `maxLength`
 * is cut with an ellipsis. Values from AWS are bounded (tags 256 characters) but error
 * messages are not.
 */
export function oneLine(text: string, maxLength = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim()
  if (flat.length <= maxLength) return flat
  // By code point, so an emoji in a tag is never cut in half.
  return `${Array.from(flat)
    .slice(0, maxLength - 1)
    .join('')}…`
}

/**
 * AWS error messages are unbounded; every medium (log, annotations, summary, SNS) shows them cut
 * to this many characters, the same way, so one run reads the same everywhere.
 */
export const MESSAGE_MAX_LENGTH = 500

/** A message from AWS (or any long text) as every medium shows it: one line, at most MESSAGE_MAX_LENGTH. */
export function shortMessage(text: string): string {
  return oneLine(text, MESSAGE_MAX_LENGTH)
}

/** One line for logs and the summary: `Code: message`. */
export function formatAwsError(info: AwsErrorInfo): string {
  return `${info.code}: ${info.message}`
}

/** `Code: message`, shortened like every message. */
export function formatError(info: AwsErrorInfo): string {
  return shortMessage(formatAwsError(info))
}

/** What was done first, then what was not, then what went wrong, then what was left alone. */
const OUTCOME_ORDER: readonly Outcome[] = [
  'stopped',
  'terminated',
  'deleted',
  'notified',
  'dry-run',
  'in-use',
  'failed',
  'unknown',
  'skipped'
]

/** How many findings had each outcome, in OUTCOME_ORDER, without the zeros. */
export function outcomeCounts(findings: readonly { outcome: Outcome }[]): [Outcome, number][] {
  const counts = new Map<Outcome, number>()
  for (const finding of findings) counts.set(finding.outcome, (counts.get(finding.outcome) ?? 0) + 1)
  return [...counts].sort(([a], [b]) => OUTCOME_ORDER.indexOf(a) - OUTCOME_ORDER.indexOf(b))
}

/**
 * `2 terminated, 1 failed`. Outcomes are named as the report JSON, the outputs and the README name
 * them, in the summary's rows and counts, the SNS text and the log alike: `notified`, `in-use`.
 */
export function outcomeBreakdown(findings: readonly { outcome: Outcome }[]): string {
  return outcomeCounts(findings)
    .map(([outcome, count]) => `${count} ${outcome}`)
    .join(', ')
}

/** Every list that shows resources orders them so: by region, then by ID. */
export function byRegionThenId(a: { region: string; id: string }, b: { region: string; id: string }): number {
  return a.region.localeCompare(b.region) || a.id.localeCompare(b.id)
}

/** What a cut list says about the rest: `… and 12 more`. */
export function andMore(count: number): string {
  return `… and ${count} more`
}

/**
 * How one resource ended, as one line: `terminated`, `stopped (already stopped)`,
 * `skipped (carries the packer-sweeper:keep tag)`, `failed: OperationNotPermitted: …`.
 * `detail` renders the part after the outcome, its reason and error.
 */
export function describeOutcome(
  finding: { outcome: Outcome; reason?: string; error?: AwsErrorInfo },
  detail: (text: string) => string = (text) => text
): string {
  const reason = finding.reason ? `(${shortMessage(finding.reason)})` : ''
  const error = finding.error ? formatError(finding.error) : ''
  if (!reason && !error) return finding.outcome
  // `detail` renders what came with the outcome (the summary shows it as a literal): everything but the outcome itself.
  return `${finding.outcome}${reason ? ' ' : ': '}${detail([reason, error].filter(Boolean).join(': '))}`
}
