import * as core from '@actions/core'
import { defaultProvider } from '@aws-sdk/credential-provider-node'
import type { AwsCredentialIdentity } from '@smithy/types'
import { describeAwsError, errorMessage } from './errors.js'
import { clientConfig } from './clients.js'
import { formatAwsError, oneLine } from '../model/format.js'
import type { Inputs } from '../model/types.js'

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

/** GitHub's token endpoint answers in well under a second; past this it is not going to. */
export const ID_TOKEN_TIMEOUT_MS = 30_000

/**
 * The job's OIDC token, asked of GitHub's endpoint as core.getIDToken does, but bounded in time
 * (core.getIDToken has no timeout) and with the HTTP status in the error, so a failing endpoint
 * is not mistaken for a missing `id-token: write`.
 */
async function requestIdToken(
  audience: string,
  abortSignal: AbortSignal | undefined,
  env: NodeJS.ProcessEnv = process.env
): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (!url || !requestToken) {
    throw new CredentialsError(
      'role-to-assume is set, but GitHub gave this job no OIDC token. Add "permissions: id-token: write" to the job (or the workflow), ' +
        'or leave role-to-assume empty and configure credentials before this step. (ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set.)'
    )
  }
  const tokenUrl = `${url}&audience=${encodeURIComponent(audience)}`
  let response: Response
  try {
    response = await fetch(tokenUrl, {
      headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json' },
      signal: AbortSignal.any([AbortSignal.timeout(ID_TOKEN_TIMEOUT_MS), ...(abortSignal ? [abortSignal] : [])])
    })
  } catch (error) {
    // fetch rejects with the signal's reason, a DOMException: not always an Error of this realm.
    const name = (error as { name?: unknown } | undefined)?.name
    const timedOut = name === 'TimeoutError' || name === 'AbortError'
    const why = timedOut ? 'did not answer in time' : `could not be reached (${errorMessage(error)})`
    throw new CredentialsError(
      `GitHub's OIDC token endpoint ${why}. This is GitHub's side, not a missing permission: re-run the job.`
    )
  }
  if (!response.ok) {
    const advice =
      response.status === 401 || response.status === 403
        ? 'The job may lack "permissions: id-token: write", or its request token expired.'
        : "This is GitHub's side, not a missing permission: re-run the job."
    throw new CredentialsError(
      `GitHub's OIDC token endpoint answered HTTP ${response.status} ${oneLine(response.statusText)}. ${advice}`
    )
  }
  const body = (await response.json().catch(() => undefined)) as { value?: unknown } | undefined
  if (typeof body?.value !== 'string' || body.value === '') {
    throw new CredentialsError('GitHub\'s OIDC token endpoint answered without a token (no "value" in its JSON).')
  }
  core.setSecret(body.value)
  return body.value
}

async function assumeRoleWithOidc(
  inputs: Inputs,
  region: string,
  abortSignal?: AbortSignal
): Promise<AwsCredentialIdentity> {
  const token = await requestIdToken(inputs.audience, abortSignal)
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
      }),
      { abortSignal }
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
export async function resolveCredentials(
  inputs: Inputs,
  region: string,
  abortSignal?: AbortSignal
): Promise<AwsCredentialIdentity> {
  if (inputs['role-to-assume']) return assumeRoleWithOidc(inputs, region, abortSignal)
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
