import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AssumeRoleWithWebIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import * as core from '../../../__fixtures__/core.js'
import { defaultInputs } from '../../../__fixtures__/support.js'

jest.unstable_mockModule('@actions/core', () => core)
const { CredentialsError, resolveCredentials } = await import('../../../src/aws/credentials.js')

const ROLE = 'arn:aws:iam::123456789012:role/packer-sweeper'
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.github-oidc-token.signature'
const ISSUED = {
  AccessKeyId: 'ASIAEXAMPLEKEYID0001',
  SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  SessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN',
  Expiration: new Date('2026-03-01T13:00:00.000Z')
}

const stsMock = mockClient(STSClient)
const savedEnv = { ...process.env }
let scratch: string

/** No credentials anywhere the SDK's default chain looks: env, shared files, SSO, containers, IMDS. */
function clearCredentialSources(): void {
  for (const name of Object.keys(process.env))
    if (name.startsWith('AWS_') || name.startsWith('ACTIONS_ID_TOKEN_')) delete process.env[name]
  process.env.AWS_CONFIG_FILE = join(scratch, 'no-config')
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(scratch, 'no-credentials')
  process.env.AWS_EC2_METADATA_DISABLED = 'true'
}

/** A stand-in for GitHub's OIDC token endpoint: answers `tokenAnswer` (or never, when silent). */
let tokenServer: Server
let tokenAnswer: { status: number; body: string } | 'silent'
const tokenRequests: { url: string; authorization?: string }[] = []

beforeAll(async () => {
  tokenServer = createServer((req, res) => {
    tokenRequests.push({ url: req.url ?? '', authorization: req.headers.authorization })
    if (tokenAnswer === 'silent') return
    res.writeHead(tokenAnswer.status, { 'content-type': 'application/json' })
    res.end(tokenAnswer.body)
  })
  await new Promise<void>((done) => tokenServer.listen(0, '127.0.0.1', done))
})

afterAll(async () => {
  tokenServer.closeAllConnections()
  await new Promise((done) => tokenServer.close(done))
})

function withOidc(): void {
  process.env.ACTIONS_ID_TOKEN_REQUEST_URL = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/oidc?api-version=2.0`
  process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'request-token'
  tokenAnswer = { status: 200, body: JSON.stringify({ value: TOKEN }) }
}

/** Every string that went to a log function of @actions/core. */
function logged(): string {
  return [core.debug, core.info, core.notice, core.warning, core.error, core.setFailed, core.setOutput]
    .flatMap((fn) => fn.mock.calls.flat())
    .map(String)
    .join('\n')
}

/** The rejection of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('resolved, but should have been rejected')
}

beforeEach(() => {
  jest.resetAllMocks()
  tokenRequests.length = 0
  stsMock.reset()
  scratch = mkdtempSync(join(tmpdir(), 'packer-sweeper-credentials-'))
  clearCredentialSources()
})

afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name]
  Object.assign(process.env, savedEnv)
  rmSync(scratch, { recursive: true, force: true })
})

describe('role-to-assume: GitHub OIDC', () => {
  const inputs = defaultInputs({
    'role-to-assume': ROLE,
    'role-session-name': 'gh-run-42',
    audience: 'sts.example.com'
  })

  it.each([
    ['neither variable', {}],
    ['only the URL', { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.actions.example/' }],
    ['only the token', { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' }]
  ])('without id-token: write (%s): an error that says so, no token asked, no STS call', async (_title, env) => {
    Object.assign(process.env, env)
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.name).toBe('CredentialsError')
    expect(error.message).toContain('permissions: id-token: write')
    expect(error.message).toMatch(/^role-to-assume is set, but GitHub gave this job no OIDC token\./)
    expect(tokenRequests).toHaveLength(0)
    expect(stsMock.calls()).toHaveLength(0)
  })

  it('the token endpoint refusing (403): the status, and the id-token: write advice', async () => {
    withOidc()
    tokenAnswer = { status: 403, body: '{"message":"forbidden"}' }
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.message).toContain('HTTP 403')
    expect(error.message).toContain('id-token: write')
    expect(stsMock.calls()).toHaveLength(0)
  })

  it.each([500, 502, 503])(
    'the token endpoint failing (%i): the status, and no id-token: write advice',
    async (status) => {
      withOidc()
      tokenAnswer = { status, body: '{}' }
      const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
      expect(error).toBeInstanceOf(CredentialsError)
      expect(error.message).toContain(`answered HTTP ${status}`)
      expect(error.message).toContain('not a missing permission')
      expect(error.message).not.toContain('id-token: write')
      expect(stsMock.calls()).toHaveLength(0)
    }
  )

  it('a silent token endpoint: the request ends with the deadline and says so', async () => {
    withOidc()
    tokenAnswer = 'silent'
    const error = await rejection(resolveCredentials(inputs, 'us-east-1', AbortSignal.timeout(200)))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.message).toContain('did not answer in time')
    expect(tokenRequests).toHaveLength(1)
    expect(stsMock.calls()).toHaveLength(0)
  })

  it('a token endpoint answering without a token: says so', async () => {
    withOidc()
    tokenAnswer = { status: 200, body: '{"count":0}' }
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error.message).toContain('without a token')
    expect(stsMock.calls()).toHaveLength(0)
  })

  it('asks for a token for the audience and assumes the role with it', async () => {
    withOidc()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })
    const credentials = await resolveCredentials(inputs, 'eu-west-1')
    expect(tokenRequests).toEqual([
      { url: '/oidc?api-version=2.0&audience=sts.example.com', authorization: 'Bearer request-token' }
    ])
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleWithWebIdentityCommand, 1)
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleWithWebIdentityCommand, {
      RoleArn: ROLE,
      RoleSessionName: 'gh-run-42',
      WebIdentityToken: TOKEN
    })
    expect(credentials).toEqual({
      accessKeyId: ISSUED.AccessKeyId,
      secretAccessKey: ISSUED.SecretAccessKey,
      sessionToken: ISSUED.SessionToken,
      expiration: ISSUED.Expiration
    })
  })

  it('asks STS in the given region', async () => {
    withOidc()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })
    await resolveCredentials(inputs, 'eu-west-1')
    const sts = stsMock.call(0).thisValue as STSClient
    await expect(sts.config.region()).resolves.toBe('eu-west-1')
  })

  it('masks the OIDC token, the key ID, the secret key and the session token, and logs none of them', async () => {
    withOidc()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })
    await resolveCredentials(inputs, 'us-east-1')
    const masked = core.setSecret.mock.calls.map(([secret]) => secret)
    expect(masked).toEqual(
      expect.arrayContaining([TOKEN, ISSUED.AccessKeyId, ISSUED.SecretAccessKey, ISSUED.SessionToken])
    )
    for (const secret of [ISSUED.AccessKeyId, ISSUED.SecretAccessKey, ISSUED.SessionToken, TOKEN])
      expect(logged()).not.toContain(secret)
  })

  it('STS AccessDenied: an error naming the role, the trust and the audience', async () => {
    withOidc()
    const denied = new STSServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity'
    })
    stsMock.on(AssumeRoleWithWebIdentityCommand).rejects(denied)
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.message).toMatch(
      new RegExp(
        `^Could not assume ${ROLE} with the GitHub OIDC token: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`
      )
    )
    expect(error.message).toContain('trusts token.actions.githubusercontent.com')
    expect(error.message).toContain('"sts.example.com"')
    expect(error.message).not.toContain(TOKEN)
    // Only the OIDC token was masked: no credentials were issued.
    expect(core.setSecret.mock.calls).toEqual([[TOKEN]])
  })

  it.each([
    ['no Credentials', {}],
    ['no secret key', { Credentials: { ...ISSUED, SecretAccessKey: undefined } }],
    ['no key ID', { Credentials: { ...ISSUED, AccessKeyId: undefined } }]
  ])('STS answering with %s: an error, nothing returned', async (_title, answer) => {
    withOidc()
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves(answer)
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.message).toContain('STS returned no credentials')
  })

  it('the role is assumed even when credentials are in the environment', async () => {
    withOidc()
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVIRONMENTKEY01'
    process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret'
    stsMock.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: ISSUED })
    const credentials = await resolveCredentials(inputs, 'us-east-1')
    expect(credentials.accessKeyId).toBe(ISSUED.AccessKeyId)
  })
})

describe('no role-to-assume: the default credential chain', () => {
  const inputs = defaultInputs()

  it('nothing anywhere: "No AWS credentials found", with what to do', async () => {
    const error = await rejection(resolveCredentials(inputs, 'us-east-1'))
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.message).toMatch(
      /^No AWS credentials found\. Set role-to-assume \(with "permissions: id-token: write"\)/
    )
    expect(error.message).toContain('aws-actions/configure-aws-credentials')
    expect(stsMock.calls()).toHaveLength(0)
    expect(tokenRequests).toHaveLength(0)
  })

  it('environment credentials are returned and masked', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVIRONMENTKEY01'
    process.env.AWS_SECRET_ACCESS_KEY = 'environment-secret'
    process.env.AWS_SESSION_TOKEN = 'environment-session-token'
    const credentials = await resolveCredentials(inputs, 'us-east-1')
    expect(credentials).toMatchObject({
      accessKeyId: 'AKIAENVIRONMENTKEY01',
      secretAccessKey: 'environment-secret',
      sessionToken: 'environment-session-token'
    })
    const masked = core.setSecret.mock.calls.map(([secret]) => secret)
    expect(masked).toEqual(
      expect.arrayContaining(['AKIAENVIRONMENTKEY01', 'environment-secret', 'environment-session-token'])
    )
    expect(logged()).not.toContain('environment-secret')
    expect(stsMock.calls()).toHaveLength(0)
    expect(tokenRequests).toHaveLength(0)
  })

  it('long-term keys without a session token: both masked, nothing undefined masked', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAENVIRONMENTKEY02'
    process.env.AWS_SECRET_ACCESS_KEY = 'another-secret'
    await resolveCredentials(inputs, 'us-east-1')
    const masked = core.setSecret.mock.calls.map(([secret]) => secret)
    expect(masked).toEqual(expect.arrayContaining(['AKIAENVIRONMENTKEY02', 'another-secret']))
    expect(masked.every((secret) => typeof secret === 'string' && secret !== '')).toBe(true)
  })

  it('a shared credentials file (AWS_PROFILE) is found too', async () => {
    const file = join(scratch, 'credentials')
    writeFileSync(file, '[ci]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profile-secret\n')
    process.env.AWS_SHARED_CREDENTIALS_FILE = file
    process.env.AWS_PROFILE = 'ci'
    const credentials = await resolveCredentials(inputs, 'us-east-1')
    expect(credentials).toMatchObject({ accessKeyId: 'AKIAPROFILEKEY000001', secretAccessKey: 'profile-secret' })
    expect(core.setSecret).toHaveBeenCalledWith('profile-secret')
  })
})
