import * as core from '@actions/core'
import { MAX_FILTER_VALUES } from './batches.js'
import { KIND_NAMES } from './kinds/registry.js'
import { isTopicArn } from './sns-topic.js'
import { INSTANCE_STATES, SWEEP_ACTIONS, type InstanceState, type Inputs, type ResourceKind, type SweepAction, type TagFilter } from './types.js'
import { isConcreteTag, isOnlyWildcards } from './wildcard.js'

/** Bad input: the step fails with this message before any AWS call. */
export class InputError extends Error {
  override name = 'InputError'
}

export type InputName = keyof Inputs
type Env = Readonly<Record<string, string | undefined>>
type Parser<T> = (raw: string, env: Env) => T

/** States the sweep may act on; shutting-down and terminated instances are already going away. */
const COUNTABLE_STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped']

/** us-east-1, us-gov-west-1, ap-southeast-7, eusc-de-east-1, cn-north-1 … */
const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+){1,3}-\d{1,2}$/
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/
const TAG_KEY_LIMIT = 128
const TAG_VALUE_LIMIT = 256

/** Items separated by commas, spaces or newlines, empty ones dropped. */
export function splitList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((item) => item !== '')
}

const DURATION_UNITS: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 }
const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

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
  return Number(days ?? 0) * DURATION_UNITS.d! + Number(hours ?? 0) * DURATION_UNITS.h! + Number(minutes ?? 0) * DURATION_UNITS.m! + Number(seconds ?? 0)
}

/** region-timeout's range: long enough for a region of 100,000 instances, short enough to end the job. */
const REGION_TIMEOUT_RANGE = { min: 1, max: 30 * 60 }

const parseRegionTimeout: Parser<number> = (raw) => {
  const text = raw.trim().toLowerCase()
  const match = /^\d+$/.test(text) ? undefined : DURATION_PATTERN.exec(text)
  const seconds = match && text ? parseDuration(text) : NaN
  if (Number.isFinite(seconds) && seconds >= REGION_TIMEOUT_RANGE.min && seconds <= REGION_TIMEOUT_RANGE.max) return seconds
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
      throw new InputError('regions: empty, and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Name the regions (e.g. "us-east-1, eu-west-1") or use "all".')
    }
    names.push(jobRegion)
  }
  if (names.includes('all')) {
    if (names.length > 1) throw new InputError(`regions: "${raw}" mixes "all" with region names. Use either "all" or a list of regions.`)
    return 'all'
  }
  const invalid = names.filter((name) => !REGION_PATTERN.test(name))
  if (invalid.length > 0) {
    throw new InputError(
      `regions: "${invalid.join(', ')}" is not a region name. Use names like us-east-1 or eu-central-2, separated by commas, spaces or newlines, or "all".`
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
  if (unknown.length > 0) throw new InputError(`resources: "${unknown.join(', ')}" is not a resource kind. Use ${allowed}.`)
  if (names.includes('all')) return [...KIND_NAMES]
  return KIND_NAMES.filter((kind) => names.includes(kind))
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
  for (const line of raw.split(/\r?\n/)) {
    const text = line.trim()
    if (!text) continue
    const separator = text.indexOf('=')
    const key = separator > 0 ? text.slice(0, separator).trim() : ''
    const value = separator > 0 ? text.slice(separator + 1).trim() : ''
    if (!key || !value) {
      throw new InputError(`tags: "${text}" is not Key=Value. Write one Key=Value per line; the value may use * and ?, e.g. github-run-id=1234 or team=*.`)
    }
    if (key.length > TAG_KEY_LIMIT || value.length > TAG_VALUE_LIMIT) {
      throw new InputError(`tags: "${text}" is too long. Tag keys have at most ${TAG_KEY_LIMIT} characters, values at most ${TAG_VALUE_LIMIT}.`)
    }
    if (filters.some((filter) => filter.key === key)) {
      throw new InputError(`tags: the key "${key}" appears twice. Give each tag key once; all lines must match.`)
    }
    filters.push({ key, value })
  }
  return filters
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
  throw new InputError(`sns-topic-arn: "${raw}" is not an SNS topic ARN. Use arn:aws:sns:<region>:<account-id>:<topic-name>, or leave it empty.`)
}

const PARSERS: { [Name in InputName]: Parser<Inputs[Name]> } = {
  'max-age': (raw) => parseDuration(raw),
  action: parseChoice<SweepAction>('action', SWEEP_ACTIONS),
  regions: parseRegions,
  resources: parseResources,
  'key-name': parseKeyNames,
  tags: parseTags,
  'delete-custom-key-pairs': parseBoolean('delete-custom-key-pairs'),
  'instance-states': parseStates,
  'exclude-tag': parsePattern('exclude-tag', /^.{1,128}$/, 'Give the tag key (1 to 128 characters) that protects a resource; it cannot be empty.', false),
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
  'role-session-name': parsePattern('role-session-name', SESSION_NAME_PATTERN, 'Use 2 to 64 letters, digits or +=,.@_- characters.', false),
  audience: parsePattern('audience', /^\S+$/, 'Give the OIDC audience, e.g. sts.amazonaws.com.', false),
  'fail-on-stale': parseBoolean('fail-on-stale'),
  'estimate-cost': parseBoolean('estimate-cost')
}

type CrossChecked = Pick<Inputs, 'key-name' | 'tags' | 'max-age' | 'delete-custom-key-pairs'>

/**
 * Checks between inputs that each parse fine on their own: each keeps the sweep from matching
 * every instance (or every live build) in the account. Only inputs that parsed are checked.
 */
function crossCheck(inputs: Partial<CrossChecked>, raw: (name: InputName) => string): string[] {
  const problems: string[] = []
  const { 'key-name': keyNames, tags, 'max-age': maxAge } = inputs
  if (keyNames?.length === 0 && tags !== undefined) {
    if (tags.length === 0) {
      problems.push('key-name: empty, and tags is empty too. Without a key-name pattern, give tags so the sweep cannot match every instance in the account.')
    } else if (!tags.some(isConcreteTag)) {
      problems.push(
        `tags: "${tagLines(tags)}" has only wildcard values, and key-name is empty: every tagged instance would match. ` +
          'With an empty key-name, give at least one tags line whose value is not only wildcards, e.g. github-run-id=1234.'
      )
    }
  }
  if (maxAge === 0 && tags !== undefined && !tags.some(isConcreteTag)) {
    problems.push(
      `max-age: "${raw('max-age')}" is 0, which means every matching resource however young, including live builds; ` +
        'that is only safe scoped to one run with tags whose value is not only wildcards, e.g. tags: github-run-id=${{ github.run_id }}. ' +
        'Give such tags, or a max-age above 0 such as 2h.'
    )
  }
  problems.push(...customKeyPairProblems(inputs, raw))
  return problems
}

/** The parsed tags lines as the user wrote them, on one line. */
const tagLines = (tags: readonly TagFilter[]) => tags.map(({ key, value }) => `${key}=${value}`).join(', ')

/**
 * A key pair not named packer_<uuid> may be anyone's: deleting such keys needs a tag that marks
 * Packer's own (the run_tags it puts on its temporary key pair), not a wildcard that any key carries.
 */
function customKeyPairProblems({ 'delete-custom-key-pairs': deleteCustom, tags }: Partial<CrossChecked>, raw: (name: InputName) => string): string[] {
  if (deleteCustom !== true || tags === undefined || tags.some(isConcreteTag)) return []
  const what = tags.length === 0 ? 'tags is empty' : `tags has only wildcard values ("${tagLines(tags)}")`
  return [
    `delete-custom-key-pairs: "${raw('delete-custom-key-pairs')}" needs a tags line whose value is not only wildcards, and ${what}. ` +
      'Key pairs not named packer_<uuid> are deleted only when they carry such a tag: give the run_tags Packer puts on its ' +
      'temporary key pair (e.g. tags: packer-build=ci), or leave delete-custom-key-pairs false.'
  ]
}

/**
 * Reads and validates every input in one place. All problems are collected so one run shows
 * them all; any problem throws before an AWS client exists.
 */
export function getInputs(getInput: (name: string) => string = core.getInput, env: Env = process.env): Inputs {
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
  problems.push(...crossCheck(parsed as Partial<CrossChecked>, (name) => raw[name] ?? ''))
  if (problems.length > 0) {
    const heading = problems.length === 1 ? 'Invalid input' : `${problems.length} invalid inputs`
    throw new InputError(`${heading}: ${problems.join('\n')}`)
  }
  return parsed as Inputs
}
