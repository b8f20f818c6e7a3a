/** role-to-assume: GitHub OIDC token → STS AssumeRoleWithWebIdentity → EC2 signed with the role. */
import { afterEach, describe, expect, it } from '@jest/globals'
import { generateFleet } from '../../sandbox/index.js'
import { sandboxPerTest } from './fleet.js'
import { runAction, STATIC_KEY_ID, startTokenServer, type TokenServer } from '../../sandbox/run-action.js'
import { expectExit } from './harness.js'

const { start } = sandboxPerTest()
const ROLE = 'arn:aws:iam::123456789012:role/packer-sweeper'
let tokens: TokenServer | undefined
afterEach(async () => {
  await tokens?.close()
  tokens = undefined
})

describe('OIDC', () => {
  it('assumes the role with the GitHub token and signs every EC2 call with the assumed credentials', async () => {
    const s = await start({
      fleet: generateFleet({ region: 'us-east-1', count: 4, staleFraction: 1, seed: 4 }),
      sts: { acceptToken: (t) => t === tokens?.idToken }
    })
    tokens = await startTokenServer()
    const run = await runAction({
      sandbox: s,
      inputs: {
        action: 'terminate',
        'role-to-assume': ROLE,
        'role-session-name': 'sweep-4242',
        audience: 'sts.amazonaws.com'
      },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: tokens.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: tokens.requestToken }
    })
    expectExit(run, 0)
    expect(tokens.requests).toEqual([{ audience: 'sts.amazonaws.com', authorization: `Bearer ${tokens.requestToken}` }])
    expect(s.assumedRoles).toHaveLength(1)
    const role = s.assumedRoles[0]
    expect(role).toMatchObject({ roleArn: ROLE, roleSessionName: 'sweep-4242', webIdentityToken: tokens.idToken })
    const ec2Calls = s.calls.filter((c) => c.service === 'ec2')
    expect(ec2Calls.length).toBeGreaterThan(0)
    expect(new Set(ec2Calls.map((c) => c.accessKeyId))).toEqual(new Set([role?.accessKeyId]))
    expect(s.calls.some((c) => c.accessKeyId === STATIC_KEY_ID)).toBe(false)
    expect(run.list('acted-ids')).toHaveLength(4)
    // Secrets are masked (`::add-mask::`, which the runner consumes) and appear nowhere else.
    const masked = run.stdout.split('\n').filter((line) => line.startsWith('::add-mask::'))
    const visible =
      run.stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n') +
      run.stderr +
      JSON.stringify(run.outputs) +
      run.summary
    for (const secret of [role?.secretAccessKey, role?.sessionToken, tokens.idToken] as string[]) {
      expect(masked).toContain(`::add-mask::${secret}`)
      expect(visible).not.toContain(secret)
    }
  })

  it('without id-token: write (no token variables) fails with a message that says so, before any AWS call', async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 2, staleFraction: 1, seed: 4 }) })
    const run = await runAction({ sandbox: s, inputs: { action: 'terminate', 'role-to-assume': ROLE } })
    expectExit(run, 1)
    expect(run.log).toContain('id-token: write')
    expect(s.calls).toEqual([])
  })

  it("a token endpoint answering 503 fails the step saying HTTP 503 and GitHub's side, not id-token: write; no AWS call", async () => {
    const s = await start({ fleet: generateFleet({ region: 'us-east-1', count: 2, staleFraction: 1, seed: 4 }) })
    tokens = await startTokenServer({ status: 503 })
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'role-to-assume': ROLE },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: tokens.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: tokens.requestToken }
    })
    expectExit(run, 1)
    expect(tokens.requests).toHaveLength(1)
    expect(run.log).toContain(
      "GitHub's OIDC token endpoint answered HTTP 503 Service Unavailable. This is GitHub's side, not a missing permission: re-run the job."
    )
    expect(run.log).not.toContain('id-token: write')
    expect(run.report?.errors).toEqual([expect.stringContaining('HTTP 503')])
    expect(s.calls).toEqual([])
  })

  it('a token STS rejects fails the step and touches nothing', async () => {
    const s = await start({
      fleet: generateFleet({ region: 'us-east-1', count: 2, staleFraction: 1, seed: 4 }),
      sts: { acceptToken: () => false }
    })
    tokens = await startTokenServer()
    const run = await runAction({
      sandbox: s,
      inputs: { action: 'terminate', 'role-to-assume': ROLE },
      env: { ACTIONS_ID_TOKEN_REQUEST_URL: tokens.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: tokens.requestToken }
    })
    expectExit(run, 1)
    expect(run.log).toMatch(/InvalidIdentityToken/)
    expect(s.calls.filter((c) => c.service === 'ec2')).toEqual([])
  })
})
