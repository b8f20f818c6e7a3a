import { DescribeRegionsCommand, type EC2Client, type Region } from '@aws-sdk/client-ec2'
import { partition } from '@aws-sdk/core/client'
import { describeAwsError } from './errors.js'
import { formatAwsError } from '../model/format.js'
import { PERMISSION } from '../model/permissions.js'
import type { Inputs } from '../model/types.js'

/** Where `regions: all` asks for the region list when the job names no region. */
export const FALLBACK_HOME_REGION = 'us-east-1'

/** us-east-1, us-gov-west-1, ap-southeast-7, eusc-de-east-1, cn-north-1 … */
export const REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+){1,3}-\d{1,2}$/

/**
 * A region the SDK's partition data names, checked offline. `partition()` is the SDK's public
 * lookup (the data itself is not exported): it answers a listed region with that region's
 * description, and any other name with its partition's defaults only.
 */
export function isKnownRegion(name: string): boolean {
  return REGION_PATTERN.test(name) && 'description' in partition(name)
}

/** Longer than any region name by far (the longest, aws-us-gov-global, has 17 characters). */
const LONGEST_GUESSED_NAME = 32

/** A letter, a digit or a hyphen: what region names are made of. */
const REGION_CHARACTERS = [...'abcdefghijklmnopqrstuvwxyz0123456789-']

/** Every name one edit away: a character deleted, inserted or replaced, or two neighbours swapped. */
function oneEditAway(name: string): Set<string> {
  const names = new Set<string>()
  for (let i = 0; i <= name.length; i++) {
    const [before, after] = [name.slice(0, i), name.slice(i)]
    for (const char of REGION_CHARACTERS) names.add(before + char + after)
    if (after === '') continue
    names.add(before + after.slice(1))
    for (const char of REGION_CHARACTERS) names.add(before + char + after.slice(1))
    if (after.length > 1) names.add(before + after[1] + after[0] + after.slice(2))
  }
  return names
}

/**
 * The known region a typo meant, offline: the name in lower case with `_` as `-`, or a known
 * name one edit away from it. The SDK's data is only asked name by name, so the guess stops at
 * one edit; DescribeRegions' list gives the nearest name beyond that (resolveRegions).
 */
export function suggestRegion(name: string): string | undefined {
  const normal = name.trim().toLowerCase().replace(/_/g, '-')
  // Region names are short; a long value is no typo of one (and its neighbours would be many).
  if (normal === '' || normal.length > LONGEST_GUESSED_NAME) return undefined
  if (isKnownRegion(normal)) return normal
  return nearestName(normal, [...oneEditAway(normal)].filter(isKnownRegion))
}

/**
 * What the typos among `names` meant, offline, for a "did you mean …?": `us-east-1` for one name,
 * `us-east-1 (for us-east1), eu-west-1 (for eu-west-1a)` for several; undefined when there is no guess.
 */
export function guessRegions(names: readonly string[]): string | undefined {
  const guesses = names.flatMap((name) => {
    const guess = suggestRegion(name)
    return guess ? [{ name, guess }] : []
  })
  if (guesses.length === 0) return undefined
  if (names.length === 1) return guesses[0]?.guess
  return guesses.map(({ name, guess }) => `${guess} (for ${name})`).join(', ')
}

/** Edits from one name to the other (optimal string alignment: deletions, insertions, replacements, swaps of neighbours). */
function editDistance(from: string, to: string): number {
  // distances[i][j]: edits from the first i characters of `from` to the first j of `to`.
  const distances = Array.from({ length: from.length + 1 }, (_, i) =>
    Array.from({ length: to.length + 1 }, (_, j) => Math.max(i, j))
  )
  for (let i = 1; i <= from.length; i++) {
    for (let j = 1; j <= to.length; j++) {
      const replace = distances[i - 1]![j - 1]! + (from[i - 1] === to[j - 1] ? 0 : 1)
      const swap =
        i > 1 && j > 1 && from[i - 1] === to[j - 2] && from[i - 2] === to[j - 1]
          ? distances[i - 2]![j - 2]! + 1
          : Infinity
      distances[i]![j] = Math.min(distances[i - 1]![j]! + 1, distances[i]![j - 1]! + 1, replace, swap)
    }
  }
  return distances[from.length]![to.length]!
}

/** The candidate fewest edits from `name`; of equals, the first alphabetically. */
export function nearestName(name: string, candidates: readonly string[]): string | undefined {
  let nearest: { name: string; distance: number } | undefined
  for (const candidate of [...candidates].sort()) {
    const distance = editDistance(name, candidate)
    if (!nearest || distance < nearest.distance) nearest = { name: candidate, distance }
  }
  return nearest?.name
}

/** The region for calls that are not about one swept region: STS, DescribeRegions. */
export function homeRegion(
  inputs: Pick<Inputs, 'regions'>,
  env: Readonly<Record<string, string | undefined>> = process.env
): string {
  const jobRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION
  if (jobRegion) return jobRegion
  // A listed name the SDK does not know may be a typo: STS and the region lookup go to a known one.
  if (inputs.regions !== 'all' && inputs.regions[0]) return inputs.regions.find(isKnownRegion) ?? inputs.regions[0]
  return FALLBACK_HOME_REGION
}

/**
 * Why a listed name the SDK does not know cannot be swept, judged by DescribeRegions with
 * AllRegions (every region of the partition, enabled or not); undefined when it can.
 */
export function unknownRegionProblem(name: string, listed: readonly Region[]): string | undefined {
  const region = listed.find((candidate) => candidate.RegionName === name)
  if (!region) {
    const nearest = nearestName(
      name,
      listed.flatMap((candidate) => (candidate.RegionName ? [candidate.RegionName] : []))
    )
    return `regions: "${name}" is not a region: DescribeRegions does not list it for this account.${nearest ? ` Did you mean ${nearest}?` : ''}`
  }
  if (region.OptInStatus === 'not-opted-in') {
    return `regions: "${name}" is not enabled for this account (opt-in status not-opted-in). Enable it, or leave it out of regions.`
  }
  return undefined
}

/**
 * The regions to sweep, before anything is swept. `all` is every region enabled for the account:
 * DescribeRegions without AllRegions lists exactly those, so opt-in regions that are not enabled
 * are never called. A list is checked offline against the SDK's partition data (inputs.ts); a
 * name the data does not know (a typo, or a region newer than this release) is looked up with
 * one DescribeRegions (AllRegions) and refused unless the account has it enabled. Known names
 * need no call, so a sweep of named regions needs no ec2:DescribeRegions.
 */
export async function resolveRegions(
  inputs: Pick<Inputs, 'regions'>,
  client: EC2Client,
  abortSignal?: AbortSignal
): Promise<string[]> {
  if (inputs.regions !== 'all') return checkUnknownRegions(inputs.regions, client, abortSignal)
  try {
    const { Regions } = await client.send(new DescribeRegionsCommand({ AllRegions: false }), { abortSignal })
    const names = (Regions ?? [])
      .filter((region) => region.OptInStatus !== 'not-opted-in')
      .flatMap((region) => (region.RegionName ? [region.RegionName] : []))
    if (names.length === 0) throw new Error('DescribeRegions listed no enabled region')
    return names.sort()
  } catch (error) {
    throw new Error(
      `regions: all could not be resolved: ${formatAwsError(describeAwsError(error, PERMISSION.describeRegions))}`,
      { cause: error }
    )
  }
}

async function checkUnknownRegions(regions: string[], client: EC2Client, abortSignal?: AbortSignal): Promise<string[]> {
  const unknown = regions.filter((name) => !isKnownRegion(name))
  if (unknown.length === 0) return regions
  let listed: Region[]
  try {
    listed = (await client.send(new DescribeRegionsCommand({ AllRegions: true }), { abortSignal })).Regions ?? []
  } catch (error) {
    const guesses = guessRegions(unknown)
    throw new Error(
      `regions: "${unknown.join(', ')}" is not a region this version of packer-sweeper knows${guesses ? ` (did you mean ${guesses}?)` : ''}, ` +
        'and looking it up failed: ' +
        formatAwsError(describeAwsError(error, PERMISSION.describeRegions)),
      { cause: error }
    )
  }
  const problems = unknown.flatMap((name) => unknownRegionProblem(name, listed) ?? [])
  if (problems.length > 0) throw new Error(problems.join('\n'))
  return regions
}
