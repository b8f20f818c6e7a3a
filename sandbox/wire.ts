/**
 * Wire helpers shared by the service handlers: query-protocol parameter lists, EC2 filters with
 * AWS's wildcard semantics (wildcard.ts), XML writing, pagination tokens and the AWS error type.
 */
import type { Tags } from './types.js'
import { wildcard } from './wildcard.js'

/** An error the sandbox answers with, in the service's own error envelope. */
export class AwsFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400
  ) {
    super(message)
  }
}

export type Params = Record<string, string>

/** `Name.1`, `Name.2`, … of an ec2/awsQuery list, in order. */
export function listParam(params: Params, name: string): string[] {
  const values: string[] = []
  for (let i = 1; params[`${name}.${i}`] !== undefined; i++) values.push(params[`${name}.${i}`] as string)
  return values
}

export function boolParam(params: Params, name: string): boolean {
  return params[name]?.toLowerCase() === 'true'
}

/** `DryRun=true`: EC2's DryRunOperation (412) for a call that would have been allowed; nothing changes. */
export function dryRun(params: Params): void {
  if (boolParam(params, 'DryRun'))
    throw new AwsFault('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412)
}

export interface Filter {
  name: string
  values: string[]
}

/** `Filter.N.Name` / `Filter.N.Value.M`. */
export function filtersParam(params: Params): Filter[] {
  const filters: Filter[] = []
  for (let i = 1; params[`Filter.${i}.Name`] !== undefined; i++) {
    filters.push({ name: params[`Filter.${i}.Name`] as string, values: listParam(params, `Filter.${i}.Value`) })
  }
  return filters
}

/** How each supported filter name reads a resource (tag filters are generic and need no entry). */
export type FilterFields<T> = Record<string, (item: T) => Array<string | undefined>>

/**
 * Compiles filters into one predicate: values OR'd, filters AND'd. `tag:<key>`, `tag-key` and
 * `tag-value` work for every resource with `tags`; other names must be in `fields`. An unknown
 * filter name is refused the way EC2 refuses it, before anything is read.
 */
export function compileFilters<T extends { tags: Tags }>(
  filters: Filter[],
  fields: FilterFields<T>
): (item: T) => boolean {
  const tests = filters.map((filter): ((item: T) => boolean) => {
    if (filter.values.length === 0)
      throw new AwsFault('InvalidParameterValue', `The filter '${filter.name}' requires at least one value`)
    if (filter.values.length > 200)
      throw new AwsFault('FilterLimitExceeded', `The filter '${filter.name}' has more than 200 values`)
    const matchers = filter.values.map(wildcard)
    const any = (values: Array<string | undefined>) => values.some((v) => v !== undefined && matchers.some((m) => m(v)))
    if (filter.name.startsWith('tag:')) {
      const key = filter.name.slice(4)
      return (item) => any([item.tags[key]])
    }
    if (filter.name === 'tag-key') return (item) => any(Object.keys(item.tags))
    if (filter.name === 'tag-value') return (item) => any(Object.values(item.tags))
    const field = fields[filter.name]
    if (!field) throw new AwsFault('InvalidParameterValue', `The filter '${filter.name}' is invalid`)
    return (item) => any(field(item))
  })
  return (item) => tests.every((t) => t(item))
}

export interface Page<T> {
  items: T[]
  nextToken?: string
}

/**
 * Offset pagination over a region's items in insertion order. The token carries the offset and
 * a fingerprint of the request, so a token replayed with other filters is refused as AWS does.
 * Resources are never removed from the arrays (terminated instances stay), so offsets are stable.
 */
export function paginate<T>(
  all: readonly T[],
  keep: (item: T) => boolean,
  params: Params,
  limits: {
    min: number
    max: number
    defaultMax: number
    cap?: number
    /** A larger MaxResults is answered with `max` items a page instead of refused (DescribeVolumes, DescribeSnapshots). */
    clampAbove?: boolean
  }
): Page<T> {
  const fingerprint = requestFingerprint(params)
  let start = 0
  const token = params.NextToken
  if (token) {
    const decoded = decodeToken(token)
    if (!decoded || decoded.f !== fingerprint)
      throw new AwsFault('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.')
    start = decoded.o
  }
  let max = limits.defaultMax
  if (params.MaxResults !== undefined) {
    max = Number(params.MaxResults)
    if (limits.clampAbove && Number.isInteger(max) && max > limits.max) max = limits.max
    if (limits.clampAbove && (!Number.isInteger(max) || max < limits.min)) {
      throw new AwsFault(
        'InvalidParameterValue',
        `Value ( ${params.MaxResults} ) for parameter maxResults is invalid. Expecting a value greater than ${limits.min}.`
      )
    }
    if (!Number.isInteger(max) || max < limits.min || max > limits.max) {
      throw new AwsFault(
        'InvalidParameterValue',
        `Value ( ${params.MaxResults} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`
      )
    }
  }
  // EC2 may answer fewer than MaxResults with a NextToken: `cap` (the sandbox's pageSize) does so.
  if (limits.cap !== undefined) max = Math.min(max, limits.cap)
  const items: T[] = []
  for (let i = start; i < all.length; i++) {
    const item = all[i] as T
    if (!keep(item)) continue
    if (items.length === max) return { items, nextToken: encodeToken({ o: i, f: fingerprint }) }
    items.push(item)
  }
  return { items }
}

function requestFingerprint(params: Params): string {
  return Object.keys(params)
    .filter((k) => k !== 'NextToken' && k !== 'MaxResults')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&')
}

function encodeToken(t: { o: number; f: string }): string {
  return Buffer.from(JSON.stringify(t)).toString('base64')
}

function decodeToken(token: string): { o: number; f: string } | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { o?: unknown; f?: unknown }
    return typeof t.o === 'number' && typeof t.f === 'string' ? { o: t.o, f: t.f } : undefined
  } catch {
    return undefined
  }
}

// ---- XML ----

const XML_ESCAPES: Record<string, string> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  "'": '&apos;',
  '"': '&quot;',
  '\r': '&#xD;',
  '\n': '&#xA;'
}

/**
 * Text for an XML element. CR and LF are written as character references (as the SDK's own XML
 * builder does): raw line breaks would be normalised by any XML parser (CR and CRLF → LF, XML 1.0
 * §2.11; the SDK's parser does exactly that), character references survive. See README.md.
 */
export function esc(value: string): string {
  return value.replace(/[<>&'"\r\n]/g, (c) => XML_ESCAPES[c] as string)
}

/** `<name>value</name>`, or nothing when the value is undefined. */
export function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${esc(String(value))}</${name}>`
}

/** An EC2 list: `<name><item>…</item>…</name>`. */
export function items<T>(name: string, list: readonly T[], render: (item: T) => string): string {
  return `<${name}>${list.map((x) => `<item>${render(x)}</item>`).join('')}</${name}>`
}

export function tagSet(tags: Tags): string {
  return items('tagSet', Object.entries(tags), ([k, v]) => el('key', k) + el('value', v))
}

// ---- durations and IDs ----

/** `'1h30m'`, `'2d'`, `'45s'`, `'90m'` → seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([dhms])/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`sandbox: bad duration '${text}'`)
  return parts.reduce((sum, p) => sum + Number(p[1]) * (units[p[2] as string] as number), 0)
}

/** A seeded PRNG (mulberry32) so generated fleets and IDs are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function hex(random: () => number, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += Math.floor(random() * 16).toString(16)
  return s
}

export function stringSeed(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}
