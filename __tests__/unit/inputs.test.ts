import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { EC2Client } from '@aws-sdk/client-ec2'
import { SNSClient } from '@aws-sdk/client-sns'
import { STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import { InputError, getInputs, parseDuration, splitList } from '../../src/inputs.js'
import { type Inputs } from '../../src/model/types.js'
import { KIND_NAMES } from '../../src/kinds/names.js'
import { actionDefaults, defaultInputs, inputGetter } from '../../__fixtures__/support.js'

const ENV = { AWS_REGION: 'us-east-1' }

/** The per-job tag the guards recommend for a post-build sweep (the same key as the examples' run_tags). */
const JOB_TAG =
  'packer-sweeper-job=${{ github.run_id }}-${{ github.run_attempt }}-${{ github.job }}-${{ strategy.job-index }}'

/** getInputs over action.yml's defaults with some inputs changed; its warnings go to `warnings`. */
const parse = (
  overrides: Record<string, string> = {},
  env: Record<string, string | undefined> = ENV,
  warnings: string[] = []
): Inputs => getInputs(inputGetter(overrides), env, (message) => warnings.push(message))

/** The warnings getInputs gives for these inputs (they parse). */
function warningsFor(overrides: Record<string, string>): string[] {
  const warnings: string[] = []
  parse(overrides, ENV, warnings)
  return warnings
}

/** The InputError getInputs throws, for a closer look at its message. */
function inputError(overrides: Record<string, string>, env: Record<string, string | undefined> = ENV): InputError {
  try {
    parse(overrides, env, [])
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`no InputError for ${JSON.stringify(overrides)}`)
}

describe('getInputs with action.yml defaults', () => {
  it('gives the documented defaults', () => {
    expect(parse()).toEqual(defaultInputs())
  })

  it('reads every input action.yml declares, by its exact name, and returns each of them', () => {
    const asked: string[] = []
    const getter = inputGetter()
    const inputs = getInputs((name) => {
      asked.push(name)
      return getter(name)
    }, ENV)
    const declared = Object.keys(actionDefaults()).sort()
    expect([...asked].sort()).toEqual(declared)
    expect(Object.keys(inputs).sort()).toEqual(declared)
  })

  describe('reads INPUT_* environment variables through @actions/core by default', () => {
    const saved = { ...process.env }
    beforeEach(() => {
      for (const [name, value] of Object.entries(actionDefaults())) process.env[`INPUT_${name.toUpperCase()}`] = value
      process.env['INPUT_MAX-AGE'] = '3h'
      process.env.INPUT_ACTION = 'stop'
      process.env.AWS_REGION = 'eu-west-1'
    })
    afterEach(() => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
      Object.assign(process.env, saved)
    })

    it('INPUT_MAX-AGE, INPUT_ACTION, AWS_REGION', () => {
      expect(getInputs()).toEqual(defaultInputs({ 'max-age': 10800, action: 'stop', regions: ['eu-west-1'] }))
    })
  })
})

describe('valid values', () => {
  it.each<[string, string, unknown]>([
    // max-age: seconds
    ['max-age', '90m', 5400],
    ['max-age', '2h', 7200],
    ['max-age', '1d', 86400],
    ['max-age', '1h30m', 5400],
    ['max-age', '1d2h3m4s', 93784],
    ['max-age', '2d12h', 216000],
    ['max-age', '3', 10800], // a bare number is hours, like Packer Cleaner's max_runtime
    ['max-age', '24', 86400],
    ['max-age', ' 2h ', 7200],
    ['max-age', '365d', 365 * 86400], // the upper bound
    ['max-age', '8760', 365 * 86400], // 365 days in hours
    // action
    ['action', 'notify', 'notify'],
    ['action', 'stop', 'stop'],
    ['action', 'terminate', 'terminate'],
    // regions
    ['regions', 'us-east-1', ['us-east-1']],
    ['regions', 'us-east-1,eu-west-1', ['us-east-1', 'eu-west-1']],
    ['regions', 'us-east-1, eu-west-1', ['us-east-1', 'eu-west-1']],
    ['regions', 'us-east-1 eu-west-1', ['us-east-1', 'eu-west-1']],
    ['regions', 'us-east-1\neu-west-1\n', ['us-east-1', 'eu-west-1']],
    ['regions', ' us-east-1 ,\n\n eu-west-1,, ', ['us-east-1', 'eu-west-1']],
    ['regions', 'us-east-1, eu-west-1, us-east-1', ['us-east-1', 'eu-west-1']],
    [
      'regions',
      'us-gov-west-1 cn-north-1 ap-southeast-7 eusc-de-east-1 il-central-1',
      ['us-gov-west-1', 'cn-north-1', 'ap-southeast-7', 'eusc-de-east-1', 'il-central-1']
    ],
    ['regions', 'all', 'all'],
    ['regions', ' all\n', 'all'],
    // resources
    ['resources', 'instances', ['instances']],
    ['resources', 'all', [...KIND_NAMES]],
    [
      'resources',
      ' all ',
      ['instances', 'key-pairs', 'security-groups', 'launch-templates', 'instance-profiles', 'images', 'volumes']
    ],
    ['resources', 'key-pairs, instances', ['instances', 'key-pairs']],
    ['resources', 'security-groups\nlaunch-templates', ['security-groups', 'launch-templates']],
    ['resources', 'instances instances', ['instances']],
    ['resources', 'instance-profiles', ['instance-profiles']],
    ['resources', 'instance-profiles, instances', ['instances', 'instance-profiles']],
    // key-name
    ['key-name', 'packer_*', ['packer_*']],
    ['key-name', 'packer_*, ci-builder-?', ['packer_*', 'ci-builder-?']],
    ['key-name', 'packer_*\npacker_*', ['packer_*']],
    // tags
    ['tags', 'github-run-id=1234', [{ key: 'github-run-id', value: '1234' }]],
    [
      'tags',
      'github-run-id=1234\nteam=plat*\n',
      [
        { key: 'github-run-id', value: '1234' },
        { key: 'team', value: 'plat*' }
      ]
    ],
    [
      'tags',
      '\n  owner = data team \r\n\r\nenv=ci\r\n',
      [
        { key: 'owner', value: 'data team' },
        { key: 'env', value: 'ci' }
      ]
    ],
    ['tags', 'expr=a=b', [{ key: 'expr', value: 'a=b' }]],
    ['tags', 'aws:cloudformation:stack-name=pack?r', [{ key: 'aws:cloudformation:stack-name', value: 'pack?r' }]],
    // every line break splits: LF, CRLF and a bare CR (an editor's or a generated value's)
    [
      'tags',
      'a=1\rb=2',
      [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' }
      ]
    ],
    [
      'tags',
      'a=1\r\rb=2\r\nc=3\nd=4\r',
      [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
        { key: 'c', value: '3' },
        { key: 'd', value: '4' }
      ]
    ],
    // instance-states
    ['instance-states', 'running', ['running']],
    ['instance-states', 'stopped, running', ['running', 'stopped']],
    ['instance-states', 'stopped\nstopped', ['stopped']],
    ['instance-states', 'pending,running,stopping,stopped', ['pending', 'running', 'stopping', 'stopped']],
    // exclude-tag
    ['exclude-tag', 'do-not-sweep', ['do-not-sweep']],
    ['exclude-tag', 'aws:keep me', ['aws:keep me']],
    ['exclude-tag', ' packer-sweeper:keep ', ['packer-sweeper:keep']],
    // a list: one key per line, or separated by commas (real keep tags exist beside ours)
    ['exclude-tag', 'packer-sweeper:keep, do-not-delete', ['packer-sweeper:keep', 'do-not-delete']],
    ['exclude-tag', 'packer-sweeper:keep,do-not-delete', ['packer-sweeper:keep', 'do-not-delete']],
    [
      'exclude-tag',
      'packer-sweeper:keep\ndo-not-delete\r\nretain\rlegal hold\n',
      ['packer-sweeper:keep', 'do-not-delete', 'retain', 'legal hold']
    ],
    ['exclude-tag', 'keep, keep\nkeep', ['keep']],
    ['exclude-tag', 'k'.repeat(128), ['k'.repeat(128)]],
    // caps
    ['max-instances', '0', 0],
    ['max-instances', '1', 1],
    ['max-instances', '500', 500],
    ['max-instances', ' 7 ', 7],
    ['max-resources', '0', 0],
    ['max-resources', '1000', 1000],
    // booleans: YAML 1.2 core schema, like core.getBooleanInput
    ['dry-run', 'true', true],
    ['dry-run', 'True', true],
    ['dry-run', 'TRUE', true],
    ['dry-run', 'false', false],
    ['dry-run', 'False', false],
    ['dry-run', 'FALSE', false],
    ['fail-on-stale', 'true', true],
    ['fail-on-stale', 'false', false],
    // sns-topic-arn
    ['sns-topic-arn', '', ''],
    [
      'sns-topic-arn',
      'arn:aws:sns:eu-west-1:123456789012:packer-alerts',
      'arn:aws:sns:eu-west-1:123456789012:packer-alerts'
    ],
    [
      'sns-topic-arn',
      'arn:aws:sns:us-east-1:123456789012:alerts.fifo',
      'arn:aws:sns:us-east-1:123456789012:alerts.fifo'
    ],
    [
      'sns-topic-arn',
      'arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts',
      'arn:aws-us-gov:sns:us-gov-west-1:123456789012:alerts'
    ],
    ['sns-topic-arn', 'arn:aws-cn:sns:cn-north-1:123456789012:alerts', 'arn:aws-cn:sns:cn-north-1:123456789012:alerts'],
    // role-to-assume
    ['role-to-assume', '', ''],
    [
      'role-to-assume',
      'arn:aws:iam::123456789012:role/packer-sweeper',
      'arn:aws:iam::123456789012:role/packer-sweeper'
    ],
    [
      'role-to-assume',
      'arn:aws:iam::123456789012:role/ci/github/packer-sweeper',
      'arn:aws:iam::123456789012:role/ci/github/packer-sweeper'
    ],
    [
      'role-to-assume',
      'arn:aws-us-gov:iam::123456789012:role/sweeper',
      'arn:aws-us-gov:iam::123456789012:role/sweeper'
    ],
    [
      'role-to-assume',
      'arn:aws:iam::123456789012:role/a+b=c,d.e@f_g-h',
      'arn:aws:iam::123456789012:role/a+b=c,d.e@f_g-h'
    ],
    // role-session-name, audience
    ['role-session-name', 'gh-run-1234', 'gh-run-1234'],
    ['role-session-name', 'ab', 'ab'],
    ['role-session-name', 'x'.repeat(64), 'x'.repeat(64)],
    ['audience', 'sts.amazonaws.com', 'sts.amazonaws.com'],
    ['audience', 'sts.amazonaws.com.cn', 'sts.amazonaws.com.cn']
  ])('%s: %j → %j', (name, raw, expected) => {
    expect(parse({ [name]: raw })[name as keyof Inputs]).toEqual(expected)
  })

  it('the other inputs keep their defaults when one changes', () => {
    expect(parse({ action: 'terminate' })).toEqual(defaultInputs({ action: 'terminate' }))
  })

  it('empty key-name is allowed when tags is set', () => {
    const inputs = parse({ 'key-name': '', tags: 'github-run-id=1234' })
    expect(inputs['key-name']).toEqual([])
    expect(inputs.tags).toEqual([{ key: 'github-run-id', value: '1234' }])
  })

  it('200 key-name patterns are allowed (EC2 takes 200 values in one filter)', () => {
    const patterns = Array.from({ length: 200 }, (_, i) => `packer_${i}*`)
    expect(parse({ 'key-name': patterns.join('\n') })['key-name']).toEqual(patterns)
  })

  it('a tag key of 128 and a value of 256 characters are allowed', () => {
    expect(parse({ tags: `${'k'.repeat(128)}=${'v'.repeat(256)}` }).tags).toEqual([
      { key: 'k'.repeat(128), value: 'v'.repeat(256) }
    ])
  })
})

describe('empty regions: the job region', () => {
  it.each<[string, Record<string, string | undefined>, string[]]>([
    ['AWS_REGION', { AWS_REGION: 'eu-central-1' }, ['eu-central-1']],
    ['AWS_DEFAULT_REGION', { AWS_DEFAULT_REGION: 'ap-south-1' }, ['ap-south-1']],
    [
      'AWS_REGION before AWS_DEFAULT_REGION',
      { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-south-1' },
      ['eu-central-1']
    ],
    ['an empty AWS_REGION does not count', { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' }, ['ap-south-1']]
  ])('%s', (_title, env, expected) => {
    expect(parse({ regions: '' }, env).regions).toEqual(expected)
    expect(parse({ regions: ' \n ' }, env).regions).toEqual(expected)
  })

  it('explicit regions win over the environment', () => {
    expect(parse({ regions: 'eu-west-1' }, { AWS_REGION: 'us-east-1' }).regions).toEqual(['eu-west-1'])
  })
})

describe('invalid values: one message naming the input, the value and what is allowed', () => {
  it.each<[string, string, RegExp]>([
    // from the spec
    ['action', 'terminte', /^action: "terminte" is not allowed\. Use one of: notify, stop, terminate\.$/],
    ['max-age', '-1', /^max-age: "-1" is not a duration\. .*90m, 2h, 1d, 1h30m, 45s.*bare number of hours/],
    ['max-age', '2x', /^max-age: "2x" is not a duration\./],
    ['regions', 'mars-1', /^regions: "mars-1" is not a region name\. Use names like us-east-1/],
    ['tags', 'github-run-id', /^tags: "github-run-id" is not Key=Value\./],
    ['max-instances', 'many', /^max-instances: "many" is not a whole number\. Use 0 or more; 0 means no cap\.$/],
    // more of the same kinds
    ['action', '', /^action: "" is not allowed\. Use one of: notify, stop, terminate\.$/],
    ['action', 'delete', /^action: "delete" is not allowed\./],
    ['action', 'notify,stop', /^action: "notify,stop" is not allowed\./],
    ['max-age', '', /^max-age: "" is not a duration\./],
    ['max-age', '1.5h', /^max-age: "1.5h" is not a duration\./],
    ['max-age', '2h30', /^max-age: "2h30" is not a duration\./],
    ['max-age', '30m1h', /^max-age: "30m1h" is not a duration\./],
    ['max-age', '2 h', /^max-age: "2 h" is not a duration\./],
    ['max-age', '1w', /^max-age: "1w" is not a duration\./],
    ['max-age', 'h', /^max-age: "h" is not a duration\./],
    ['regions', 'us-east-1, mars-1', /^regions: "mars-1" is not a region name\./],
    ['regions', 'us-east-1; eu-west-1', /^regions: "us-east-1;" is not a region name\./],
    ['regions', 'useast1', /^regions: "useast1" is not a region name\./],
    [
      'regions',
      'us-east-1a',
      /^regions: "us-east-1a" is not a region name\. Did you mean us-east-1\? Use names like us-east-1/
    ],
    ['regions', 'us-east1', /^regions: "us-east1" is not a region name\. Did you mean us-east-1\? /],
    ['regions', 'US-EAST-1', /^regions: "US-EAST-1" is not a region name\. Did you mean us-east-1\? /],
    ['regions', 'eu_west_1', /^regions: "eu_west_1" is not a region name\. Did you mean eu-west-1\? /],
    [
      'regions',
      'us-east1, eu-west-1a',
      /^regions: "us-east1, eu-west-1a" is not a region name\. Did you mean us-east-1 \(for us-east1\), eu-west-1 \(for eu-west-1a\)\? /
    ],
    ['regions', 'aws-global', /^regions: "aws-global" is not a region name\. Use names like us-east-1/],
    [
      'regions',
      'all, us-east-1',
      /^regions: "all, us-east-1" mixes "all" with region names\. Use either "all" or a list of regions\.$/
    ],
    ['regions', 'us-east-1\nall', /^regions: "us-east-1\nall" mixes "all" with region names\./],
    [
      'resources',
      'amis',
      /^resources: "amis" is not a resource kind\. Use instances, key-pairs, security-groups, launch-templates, instance-profiles, images, volumes or all\.$/
    ],
    ['resources', 'instances, keypairs', /^resources: "keypairs" is not a resource kind\./],
    [
      'resources',
      '',
      /^resources: empty\. Use one or more of instances, key-pairs, security-groups, launch-templates, instance-profiles, images, volumes or all\.$/
    ],
    ['tags', '=1234', /^tags: "=1234" is not Key=Value\./],
    ['tags', 'team=', /^tags: "team=" is not Key=Value\./],
    ['tags', 'team=a\nowner', /^tags: "owner" is not Key=Value\./],
    ['tags', 'team=a\nteam=b', /^tags: the key "team" appears twice\./],
    ['tags', 'team=a\rteam=b', /^tags: the key "team" appears twice\./],
    ['tags', 'team=a\rowner', /^tags: "owner" is not Key=Value\./],
    [
      'tags',
      `${'k'.repeat(129)}=v`,
      /^tags: "k{129}=v" is too long\. Tag keys have at most 128 characters, values at most 256\.$/
    ],
    ['tags', `k=${'v'.repeat(257)}`, /^tags: "k=v{257}" is too long\./],
    [
      'instance-states',
      'terminated',
      /^instance-states: "terminated" is not allowed\. Use one or more of pending, running, stopping, stopped\.$/
    ],
    ['instance-states', 'shutting-down', /^instance-states: "shutting-down" is not allowed\./],
    ['instance-states', 'running, exploded', /^instance-states: "exploded" is not allowed\./],
    ['instance-states', '', /^instance-states: empty\. Use one or more of pending, running, stopping, stopped\.$/],
    ['exclude-tag', '', /^exclude-tag: "" is not allowed\. Give the tag key \(1 to 128 characters\)/],
    ['exclude-tag', 'k'.repeat(129), /^exclude-tag: "k{129}" is not allowed\./],
    ['exclude-tag', ' ,\n, ', /^exclude-tag: " ,\n, " is not allowed\. Give the tag key \(1 to 128 characters\)/],
    ['exclude-tag', `keep, ${'k'.repeat(129)}`, /^exclude-tag: "k{129}" is not allowed\./],
    // a key=value or a wildcard is not a key: the exclusion would silently protect nothing
    [
      'exclude-tag',
      'packer-sweeper:keep=true',
      /^exclude-tag: "packer-sweeper:keep=true" is not a tag key: exclude-tag takes tag keys only, /
    ],
    [
      'exclude-tag',
      'packer-sweeper:keep*',
      /^exclude-tag: "packer-sweeper:keep\*" is not a tag key: exclude-tag takes tag keys only, /
    ],
    ['exclude-tag', 'keep?', /^exclude-tag: "keep\?" is not a tag key: exclude-tag takes tag keys only, /],
    [
      'exclude-tag',
      'do-not-delete\npacker-sweeper:keep=true\n*',
      /^exclude-tag: "packer-sweeper:keep=true, \*" is not a tag key: exclude-tag takes tag keys only, /
    ],
    ['exclude-tag', '=', /^exclude-tag: "=" is not a tag key: exclude-tag takes tag keys only, /],
    // max-age: an upper bound, never Infinity
    ['max-age', '9'.repeat(400), /^max-age: "9{400}" is more than 365 days\./],
    ['max-age', '366d', /^max-age: "366d" is more than 365 days\. /],
    ['max-age', '8761', /^max-age: "8761" is more than 365 days\. /],
    ['max-age', '365d1s', /^max-age: "365d1s" is more than 365 days\. /],
    ['max-age', `${'9'.repeat(400)}d`, /^max-age: "9{400}d" is more than 365 days\. /],
    ['max-instances', '-1', /^max-instances: "-1" is not a whole number\./],
    ['max-instances', '1.5', /^max-instances: "1.5" is not a whole number\./],
    ['max-instances', '', /^max-instances: "" is not a whole number\./],
    ['max-instances', '1e3', /^max-instances: "1e3" is not a whole number\./],
    ['max-resources', 'lots', /^max-resources: "lots" is not a whole number\. Use 0 or more; 0 means no cap\.$/],
    ['dry-run', 'yes', /^dry-run: "yes" is not a boolean\. Use true or false\.$/],
    ['dry-run', 'no', /^dry-run: "no" is not a boolean\./],
    ['dry-run', '1', /^dry-run: "1" is not a boolean\./],
    ['dry-run', 'on', /^dry-run: "on" is not a boolean\./],
    ['dry-run', 'tRUE', /^dry-run: "tRUE" is not a boolean\./],
    ['dry-run', '', /^dry-run: "" is not a boolean\./],
    ['fail-on-stale', 'yes', /^fail-on-stale: "yes" is not a boolean\. Use true or false\.$/],
    [
      'sns-topic-arn',
      'packer-alerts',
      /^sns-topic-arn: "packer-alerts" is not an SNS topic ARN\. Use arn:aws:sns:<region>:<account-id>:<topic-name>, or leave it empty\.$/
    ],
    [
      'sns-topic-arn',
      'arn:aws:sns:eu-west-1:12345:alerts',
      /^sns-topic-arn: "arn:aws:sns:eu-west-1:12345:alerts" is not an SNS topic ARN\./
    ],
    [
      'sns-topic-arn',
      'arn:aws:sqs:eu-west-1:123456789012:queue',
      /^sns-topic-arn: "arn:aws:sqs:eu-west-1:123456789012:queue" is not an SNS topic ARN\./
    ],
    [
      'sns-topic-arn',
      'arn:aws:sns:eu-west-1:123456789012:a b',
      /^sns-topic-arn: "arn:aws:sns:eu-west-1:123456789012:a b" is not an SNS topic ARN\./
    ],
    [
      'role-to-assume',
      'packer-sweeper',
      /^role-to-assume: "packer-sweeper" is not allowed\. Use an IAM role ARN like arn:aws:iam::123456789012:role\/packer-sweeper, or leave it empty\.$/
    ],
    [
      'role-to-assume',
      'arn:aws:iam::123456789012:user/bob',
      /^role-to-assume: "arn:aws:iam::123456789012:user\/bob" is not allowed\./
    ],
    ['role-to-assume', 'arn:aws:iam::12345:role/x', /^role-to-assume: "arn:aws:iam::12345:role\/x" is not allowed\./],
    [
      'role-to-assume',
      'arn:aws:iam::123456789012:role/',
      /^role-to-assume: "arn:aws:iam::123456789012:role\/" is not allowed\./
    ],
    [
      'role-session-name',
      'a',
      /^role-session-name: "a" is not allowed\. Use 2 to 64 letters, digits or \+=,\.@_- characters\.$/
    ],
    ['role-session-name', 'has space', /^role-session-name: "has space" is not allowed\./],
    ['role-session-name', 'x'.repeat(65), /^role-session-name: "x{65}" is not allowed\./],
    ['role-session-name', '', /^role-session-name: "" is not allowed\./],
    ['audience', '', /^audience: "" is not allowed\. Give the OIDC audience, e\.g\. sts\.amazonaws\.com\.$/],
    ['audience', 'two words', /^audience: "two words" is not allowed\./]
  ])('%s: %j', (name, raw, message) => {
    const error = inputError({ [name]: raw })
    expect(error).toBeInstanceOf(InputError)
    expect(error.name).toBe('InputError')
    expect(error.message.startsWith('Invalid input: ')).toBe(true)
    expect(error.message.slice('Invalid input: '.length)).toMatch(message)
  })

  it('empty regions and no job region', () => {
    const error = inputError({ regions: '' }, { AWS_REGION: undefined, AWS_DEFAULT_REGION: '' })
    expect(error.message).toBe(
      'Invalid input: regions: empty, and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Name the regions (e.g. "us-east-1, eu-west-1") or use "all".'
    )
  })

  it('an invalid job region is refused too', () => {
    expect(inputError({ regions: '' }, { AWS_REGION: 'mars-1' }).message).toMatch(
      /regions: "mars-1" is not a region name/
    )
  })

  it('empty key-name with empty tags: refused, naming both', () => {
    expect(inputError({ 'key-name': '', tags: '' }).message).toBe(
      'Invalid input: key-name: empty, and tags is empty too. Without a key-name pattern, give tags so the sweep cannot match every instance in the account.'
    )
  })

  it('key-name with only separators counts as empty', () => {
    expect(inputError({ 'key-name': ' ,\n', tags: '' }).message).toMatch(
      /^Invalid input: key-name: empty, and tags is empty too\./
    )
  })

  it('more than 200 key-name patterns', () => {
    const patterns = Array.from({ length: 201 }, (_, i) => `packer_${i}*`)
    expect(inputError({ 'key-name': patterns.join(',') }).message).toBe(
      'Invalid input: key-name: 201 patterns; EC2 takes at most 200 in one filter.'
    )
  })
})

describe('guards that keep the sweep from matching everything', () => {
  it.each(['*', '**', '?*', '*?*', '?', 'packer_*, *'])(
    'key-name %j: only wildcards would match every key pair; suggests packer_*',
    (raw) => {
      const message = inputError({ 'key-name': raw }).message
      expect(message).toMatch(/^Invalid input: key-name: "[*?]+" is only wildcards and would match every key pair/)
      expect(message).toContain('e.g. packer_*.')
    }
  )

  it('key-name lists every wildcard-only pattern, and keeps patterns with a fixed part', () => {
    expect(inputError({ 'key-name': '*, packer_*, ??' }).message).toMatch(
      /^Invalid input: key-name: "\*, \?\?" is only wildcards/
    )
    expect(parse({ 'key-name': 'packer_*, ?packer*' })['key-name']).toEqual(['packer_*', '?packer*'])
  })

  it.each(['Name=*', 'Name=?*', 'Name=*\nteam=**'])(
    'tags %j with an empty key-name: every tagged instance would match',
    (tags) => {
      const message = inputError({ 'key-name': '', tags }).message
      expect(message).toMatch(
        /^Invalid input: tags: "Name=[^"]*" has only wildcard values, and key-name is empty: every tagged instance would match\./
      )
      expect(message).toContain('give at least one tags line whose value is not only wildcards')
    }
  )

  it('wildcard tag values are fine next to a concrete one, or with a key-name pattern', () => {
    expect(parse({ 'key-name': '', tags: 'Name=*\ngithub-run-id=1234' }).tags).toHaveLength(2)
    expect(parse({ 'key-name': '', tags: 'team=plat*' }).tags).toEqual([{ key: 'team', value: 'plat*' }])
    expect(parse({ 'key-name': 'packer_*', tags: 'Name=*' }).tags).toEqual([{ key: 'Name', value: '*' }])
  })

  it.each(['all,bogus', 'bogus all', 'all\nkeypairs'])(
    'resources %j: an unknown name next to all is refused, by name',
    (raw) => {
      const name = raw.includes('bogus') ? 'bogus' : 'keypairs'
      expect(inputError({ resources: raw }).message).toBe(
        `Invalid input: resources: "${name}" is not a resource kind. Use instances, key-pairs, security-groups, launch-templates, instance-profiles, images, volumes or all.`
      )
    }
  )

  it('resources all next to a known kind is all', () => {
    expect(parse({ resources: 'all,instances' }).resources).toEqual([...KIND_NAMES])
  })

  it.each(['0', '0h', '0m', '0d0h0m0s', ' 0s '])(
    'max-age %j without tags: 0 is every match, only safe scoped to one job',
    (raw) => {
      const message = inputError({ 'max-age': raw }).message
      expect(message).toContain(`max-age: "${raw}" is 0, which means every matching resource however young`)
      // Every job of a run (and of a matrix) shares github.run_id: the recipe tells the jobs apart.
      expect(message).toContain(`tags: ${JOB_TAG}`)
      expect(message).not.toContain('github-run-id=')
    }
  )

  it.each(['1s', '45s', '30m', '59m59s', '0h59m'])(
    'max-age %j without tags: under 1h is refused like 0, with the per-job recipe',
    (raw) => {
      const message = inputError({ 'max-age': raw }).message
      expect(message).toMatch(new RegExp(`^Invalid input: max-age: "${raw}" is under 1h: `))
      expect(message).toContain('live builds included')
      expect(message).toContain('must exceed your longest build, the AMI wait included')
      expect(message).toContain(`tags: ${JOB_TAG}`)
    }
  )

  it('max-age under 1h with only wildcard tags is refused; with a concrete tag it is allowed, without a warning', () => {
    expect(inputError({ 'max-age': '30m', tags: 'Name=*' }).message).toMatch(
      /^Invalid input: max-age: "30m" is under 1h/
    )
    const warnings: string[] = []
    expect(parse({ 'max-age': '1s', tags: 'packer-sweeper-job=42-1-build-0' }, ENV, warnings)['max-age']).toBe(1)
    expect(parse({ 'max-age': '45s', tags: 'packer-sweeper-job=42-1-build-0\nName=*' }, ENV, warnings)['max-age']).toBe(
      45
    )
    expect(warnings).toEqual([])
  })

  it.each([
    ['1h', 3600],
    ['90m', 5400],
    ['1h59m59s', 7199]
  ])('max-age %j without tags: allowed, with a warning that it is shorter than typical builds', (raw, seconds) => {
    const warnings: string[] = []
    expect(parse({ 'max-age': raw }, ENV, warnings)['max-age']).toBe(seconds)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      new RegExp(`^max-age: "${raw}" is under the 2h default, shorter than typical Packer builds`)
    )
    expect(warnings[0]).toContain('must exceed your longest build, the AMI wait included')
  })

  it.each(['2h', '3', '1d', '365d'])('max-age %j: no warning', (raw) => {
    expect(warningsFor({ 'max-age': raw })).toEqual([])
  })

  it('max-age under 2h scoped by a concrete tag: no warning', () => {
    expect(warningsFor({ 'max-age': '90m', tags: 'packer-sweeper-job=42-1-build-0' })).toEqual([])
  })

  it('no warning when the inputs are refused: the error says it all', () => {
    const warnings: string[] = []
    expect(() => parse({ 'max-age': '90m', action: 'terminte' }, ENV, warnings)).toThrow(InputError)
    expect(warnings).toEqual([])
  })

  it('the max-age bound and the under-1h guard are two problems apart from the others', () => {
    const error = inputError({ 'max-age': '400d', 'exclude-tag': 'keep=true' })
    expect(error.message).toMatch(/^2 invalid inputs: max-age: "400d" is more than 365 days\./)
    expect(error.message.split('\n')[1]).toMatch(/^exclude-tag: "keep=true" is not a tag key/)
  })

  it('max-age 0 with only wildcard tags is refused too; with a concrete tag it is allowed', () => {
    expect(inputError({ 'max-age': '0', tags: 'Name=*' }).message).toMatch(/^Invalid input: max-age: "0" is 0/)
    expect(parse({ 'max-age': '0', tags: 'github-run-id=1234' })['max-age']).toBe(0)
    expect(parse({ 'max-age': '0', 'key-name': '', tags: 'github-run-id=1234', resources: 'all' })).toMatchObject({
      'max-age': 0,
      'key-name': []
    })
  })

  it('every guard is collected with the other problems in one InputError', () => {
    const error = inputError({ 'key-name': '*', 'max-age': '0', resources: 'all,bogus', action: 'terminte' })
    const lines = error.message.replace(/^\d+ invalid inputs: /, '').split('\n')
    expect(lines.map((line) => line.split(':')[0])).toEqual(['action', 'resources', 'key-name', 'max-age'])
    expect(error.message).toMatch(/^4 invalid inputs: /)

    const empty = inputError({ 'key-name': '', tags: 'Name=*', 'max-age': '0m' }).message.split('\n')
    expect(empty).toHaveLength(2)
    expect(empty[0]).toMatch(/^2 invalid inputs: tags: "Name=\*" has only wildcard values/)
    expect(empty[1]).toMatch(/^max-age: "0m" is 0/)
  })
})

describe('several bad inputs at once', () => {
  it('one InputError lists every problem, one per line', () => {
    const error = inputError({
      action: 'terminte',
      'max-age': '2x',
      regions: 'mars-1',
      tags: 'github-run-id',
      'max-instances': 'many',
      'dry-run': 'yes'
    })
    const [heading, ...rest] = error.message.split('\n')
    expect(heading).toMatch(/^6 invalid inputs: max-age: "2x"/)
    const lines = [heading?.replace(/^6 invalid inputs: /, ''), ...rest]
    expect(lines).toHaveLength(6)
    expect(lines.map((line) => line?.split(':')[0])).toEqual([
      'max-age',
      'action',
      'regions',
      'tags',
      'max-instances',
      'dry-run'
    ])
  })

  it('the key-name/tags cross-check is listed with the other problems when both of them parsed', () => {
    // One run shows every problem: a bad action must not hide that key-name and tags are both empty.
    const error = inputError({ 'key-name': '', tags: '', action: 'terminte' })
    const lines = error.message.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^2 invalid inputs: action: "terminte"/)
    expect(lines[1]).toMatch(/^key-name: empty, and tags is empty too\./)
  })

  it('the cross-check is left out when tags itself is invalid', () => {
    const error = inputError({ 'key-name': '', tags: 'no-equals-sign' })
    expect(error.message).toMatch(/^Invalid input: tags: "no-equals-sign" is not Key=Value\./)
    expect(error.message).not.toMatch(/key-name/)
  })
})

describe('no AWS call before the inputs are valid', () => {
  const mocks = [mockClient(EC2Client), mockClient(SNSClient), mockClient(STSClient)]
  beforeEach(() => mocks.forEach((mock) => mock.reset()))

  it('an invalid input throws synchronously and reaches no AWS client', () => {
    const getter = inputGetter({
      action: 'terminte',
      'sns-topic-arn': 'arn:aws:sns:eu-west-1:123456789012:alerts',
      'role-to-assume': 'arn:aws:iam::123456789012:role/x'
    })
    expect(() => getInputs(getter, ENV)).toThrow(InputError)
    for (const mock of mocks) expect(mock.calls()).toHaveLength(0)
  })

  it('an error of the getter itself is not turned into an input problem', () => {
    const failure = new Error('Input required and not supplied: action')
    expect(() =>
      getInputs((name) => {
        if (name === 'action') throw failure
        return inputGetter()(name)
      }, ENV)
    ).toThrow(failure)
  })
})

describe('splitList', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    ['a, b', ['a', 'b']],
    ['a b\tc', ['a', 'b', 'c']],
    ['a\nb\r\nc', ['a', 'b', 'c']],
    [' ,a,,\n\nb, ', ['a', 'b']]
  ])('%j → %j', (raw, expected) => {
    expect(splitList(raw)).toEqual(expected)
  })
})

describe('parseDuration', () => {
  it.each([
    ['1h', 3600],
    ['1H30M', 5400],
    ['0', 0],
    ['10s', 10],
    ['1d', 86400]
  ])('%s → %i s', (raw, expected) => {
    expect(parseDuration(raw)).toBe(expected)
  })

  it.each(['', '-1', '2x', 'abc', '1h-30m'])('%j throws an InputError naming max-age', (raw) => {
    expect(() => parseDuration(raw)).toThrow(InputError)
    expect(() => parseDuration(raw)).toThrow(`max-age: "${raw}"`)
  })
})

describe('delete-custom-key-pairs: deleting key pairs not named packer_<uuid> needs a concrete tags line', () => {
  it('is false by default, and a boolean like the others', () => {
    expect(parse()['delete-custom-key-pairs']).toBe(false)
    expect(parse({ 'delete-custom-key-pairs': 'false' })['delete-custom-key-pairs']).toBe(false)
    expect(inputError({ 'delete-custom-key-pairs': 'yes' }).message).toBe(
      'Invalid input: delete-custom-key-pairs: "yes" is not a boolean. Use true or false.'
    )
  })

  it.each(['team=platform', 'Name=*\nteam=platform', 'team=plat*'])(
    'true with tags %j (a value that is not only wildcards) is allowed',
    (tags) => {
      expect(parse({ 'delete-custom-key-pairs': 'true', tags })['delete-custom-key-pairs']).toBe(true)
      expect(parse({ 'delete-custom-key-pairs': 'True', 'key-name': '', tags })['delete-custom-key-pairs']).toBe(true)
    }
  )

  it.each([
    ['', 'tags is empty'],
    ['Name=*', 'tags has only wildcard values ("Name=*")'],
    ['Name=*\nteam=?*', 'tags has only wildcard values ("Name=*, team=?*")']
  ])('true with tags %j is refused, in one message naming the input, the value and what is allowed', (tags, what) => {
    const message = inputError({ 'delete-custom-key-pairs': 'true', tags }).message
    expect(message).toBe(
      `Invalid input: delete-custom-key-pairs: "true" needs a tags line whose value is not only wildcards, and ${what}. ` +
        'Key pairs not named packer_<uuid> are deleted only when they carry such a tag: give the run_tags Packer puts on its ' +
        'temporary key pair (e.g. tags: packer-build=ci), or leave delete-custom-key-pairs false.'
    )
  })

  it('false needs no tags, and the refusal is listed with the other problems', () => {
    expect(parse({ 'delete-custom-key-pairs': 'false', tags: '' })['delete-custom-key-pairs']).toBe(false)
    const lines = inputError({ 'delete-custom-key-pairs': 'true', action: 'terminte' }).message.split('\n')
    expect(lines.map((line) => line.replace(/^\d+ invalid inputs: /, '').split(':')[0])).toEqual([
      'action',
      'delete-custom-key-pairs'
    ])
  })

  it('is not checked against tags that did not parse', () => {
    expect(inputError({ 'delete-custom-key-pairs': 'true', tags: 'no-equals-sign' }).message).not.toMatch(
      /delete-custom-key-pairs/
    )
  })
})
