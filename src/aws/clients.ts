import { EC2Client } from '@aws-sdk/client-ec2'
import type { AwsCredentialIdentity } from '@smithy/types'

/**
 * How many times the SDK tries one call. Adaptive mode adds client-side rate limiting on top of
 * exponential backoff, which is what EC2's per-account token buckets (RequestLimitExceeded)
 * want when several regions and batches run at once.
 */
export const MAX_ATTEMPTS = 8

/** A TCP connection to an AWS endpoint opens in milliseconds; 5 s means the endpoint is not there. */
export const CONNECTION_TIMEOUT_MS = 5_000
/**
 * One attempt of one call, answer included. A DescribeInstances page of 1,000 instances takes a
 * few seconds at worst; an attempt past this is abandoned with a TimeoutError that the retry
 * strategy retries like a dropped connection. The region deadline (region-timeout) bounds the sum.
 */
export const REQUEST_TIMEOUT_MS = 30_000

/**
 * Connections one client (one region) may hold open at once. A region deletes up to 25 leftovers of
 * each kind side by side: with the SDK's default of 50, a third kind's deletes waited a whole round
 * trip for the first two's connections.
 */
export const MAX_SOCKETS = 100

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
    // Without throwOnRequestTimeout the handler only logs a warning when requestTimeout passes and
    // keeps waiting: an endpoint that accepts the connection and never answers would hold the run.
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      httpAgent: { maxSockets: MAX_SOCKETS },
      httpsAgent: { maxSockets: MAX_SOCKETS }
    },
    ...(credentials ? { credentials } : {})
  }
}

/** One EC2 client per region, made on first use and all closed at the end. */
export function regionalClients(credentials: AwsCredentialIdentity) {
  const clients = new Map<string, EC2Client>()
  return {
    get(region: string): EC2Client {
      let client = clients.get(region)
      if (!client) clients.set(region, (client = new EC2Client(clientConfig({ region, credentials }))))
      return client
    },
    destroyAll() {
      for (const client of clients.values()) client.destroy()
    }
  }
}
