/**
 * What the account's scope holds beyond a region's: every region enabled for the account (asked
 * once, and only when a kind needs it) and the IAM client (loaded on first use: runs without an
 * IAM kind never load it). IAM is global; its client takes the run's home region, and the SDK
 * picks that partition's endpoint.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { IAMClient } from '@aws-sdk/client-iam'
import type { AwsCredentialIdentity } from '@smithy/types'
import { clientConfig } from '../aws/clients.js'
import { resolveRegions } from '../aws/regions.js'
import type { Inputs } from '../model/types.js'

export interface Account {
  inputs: Pick<Inputs, 'regions'>
  credentials: AwsCredentialIdentity
  /** The run's home region: its partition is the one swept. */
  home: string
  /** The regions this run sweeps (for `regions: all`, every enabled one). */
  regions: readonly string[]
  ec2For(region: string): EC2Client
}

export interface AccountParts {
  /** The swept regions under `regions: all`; otherwise DescribeRegions, asked once within `abortSignal`. */
  enabledRegions(): Promise<readonly string[]>
  iam(): Promise<IAMClient>
  /** Destroys the IAM client, when one was made. */
  dispose(): void
}

export function accountParts(account: Account, abortSignal: AbortSignal): AccountParts {
  let regions: Promise<readonly string[]> | undefined
  let iam: Promise<IAMClient> | undefined
  return {
    enabledRegions: () =>
      (regions ??=
        account.inputs.regions === 'all'
          ? Promise.resolve(account.regions)
          : resolveRegions({ regions: 'all' }, account.ec2For(account.home), abortSignal)),
    iam: () =>
      (iam ??= import('@aws-sdk/client-iam').then(
        ({ IAMClient }) => new IAMClient(clientConfig({ region: account.home, credentials: account.credentials }))
      )),
    dispose: () => void iam?.then((client) => client.destroy())
  }
}
