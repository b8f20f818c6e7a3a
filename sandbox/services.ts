/**
 * SNS Publish and STS (AssumeRoleWithWebIdentity, GetCallerIdentity), both awsQuery protocol in
 * SDK v3: form-urlencoded POST, `<XResponse><XResult>…</XResult>` answers.
 */
import { randomUUID } from 'node:crypto'
import { ACCOUNT_ID } from './ec2.js'
import type { AssumedRole, PublishedMessage } from './types.js'
import { AwsFault, el, hex, type Params } from './wire.js'

export interface CallerContext {
  params: Params
  region?: string
  accessKeyId?: string
}

export const SNS_MAX_MESSAGE_BYTES = 262144

export class SnsService {
  readonly topics: Set<string>
  readonly published: PublishedMessage[] = []

  constructor(topics: string[]) {
    this.topics = new Set(topics)
  }

  publish(ctx: CallerContext): string {
    const { TopicArn: topicArn, Subject: subject, Message: message, MessageStructure: structure } = ctx.params
    if (!topicArn)
      throw new AwsFault(
        'InvalidParameter',
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter'
      )
    if (message === undefined || message === '')
      throw new AwsFault('InvalidParameter', 'Invalid parameter: Empty message')
    const topicRegion = topicArn.split(':')[3]
    if (ctx.region && topicRegion !== ctx.region) throw new AwsFault('InvalidParameter', 'Invalid parameter: TopicArn')
    if (!this.topics.has(topicArn)) throw new AwsFault('NotFound', 'Topic does not exist', 404)
    // SNS: subject under 100 characters, printable ASCII-ish, no line breaks or control characters.
    if (
      subject !== undefined &&
      (subject.length >= 100 ||
        subject.length === 0 ||
        [...subject].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127))
    ) {
      throw new AwsFault('InvalidParameter', 'Invalid parameter: Subject')
    }
    if (Buffer.byteLength(message, 'utf8') > SNS_MAX_MESSAGE_BYTES)
      throw new AwsFault('InvalidParameter', 'Invalid parameter: Message too long')
    if (structure !== undefined && structure !== 'json')
      throw new AwsFault('InvalidParameter', 'Invalid parameter: MessageStructure')
    if (structure === 'json') {
      let parsed: unknown
      try {
        parsed = JSON.parse(message)
      } catch {
        throw new AwsFault(
          'InvalidParameter',
          'Invalid parameter: Message Structure - JSON message body failed to parse'
        )
      }
      if (!parsed || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw new AwsFault(
          'InvalidParameter',
          'Invalid parameter: Message Structure - No default entry in JSON message body'
        )
      }
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (typeof value !== 'string')
          throw new AwsFault(
            'InvalidParameter',
            `Invalid parameter: Message Structure - value of '${key}' must be a string`
          )
      }
    }
    const messageId = randomUUID()
    this.published.push({
      topicArn,
      region: ctx.region,
      accessKeyId: ctx.accessKeyId,
      subject,
      message,
      messageStructure: structure,
      messageId
    })
    return el('MessageId', messageId)
  }
}

export interface StsOptions {
  /** Whether a web identity token is accepted; default: any non-empty token. */
  acceptToken?: (token: string) => boolean
}

export class StsService {
  readonly assumed: AssumedRole[] = []
  private readonly random = Math.random

  constructor(private readonly options: StsOptions = {}) {}

  assumeRoleWithWebIdentity(ctx: CallerContext): string {
    const { RoleArn: roleArn = '', RoleSessionName: session = '', WebIdentityToken: token = '' } = ctx.params
    if (token.length < 4) {
      throw new AwsFault(
        'ValidationError',
        "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"
      )
    }
    if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn))
      throw new AwsFault('ValidationError', `${roleArn} is invalid`)
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw new AwsFault(
        'ValidationError',
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
      )
    }
    if (this.options.acceptToken && !this.options.acceptToken(token)) {
      throw new AwsFault(
        'InvalidIdentityToken',
        'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.'
      )
    }
    const role: AssumedRole = {
      roleArn,
      roleSessionName: session,
      webIdentityToken: token,
      accessKeyId: `ASIA${hex(this.random, 16).toUpperCase()}`,
      secretAccessKey: hex(this.random, 40),
      sessionToken: `sandbox-session-${hex(this.random, 32)}`
    }
    this.assumed.push(role)
    const roleName = roleArn.split('/').pop() as string
    return (
      el('SubjectFromWebIdentityToken', 'repo:sandbox/repo:ref:refs/heads/main') +
      el('Audience', 'sts.amazonaws.com') +
      `<AssumedRoleUser>${el('Arn', `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${roleName}/${session}`)}${el('AssumedRoleId', `AROASANDBOX:${session}`)}</AssumedRoleUser>` +
      `<Credentials>${el('AccessKeyId', role.accessKeyId)}${el('SecretAccessKey', role.secretAccessKey)}${el('SessionToken', role.sessionToken)}${el('Expiration', new Date(Date.now() + 3600_000).toISOString())}</Credentials>` +
      el('Provider', 'token.actions.githubusercontent.com')
    )
  }

  getCallerIdentity(ctx: CallerContext): string {
    return (
      el('Arn', this.principal(ctx.accessKeyId)) +
      el('UserId', ctx.accessKeyId ?? 'anonymous') +
      el('Account', ACCOUNT_ID)
    )
  }

  /** The ARN a set of credentials acts as. */
  principal(accessKeyId: string | undefined): string {
    const role = this.assumed.find((r) => r.accessKeyId === accessKeyId)
    if (role) return `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role.roleArn.split('/').pop()}/${role.roleSessionName}`
    return `arn:aws:iam::${ACCOUNT_ID}:user/sandbox`
  }
}
