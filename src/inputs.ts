import * as core from '@actions/core'
import { MAX_FILTER_VALUES } from './aws/batches.js'
import { KIND_NAMES, KIND_NEEDS, KIND_ONLY_INPUTS } from './kinds/names.js'
import { TYPICAL_BUILD_SECONDS } from './engine/plan.js'
import { guessRegions, REGION_PATTERN } from './aws/regions.js'
import { isTopicArn } from './aws/sns-topic.js'
import {
  INSTANCE_STATES,
  SWEEP_ACTIONS,
  type ImageIncompleteTag,
  type InstanceState,
  type Inputs,
  type ResourceKind,
  type SweepAction,
  type TagFilter
} from './model/types.js'
import { isConcreteTag, isOnlyWildcards, wildcardMatcher } from './model/wildcard.js'

/** Bad input: the step fails with this message before any AWS call. */
export class InputError extends Error {
  override name = 'InputError'
}

export type InputName = keyof Inputs
type Env = Readonly<Record<string, string | undefined>>
type Parser<T> = (raw: string, env: Env) => T

/** States the sweep may act on; shutting-down and terminated instances are already going away. */
const COUNTABLE_STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped']

const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/
const TAG_KEY_LIMIT = 128
const TAG_VALUE_LIMIT = 256

/** Items separated by commas, spaces or newlines, empty ones dropped. */
export function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((item) => item !== '')
}

/** Lines, whatever ends them: LF, CRLF or a bare CR (the runner, too, ends a line at either). */
export function splitLines(raw: string): string[] {
  return raw.split(/\r\n|\r|\n/)
}

const DURATION_UNITS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 }

const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

/** The longest max-age: a year. More is a typo (and 400 nines would be Infinity, so nothing stale). */
const MAX_AGE_LIMIT_SECONDS = 365 * DURATION_UNITS.d!
/** The shortest max-age a sweep not scoped by tags to one job may use: below it, live builds count as stale. */
const UNSCOPED_MAX_AGE_MIN_SECONDS = DURATION_UNITS.h!
/** The tags line that scopes a post-build sweep to one job (every job of a run, and of a matrix, shares github.run_id). */
const JOB_TAG_RECIPE =
  'packer-sweeper-job=${{ github.run_id }}-${{ github.run_attempt }}-${{ github.job }}-${{ strategy.job-index }}'

/** `90m`, `2h`, `1d`, `1h30m`, `45s`, or a bare number of hours (Packer Cleaner's max_runtime). */
export function parseDuration(raw: string): number {
  const text = raw.trim().toLowerCase()
  if (/^\d+$/.test(text)) return Number(text) * DURATION_UNITS.h!
  const match = DURATION_PATTERN.exec(text)
  if (!text || !match) {
    throw new InputError(
      `max-age: "${raw}" is not a duration. Use a number with units d, h, m, s in that order (90m, 2h, 1d, 1h30m, 45s), ` +
        'or a bare number of hours; 0 means every matching resource.'
    )
  }
  const [, days, hours, minutes, seconds] = match
  return (
    Number(days ?? 0) * DURATION_UNITS.d! +
    Number(hours ?? 0) * DURATION_UNITS.h! +
    Number(minutes ?? 0) * DURATION_UNITS.m! +
    Number(seconds ?? 0)
  )
}

const parseMaxAge: Parser<number> = (raw) => {
  const seconds = parseDuration(raw)
  if (seconds <= MAX_AGE_LIMIT_SECONDS) return seconds
  throw new InputError(
    `max-age: "${raw}" is more than 365 days. Use a duration from 0 to 365d (90m, 2h, 1d), or a bare number of hours up to 8760.`
  )
}

/** region-timeout's range: long enough for a region of 100,000 instances, short enough to end the job. */
const REGION_TIMEOUT_RANGE = { min: 1, max: 30 * 60 }

const parseRegionTimeout: Parser<number> = (raw) => {
  const text = raw.trim().toLowerCase()
  const match = /^\d+$/.test(text) ? undefined : DURATION_PATTERN.exec(text)
  const seconds = match && text ? parseDuration(text) : NaN
  if (Number.isFinite(seconds) && seconds >= REGION_TIMEOUT_RANGE.min && seconds <= REGION_TIMEOUT_RANGE.max)
    return seconds
  throw new InputError(
    `region-timeout: "${raw}" is not allowed. Use a duration with units (d, h, m, s: 4m, 90s, 2m30s) from ${REGION_TIMEOUT_RANGE.min}s to ${REGION_TIMEOUT_RANGE.max / 60}m.`
  )
}

function parseChoice<T extends string>(name: InputName, allowed: readonly T[]): Parser<T> {
  return (raw) => {
    const value = raw.trim().toLowerCase()
    if ((allowed as readonly string[]).includes(value)) return value as T
    throw new InputError(`${name}: "${raw}" is not allowed. Use one of: ${allowed.join(', ')}.`)
  }
}

function parseBoolean(name: InputName): Parser<boolean> {
  return (raw) => {
    const value = raw.trim()
    if (['true', 'True', 'TRUE'].includes(value)) return true
    if (['false', 'False', 'FALSE'].includes(value)) return false
    throw new InputError(`${name}: "${raw}" is not a boolean. Use true or false.`)
  }
}

function parseCount(name: InputName): Parser<number> {
  return (raw) => {
    const value = raw.trim()
    if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value)
    throw new InputError(`${name}: "${raw}" is not a whole number. Use 0 or more; 0 means no cap.`)
  }
}

const parseRegions: Parser<string[] | 'all'> = (raw, env) => {
  const names = splitList(raw)
  if (names.length === 0) {
    const jobRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION
    if (!jobRegion) {
      throw new InputError(
        'regions: empty, and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Name the regions (e.g. "us-east-1, eu-west-1") or use "all".'
      )
    }
    names.push(jobRegion)
  }
  if (names.includes('all')) {
    if (names.length > 1)
      throw new InputError(`regions: "${raw}" mixes "all" with region names. Use either "all" or a list of regions.`)
    return 'all'
  }
  const invalid = names.filter((name) => !REGION_PATTERN.test(name))
  if (invalid.length > 0) {
    const guesses = guessRegions(invalid)
    throw new InputError(
      `regions: "${invalid.join(', ')}" is not a region name.${guesses ? ` Did you mean ${guesses}?` : ''} ` +
        'Use names like us-east-1 or eu-central-2, separated by commas, spaces or newlines, or "all".'
    )
  }
  return [...new Set(names)]
}

const parseResources: Parser<ResourceKind[]> = (raw) => {
  const names = splitList(raw.toLowerCase())
  const allowed = `${KIND_NAMES.join(', ')} or all`
  if (names.length === 0) throw new InputError(`resources: empty. Use one or more of ${allowed}.`)
  // Checked before `all` wins: `all,bogus` is a typo to report, not a value to ignore.
  const unknown = names.filter((name) => name !== 'all' && !(KIND_NAMES as readonly string[]).includes(name))
  if (unknown.length > 0)
    throw new InputError(`resources: "${unknown.join(', ')}" is not a resource kind. Use ${allowed}.`)
  if (names.includes('all')) return [...KIND_NAMES]
  const kinds = KIND_NAMES.filter((kind) => names.includes(kind))
  const unmet = KIND_NEEDS.filter(({ kind, needs }) => kinds.includes(kind) && !kinds.includes(needs))
  if (unmet.length > 0)
    throw new InputError(
      unmet
        .map(
          ({ kind, needs, why }) => `resources: "${raw.trim()}" selects ${kind} without ${needs}: ${why}. Add ${needs}.`
        )
        .join(' ')
    )
  return kinds
}

const parseKeyNames: Parser<string[]> = (raw) => {
  const patterns = [...new Set(splitList(raw))]
  if (patterns.length > MAX_FILTER_VALUES) {
    throw new InputError(`key-name: ${patterns.length} patterns; EC2 takes at most ${MAX_FILTER_VALUES} in one filter.`)
  }
  const everything = patterns.filter(isOnlyWildcards)
  if (everything.length > 0) {
    throw new InputError(
      `key-name: "${everything.join(', ')}" is only wildcards and would match every key pair, so every instance launched with a key. ` +
        'Use patterns with a fixed part, e.g. packer_*.'
    )
  }
  return patterns
}

const parseTags: Parser<TagFilter[]> = (raw) => {
  const filters: TagFilter[] = []
  for (const line of splitLines(raw)) {
    const text = line.trim()
    if (!text) continue
    const separator = text.indexOf('=')
    const key = separator > 0 ? text.slice(0, separator).trim() : ''
    const value = separator > 0 ? text.slice(separator + 1).trim() : ''
    if (!key || !value) {
      throw new InputError(
        `tags: "${text}" is not Key=Value. Write one Key=Value per line; the value may use * and ?, e.g. github-run-id=1234 or team=*.`
      )
    }
    if (key.length > TAG_KEY_LIMIT || value.length > TAG_VALUE_LIMIT) {
      throw new InputError(
        `tags: "${text}" is too long. Tag keys have at most ${TAG_KEY_LIMIT} characters, values at most ${TAG_VALUE_LIMIT}.`
      )
    }
    if (filters.some((filter) => filter.key === key)) {
      throw new InputError(`tags: the key "${key}" appears twice. Give each tag key once; all lines must match.`)
    }
    filters.push({ key, value })
  }
  return filters
}

/** How image-incomplete-tag is written, for its error messages. */
const INCOMPLETE_TAG_HELP =
  'Give one Key=Value, the tag your template sets in run_tags and overwrites in tags, e.g. packer-build=incomplete; or leave it empty.'

/**
 * One literal Key=Value. Literal because it is the positive evidence an image may be removed on:
 * a wildcard would let a finished build's value (`complete` for `*complete`) pass for an unfinished one.
 */
const parseImageIncompleteTag: Parser<ImageIncompleteTag | undefined> = (raw) => {
  const lines = splitLines(raw).filter((line) => line.trim() !== '')
  if (lines.length === 0) return undefined
  const problem = (what: string) => new InputError(`image-incomplete-tag: "${raw}" ${what}`)
  if (lines.length > 1) throw problem(`is more than one line. ${INCOMPLETE_TAG_HELP}`)
  const text = (lines[0] as string).trim()
  const separator = text.indexOf('=')
  const key = separator > 0 ? text.slice(0, separator).trim() : ''
  const value = separator > 0 ? text.slice(separator + 1).trim() : ''
  if (!key || !value) throw problem(`is not Key=Value. ${INCOMPLETE_TAG_HELP}`)
  if (/[*?]/.test(text)) {
    throw problem(
      'has a wildcard (* or ?). It is matched literally, without wildcards: give the exact Key=Value your ' +
        'template sets in run_tags, e.g. packer-build=incomplete.'
    )
  }
  if (key.length > TAG_KEY_LIMIT || value.length > TAG_VALUE_LIMIT) {
    throw problem(`is too long. Tag keys have at most ${TAG_KEY_LIMIT} characters, values at most ${TAG_VALUE_LIMIT}.`)
  }
  if (key.toLowerCase().startsWith('aws:')) {
    throw problem(`has a key starting with aws:, which AWS reserves and a template cannot set. ${INCOMPLETE_TAG_HELP}`)
  }
  return { key, value }
}

const parseExcludeTags: Parser<string[]> = (raw) => {
  const keys = [
    ...new Set(
      splitLines(raw)
        .flatMap((line) => line.split(','))
        .map((key) => key.trim())
    )
  ].filter((key) => key !== '')
  const tooLong = keys.filter((key) => key.length > TAG_KEY_LIMIT)
  if (keys.length === 0 || tooLong.length > 0) {
    throw new InputError(
      `exclude-tag: "${tooLong.length > 0 ? tooLong.join(', ') : raw}" is not allowed. Give the tag key (1 to 128 characters) that protects a resource, ` +
        'or several, one per line or separated by commas; it cannot be empty.'
    )
  }
  // A value or a wildcard would be compared as part of the key, match no tag, and protect nothing.
  const notKeys = keys.filter((key) => /[=*?]/.test(key))
  if (notKeys.length > 0) {
    throw new InputError(
      `exclude-tag: "${notKeys.join(', ')}" is not a tag key: exclude-tag takes tag keys only, each matched exactly, without =value and without * or ?. ` +
        'Give the keys one per line or separated by commas, e.g. packer-sweeper:keep, do-not-delete; a resource carrying any of them is never acted on.'
    )
  }
  return keys
}

const parseStates: Parser<InstanceState[]> = (raw) => {
  const names = [...new Set(splitList(raw.toLowerCase()))]
  const invalid = names.filter((name) => !(COUNTABLE_STATES as readonly string[]).includes(name))
  if (names.length === 0 || invalid.length > 0) {
    const offending = invalid.length > 0 ? `"${invalid.join(', ')}" is not allowed` : 'empty'
    throw new InputError(`instance-states: ${offending}. Use one or more of ${COUNTABLE_STATES.join(', ')}.`)
  }
  return INSTANCE_STATES.filter((state) => names.includes(state))
}

function parsePattern(name: InputName, pattern: RegExp, allowed: string, optional: boolean): Parser<string> {
  return (raw) => {
    const value = raw.trim()
    if ((optional && value === '') || pattern.test(value)) return value
    throw new InputError(`${name}: "${raw}" is not allowed. ${allowed}`)
  }
}

const parseTopicArn: Parser<string> = (raw) => {
  const value = raw.trim()
  if (value === '' || isTopicArn(value)) return value
  throw new InputError(
    `sns-topic-arn: "${raw}" is not an SNS topic ARN. Use arn:aws:sns:<region>:<account-id>:<topic-name>, or leave it empty.`
  )
}

const PARSERS: { [Name in InputName]: Parser<Inputs[Name]> } = {
  'max-age': parseMaxAge,
  action: parseChoice<SweepAction>('action', SWEEP_ACTIONS),
  regions: parseRegions,
  resources: parseResources,
  'key-name': parseKeyNames,
  tags: parseTags,
  'delete-custom-key-pairs': parseBoolean('delete-custom-key-pairs'),
  'instance-states': parseStates,
  'exclude-tag': parseExcludeTags,
  'max-instances': parseCount('max-instances'),
  'max-resources': parseCount('max-resources'),
  'region-timeout': parseRegionTimeout,
  'dry-run': parseBoolean('dry-run'),
  'sns-topic-arn': parseTopicArn,
  'role-to-assume': parsePattern(
    'role-to-assume',
    ROLE_ARN_PATTERN,
    'Use an IAM role ARN like arn:aws:iam::123456789012:role/packer-sweeper, or leave it empty.',
    true
  ),
  'role-session-name': parsePattern(
    'role-session-name',
    SESSION_NAME_PATTERN,
    'Use 2 to 64 letters, digits or +=,.@_- characters.',
    false
  ),
  audience: parsePattern('audience', /^\S+$/, 'Give the OIDC audience, e.g. sts.amazonaws.com.', false),
  'fail-on-stale': parseBoolean('fail-on-stale'),
  'estimate-cost': parseBoolean('estimate-cost'),
  'image-incomplete-tag': parseImageIncompleteTag,
  'delete-inherited-volumes': parseBoolean('delete-inherited-volumes')
}

type CrossChecked = Pick<
  Inputs,
  | 'key-name'
  | 'tags'
  | 'max-age'
  | 'delete-custom-key-pairs'
  | 'image-incomplete-tag'
  | 'delete-inherited-volumes'
  | 'action'
  | 'resources'
>

/**
 * Checks between inputs that each parse fine on their own: each keeps the sweep from matching
 * every instance (or every live build) in the account. Only inputs that parsed are checked.
 * Warnings are for values that are allowed but likely wrong.
 */
function crossCheck(
  inputs: Partial<CrossChecked>,
  raw: (name: InputName) => string
): { problems: string[]; warnings: string[] } {
  const problems: string[] = []
  const warnings: string[] = []
  const { 'key-name': keyNames, tags, 'max-age': maxAge } = inputs
  problems.push(...customKeyPairProblems(inputs, raw))
  problems.push(...incompleteTagProblems(inputs, raw))
  warnings.push(...inheritedVolumesWarnings(inputs, raw))
  problems.push(...kindOnlyInputProblems(inputs, raw))
  if (keyNames?.length === 0 && tags !== undefined) {
    if (tags.length === 0) {
      problems.push(
        'key-name: empty, and tags is empty too. Without a key-name pattern, give tags so the sweep cannot match every instance in the account.'
      )
    } else if (!tags.some(isConcreteTag)) {
      problems.push(
        `tags: "${tagLines(tags)}" has only wildcard values, and key-name is empty: every tagged instance would match. ` +
          'With an empty key-name, give at least one tags line whose value is not only wildcards, e.g. github-run-id=1234.'
      )
    }
  }
  if (maxAge === undefined || tags === undefined || tags.some(isConcreteTag)) return { problems, warnings }
  // Not scoped to one job: max-age alone keeps the sweep off live builds.
  const scopeToOneJob = `scoped to one job by a tags line whose value is not only wildcards, e.g. tags: ${JOB_TAG_RECIPE}`
  if (maxAge === 0) {
    problems.push(
      `max-age: "${raw('max-age')}" is 0, which means every matching resource however young, including live builds; ` +
        `that is only safe ${scopeToOneJob} (the tag the build's run_tags set). Give such tags, or a max-age such as 2h.`
    )
  } else if (maxAge < UNSCOPED_MAX_AGE_MIN_SECONDS) {
    problems.push(
      `max-age: "${raw('max-age')}" is under 1h: builders younger than a build takes, live builds included, would count as stale. ` +
        `Without tags a max-age must be at least 1h and must exceed your longest build, the AMI wait included (default 2h); a shorter one is only safe ${scopeToOneJob}.`
    )
  } else if (maxAge < TYPICAL_BUILD_SECONDS) {
    warnings.push(
      `max-age: "${raw('max-age')}" is under the 2h default, shorter than typical Packer builds: a build running longer is taken for stale. ` +
        'max-age must exceed your longest build, the AMI wait included.'
    )
  }
  return { problems, warnings }
}

/** The parsed tags lines as the user wrote them, on one line. */
const tagLines = (tags: readonly TagFilter[]) => tags.map(({ key, value }) => `${key}=${value}`).join(', ')

/**
 * A key pair not named packer_<uuid> may be anyone's: deleting such keys needs a tag that marks
 * Packer's own (the run_tags it puts on its temporary key pair), not a wildcard that any key carries.
 */
function customKeyPairProblems(
  { 'delete-custom-key-pairs': deleteCustom, tags }: Partial<CrossChecked>,
  raw: (name: InputName) => string
): string[] {
  if (deleteCustom !== true || tags === undefined || tags.some(isConcreteTag)) return []
  const what = tags.length === 0 ? 'tags is empty' : `tags has only wildcard values ("${tagLines(tags)}")`
  return [
    `delete-custom-key-pairs: "${raw('delete-custom-key-pairs')}" needs a tags line whose value is not only wildcards, and ${what}. ` +
      'Key pairs not named packer_<uuid> are deleted only when they carry such a tag: give the run_tags Packer puts on its ' +
      'temporary key pair (e.g. tags: packer-build=ci), or leave delete-custom-key-pairs false.'
  ]
}

/**
 * The run_tags value is on the builder and on the interrupted image; a tags line on the same key
 * that cannot match it means neither is ever found, and image-incomplete-tag does nothing.
 */
function incompleteTagProblems(
  { 'image-incomplete-tag': tag, tags }: Partial<CrossChecked>,
  raw: (name: InputName) => string
): string[] {
  const conflicting = tag && tags?.find((line) => line.key === tag.key && !wildcardMatcher([line.value])(tag.value))
  if (!tag || !conflicting) return []
  const incomplete = `${tag.key}=${tag.value}`
  return [
    `image-incomplete-tag: "${raw('image-incomplete-tag')}" can never be found: tags requires ${tagLines([conflicting])}, ` +
      `which an image or builder still carrying ${incomplete} does not have. ` +
      'The tag the template sets in run_tags is on the builder and on the interrupted image: give a tags line that matches it ' +
      `(e.g. ${incomplete}), or none on that key.`
  ]
}

/**
 * Only terminate deletes volumes. A warning, not a refusal: a workflow may switch the action by
 * event (notify on pull requests, terminate on schedule) and keep the other inputs fixed.
 */
function inheritedVolumesWarnings(
  { 'delete-inherited-volumes': deleteInherited, action }: Partial<CrossChecked>,
  raw: (name: InputName) => string
): string[] {
  if (deleteInherited !== true || action === undefined || action === 'terminate') return []
  return [
    `delete-inherited-volumes: "${raw('delete-inherited-volumes')}" has no effect with action ${action}: volumes are deleted only once the sweep ` +
      'has terminated their builder, so only with action terminate. They are reported.'
  ]
}

/** An input that acts on one kind alone, set while `resources` does not select that kind: it would do nothing. */
function kindOnlyInputProblems(inputs: Partial<CrossChecked>, raw: (name: InputName) => string): string[] {
  const { resources } = inputs
  if (resources === undefined) return []
  return KIND_ONLY_INPUTS.flatMap(({ input, kind }) => {
    const value = inputs[input]
    if (value === undefined || value === false || resources.includes(kind)) return []
    const unset = typeof value === 'boolean' ? 'false' : 'empty'
    return [
      `${input}: "${raw(input)}" is set but resources does not select ${kind}, so it would do nothing. ` +
        `Add ${kind} to resources (or use all), or leave ${input} ${unset}.`
    ]
  })
}

/**
 * Reads and validates every input in one place. All problems are collected so one run shows
 * them all; any problem throws before an AWS client exists. Valid but likely wrong values are
 * warned about (only when nothing is refused).
 */
export function getInputs(
  getInput: (name: string) => string = core.getInput,
  env: Env = process.env,
  warn: (message: string) => void = (message) => core.warning(message)
): Inputs {
  const problems: string[] = []
  const parsed: Partial<Record<InputName, unknown>> = {}
  const raw: Partial<Record<InputName, string>> = {}
  for (const name of Object.keys(PARSERS) as InputName[]) {
    try {
      raw[name] = getInput(name)
      parsed[name] = PARSERS[name](raw[name], env)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      problems.push(error.message)
    }
  }
  const checked = crossCheck(parsed as Partial<CrossChecked>, (name) => raw[name] ?? '')
  problems.push(...checked.problems)
  if (problems.length > 0) {
    const heading = problems.length === 1 ? 'Invalid input' : `${problems.length} invalid inputs`
    throw new InputError(`${heading}: ${problems.join('\n')}`)
  }
  checked.warnings.forEach(warn)
  return parsed as Inputs
}
