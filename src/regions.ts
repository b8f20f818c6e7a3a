import { DescribeRegionsCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { describeAwsError, formatAwsError } from './aws-errors.js'
import { PERMISSION } from './permissions.js'
import type { Inputs } from './types.js'

/** Where `regions: all` asks for the region list when the job names no region. */
export const FALLBACK_HOME_REGION = 'us-east-1'

/** The region for calls that are not about one swept region: STS, DescribeRegions. */
export function homeRegion(inputs: Pick<Inputs, 'regions'>, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (inputs.regions !== 'all' && inputs.regions[0]) return env.AWS_REGION || env.AWS_DEFAULT_REGION || inputs.regions[0]
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || FALLBACK_HOME_REGION
}

/**
 * The regions to sweep. `all` is every region enabled for the account: DescribeRegions without
 * AllRegions lists exactly those, so opt-in regions that are not enabled are never called.
 */
export async function resolveRegions(inputs: Pick<Inputs, 'regions'>, client: EC2Client, abortSignal?: AbortSignal): Promise<string[]> {
  if (inputs.regions !== 'all') return inputs.regions
  try {
    const { Regions } = await client.send(new DescribeRegionsCommand({ AllRegions: false }), { abortSignal })
    const names = (Regions ?? []).filter((region) => region.OptInStatus !== 'not-opted-in').flatMap((region) => (region.RegionName ? [region.RegionName] : []))
    if (names.length === 0) throw new Error('DescribeRegions listed no enabled region')
    return names.sort()
  } catch (error) {
    throw new Error(`regions: all could not be resolved: ${formatAwsError(describeAwsError(error, PERMISSION.describeRegions))}`, { cause: error })
  }
}
