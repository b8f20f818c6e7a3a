import * as core from '@actions/core'
import { defaultProvider } from '@aws-sdk/credential-provider-node'
import type { AwsCredentialIdentity } from '@smithy/types'
import { describeAwsError, errorMessage, formatAwsError } from './aws-errors.js'
import { clientConfig } from './clients.js'
import type { Inputs } from './types.js'

/** An assumed role lasts one hour: a sweep, its waits and its retries fit well inside. */
const SESSION_SECONDS = 3600

export class CredentialsError extends Error {
  override name = 'CredentialsError'
}

/** Hides every part of a credential from the log, before anything could print it. */
function mask(credentials: AwsCredentialIdentity): void {
  core.setSecret(credentials.accessKeyId)
  core.setSecret(credentials.secretAccessKey)
  if (credentials.sessionToken) core.setSecret(credentials.sessionToken)
}

async function requestIdToken(audience: string): Promise<string> {
  const missing = !process.env.ACTIONS_ID_TOKEN_REQUEST_URL || !process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  try {
    if (missing) throw new Error('ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set')
    return await core.getIDToken(audience)
  } catch (error) {
    throw new CredentialsError(
      'role-to-assume is set, but GitHub gave this job no OIDC token. Add "permissions: id-token: write" to the job ' +
        `(or the workflow), or leave role-to-assume empty and configure credentials before this step. (${errorMessage(error)})`
    )
  }
}

async function assumeRoleWithOidc(inputs: Inputs, region: string): Promise<AwsCredentialIdentity> {
  const token = await requestIdToken(inputs.audience)
  // Loaded only when a role is to be assumed: runs with ready credentials never pay for STS.
  const { STSClient, AssumeRoleWithWebIdentityCommand } = await import('@aws-sdk/client-sts')
  const sts = new STSClient(clientConfig({ region }))
  try {
    const { Credentials: issued } = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: inputs['role-to-assume'],
        RoleSessionName: inputs['role-session-name'],
        WebIdentityToken: token,
        DurationSeconds: SESSION_SECONDS
      })
    )
    if (!issued?.AccessKeyId || !issued.SecretAccessKey) throw new Error('STS returned no credentials')
    const credentials: AwsCredentialIdentity = {
      accessKeyId: issued.AccessKeyId,
      secretAccessKey: issued.SecretAccessKey,
      ...(issued.SessionToken ? { sessionToken: issued.SessionToken } : {}),
      ...(issued.Expiration ? { expiration: issued.Expiration } : {})
    }
    mask(credentials)
    return credentials
  } catch (error) {
    // A refusal here is the role's trust policy, not a missing permission of the role itself.
    const info = describeAwsError(error)
    throw new CredentialsError(
      `Could not assume ${inputs['role-to-assume']} with the GitHub OIDC token: ${formatAwsError(info)}. ` +
        `Check that the role trusts token.actions.githubusercontent.com for this repository and the audience "${inputs.audience}".`
    )
  } finally {
    sts.destroy()
  }
}

/**
 * The credentials every client of the run shares, resolved once so a missing credential fails
 * the step with one clear message instead of once per region.
 * - role-to-assume set: GitHub OIDC token → AssumeRoleWithWebIdentity, kept in memory only.
 * - otherwise: the SDK's default chain (environment, e.g. from aws-actions/configure-aws-credentials,
 *   shared config/AWS_PROFILE, container or instance roles).
 */
export async function resolveCredentials(inputs: Inputs, region: string): Promise<AwsCredentialIdentity> {
  if (inputs['role-to-assume']) return assumeRoleWithOidc(inputs, region)
  try {
    const credentials = await defaultProvider()()
    mask(credentials)
    return credentials
  } catch (error) {
    throw new CredentialsError(
      'No AWS credentials found. Set role-to-assume (with "permissions: id-token: write"), or configure credentials ' +
        `before this step, e.g. with aws-actions/configure-aws-credentials. (${errorMessage(error)})`
    )
  }
}
