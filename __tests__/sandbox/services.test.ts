/** SNS, STS, unknown actions and injected faults, through the real SDK clients and their retries. */
import { DescribeInstancesCommand, DescribeRegionsCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2'
import { PublishCommand } from '@aws-sdk/client-sns'
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { DEFAULT_TOPIC_ARN, startSandbox, type Sandbox } from '../../sandbox/index.js'
import { ec2, errorOf, sns, sts } from './sdk.js'

let s: Sandbox
beforeEach(async () => {
  s = await startSandbox({
    fleet: {
      'us-east-1': { instances: [{ id: 'i-00000001' }, { id: 'i-00000002' }] },
      'eu-west-1': { instances: [{ id: 'i-00000003' }] }
    }
  })
})
afterEach(() => s.close())

describe('SNS Publish', () => {
  it('keeps published messages, in the topic’s region only', async () => {
    const message = JSON.stringify({ default: 'text', email: 'text', sqs: '{"a":1}' })
    const out = await sns(s).send(
      new PublishCommand({
        TopicArn: DEFAULT_TOPIC_ARN,
        Subject: 'packer-sweeper: 2 found',
        Message: message,
        MessageStructure: 'json'
      })
    )
    expect(out.MessageId).toBe(s.published[0]?.messageId)
    expect(s.published[0]).toMatchObject({
      topicArn: DEFAULT_TOPIC_ARN,
      region: 'us-east-1',
      subject: 'packer-sweeper: 2 found',
      message,
      messageStructure: 'json'
    })
    const wrongRegion = await errorOf(
      sns(s, 'eu-west-1').send(new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Message: 'x' }))
    )
    expect(wrongRegion).toMatchObject({ name: 'InvalidParameterException' })
  })

  it('refuses unknown topics, long subjects, and JSON structures without default', async () => {
    const unknown = await errorOf(
      sns(s).send(new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:nope', Message: 'x' }))
    )
    expect(unknown).toMatchObject({ name: 'NotFoundException', message: 'Topic does not exist', status: 404 })
    const long = await errorOf(
      sns(s).send(new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Subject: 'x'.repeat(100), Message: 'x' }))
    )
    expect(long).toMatchObject({ name: 'InvalidParameterException', message: 'Invalid parameter: Subject' })
    const newline = await errorOf(
      sns(s).send(new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Subject: 'a\nb', Message: 'x' }))
    )
    expect(newline.name).toBe('InvalidParameterException')
    const noDefault = await errorOf(
      sns(s).send(
        new PublishCommand({ TopicArn: DEFAULT_TOPIC_ARN, Message: '{"email":"x"}', MessageStructure: 'json' })
      )
    )
    expect(noDefault.message).toContain('No default entry')
    expect(s.published).toEqual([])
  })
})

describe('STS', () => {
  it('hands out fresh credentials for a web identity token, and later calls are signed with them', async () => {
    const out = await sts(s).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: 'arn:aws:iam::123456789012:role/sweeper',
        RoleSessionName: 'packer-sweeper',
        WebIdentityToken: 'oidc-token'
      })
    )
    const creds = out.Credentials
    expect(creds?.AccessKeyId).toMatch(/^ASIA/)
    expect(creds?.Expiration).toBeInstanceOf(Date)
    expect(s.assumedRoles[0]).toMatchObject({
      roleArn: 'arn:aws:iam::123456789012:role/sweeper',
      webIdentityToken: 'oidc-token',
      accessKeyId: creds?.AccessKeyId
    })
    const credentials = {
      accessKeyId: creds?.AccessKeyId as string,
      secretAccessKey: creds?.SecretAccessKey as string,
      sessionToken: creds?.SessionToken
    }
    const who = await sts(s, 'us-east-1', { credentials }).send(new GetCallerIdentityCommand({}))
    expect(who.Arn).toBe('arn:aws:sts::123456789012:assumed-role/sweeper/packer-sweeper')
    await ec2(s, 'us-east-1', { credentials }).send(new DescribeInstancesCommand({}))
    expect(s.calls.at(-1)).toMatchObject({ action: 'DescribeInstances', accessKeyId: creds?.AccessKeyId })
    // AssumeRoleWithWebIdentity is unsigned: no access key, no region.
    expect(s.calls[0]).toMatchObject({ service: 'sts', action: 'AssumeRoleWithWebIdentity', accessKeyId: undefined })
  })

  it('rejects an empty token and, when configured, a token it does not accept', async () => {
    const assume = (WebIdentityToken: string) =>
      sts(s).send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: 'arn:aws:iam::123456789012:role/sweeper',
          RoleSessionName: 'x1',
          WebIdentityToken
        })
      )
    expect(await errorOf(assume(''))).toMatchObject({ name: 'ValidationError' })
    await s.close()
    s = await startSandbox({ sts: { acceptToken: (t) => t === 'good' } })
    expect(await errorOf(assume('bad-token'))).toMatchObject({ name: 'InvalidIdentityTokenException' })
    expect(s.assumedRoles).toEqual([])
  })
})

describe('unknown actions', () => {
  it('answers InvalidAction in each service’s envelope', async () => {
    const ec2Reply = await fetch(s.url, {
      method: 'POST',
      body: 'Action=RunInstances&Version=2016-11-15',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AK/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x'
      }
    })
    expect(ec2Reply.status).toBe(400)
    expect(await ec2Reply.text()).toContain(
      '<Response><Errors><Error><Code>InvalidAction</Code><Message>The action RunInstances is not valid for this web service.</Message>'
    )
    const snsReply = await fetch(s.url, { method: 'POST', body: 'Action=CreateTopic&Version=2010-03-31' })
    expect(await snsReply.text()).toContain(
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidAction</Code>'
    )
  })
})

describe('faults', () => {
  it('throttles the next N calls with RequestLimitExceeded/503, and the SDK retries through them', async () => {
    s.faults.throttle({ action: 'DescribeInstances', count: 2 })
    const out = await ec2(s, 'us-east-1', { maxAttempts: 5 }).send(new DescribeInstancesCommand({}))
    expect(out.Reservations).toHaveLength(2)
    expect(s.callsOf('DescribeInstances').map((c) => [c.status, c.errorCode])).toEqual([
      [503, 'RequestLimitExceeded'],
      [503, 'RequestLimitExceeded'],
      [200, undefined]
    ])
    s.faults.throttle({ action: 'DescribeInstances', count: 1 })
    expect(await errorOf(ec2(s).send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'RequestLimitExceeded',
      status: 503
    })
  })

  it('throttles per region', async () => {
    s.faults.throttle({ region: 'eu-west-1', count: 5 })
    await ec2(s, 'us-east-1').send(new DescribeInstancesCommand({}))
    expect(await errorOf(ec2(s, 'eu-west-1').send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'RequestLimitExceeded'
    })
  })

  it('denies an action or a whole region with UnauthorizedOperation', async () => {
    s.faults.deny({ action: 'TerminateInstances' }).deny({ region: 'eu-west-1' })
    const terminate = await errorOf(ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000001'] })))
    expect(terminate).toMatchObject({ name: 'UnauthorizedOperation', status: 403 })
    expect(terminate.message).toContain('ec2:TerminateInstances')
    await ec2(s).send(new DescribeInstancesCommand({}))
    expect(await errorOf(ec2(s, 'eu-west-1').send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'UnauthorizedOperation'
    })
    expect(s.fleet.instance('i-00000001')?.state).toBe('running')
  })

  it('answers AuthFailure for a disabled region and for regions the account does not have', async () => {
    s.faults.disableRegion('eu-west-1')
    expect(await errorOf(ec2(s, 'eu-west-1').send(new DescribeInstancesCommand({})))).toMatchObject({
      name: 'AuthFailure',
      status: 401
    })
    expect(await errorOf(ec2(s, 'mars-1').send(new DescribeRegionsCommand({})))).toMatchObject({ name: 'AuthFailure' })
  })

  it('drops the connection for the next N calls; the SDK retries', async () => {
    s.faults.drop({ action: 'DescribeInstances', count: 1 })
    const out = await ec2(s, 'us-east-1', { maxAttempts: 3 }).send(new DescribeInstancesCommand({}))
    expect(out.Reservations).toHaveLength(2)
    expect(s.callsOf('DescribeInstances').map((c) => c.status)).toEqual([0, 200])
    s.faults.drop({ action: 'DescribeInstances', count: 1 })
    const failed = await errorOf(ec2(s).send(new DescribeInstancesCommand({})))
    expect(failed.message).toMatch(/socket hang up|ECONNRESET/)
  })

  it('can drop the answer after the change was made', async () => {
    s.faults.drop({ action: 'TerminateInstances', count: 1, afterProcessing: true })
    await errorOf(ec2(s).send(new TerminateInstancesCommand({ InstanceIds: ['i-00000001'] })))
    expect(s.fleet.instance('i-00000001')?.state).toBe('terminated')
  })
})
