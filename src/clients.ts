import type { AwsCredentialIdentity } from '@smithy/types'

/**
 * How many times the SDK tries one call. Adaptive mode adds client-side rate limiting on top of
 * exponential backoff, which is what EC2's per-account token buckets (RequestLimitExceeded)
 * want when several regions and batches run at once.
 */
export const MAX_ATTEMPTS = 8

const CONNECTION_TIMEOUT_MS = 10_000
/** A DescribeInstances page of 1,000 instances takes a few seconds at worst. */
const REQUEST_TIMEOUT_MS = 60_000

export interface ClientOptions {
  region: string
  /** Undefined = the SDK's default credential chain. */
  credentials?: AwsCredentialIdentity
}

/**
 * The configuration every AWS client of the sweep shares. The endpoint is left to the SDK, so
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> work as they do for every other SDK tool.
 */
export function clientConfig({ region, credentials }: ClientOptions) {
  return {
    region,
    retryMode: 'adaptive' as const,
    maxAttempts: MAX_ATTEMPTS,
    // An endpoint that accepts the connection and never answers must fail (and be retried), not
    // hold the job until GitHub's six-hour limit.
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    ...(credentials ? { credentials } : {})
  }
}
