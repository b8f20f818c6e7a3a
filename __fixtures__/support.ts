/**
 * The constants and builders the tests share (import them from here, never define them again):
 * the tests' clock, inputs as action.yml defaults them, instance records, Packer names (the
 * sandbox's generator) and EC2 errors shaped the way the SDK throws them.
 */
import { readFileSync } from 'node:fs'
import { afterEach, beforeEach } from '@jest/globals'
import { EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2'
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock'
import { parse } from 'yaml'
import type { InstanceRecord, Inputs } from '../src/model/types.js'

export { packerName } from '../sandbox/index.js'

/** The tests' "now": every test that needs a fixed clock uses this one. */
export const NOW = new Date('2026-03-01T12:00:00.000Z')

/** `hours` before `now`. */
export function hoursBefore(now: Date, hours: number): Date {
  return new Date(now.getTime() - hours * 3600 * 1000)
}

interface ActionYml {
  inputs: Record<string, { default?: string | number | boolean }>
}

/** The inputs' defaults, read from action.yml so the tests follow it. */
export function actionDefaults(): Record<string, string> {
  const yml = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8')) as ActionYml
  return Object.fromEntries(Object.entries(yml.inputs).map(([name, spec]) => [name, String(spec.default ?? '')]))
}

/**
 * An `@actions/core.getInput` stand-in: action.yml defaults, then `overrides`. Like the runner,
 * an input that action.yml does not declare reads as ''.
 */
export function inputGetter(overrides: Record<string, string> = {}): (name: string) => string {
  const values = { ...actionDefaults(), ...overrides }
  return (name) => values[name] ?? ''
}

/** Parsed inputs equal to action.yml's defaults with one job region. */
export function defaultInputs(overrides: Partial<Inputs> = {}): Inputs {
  return {
    'max-age': 7200,
    action: 'notify',
    regions: ['us-east-1'],
    resources: ['instances'],
    'key-name': ['packer_????????-????-????-????-????????????'],
    tags: [],
    'delete-custom-key-pairs': false,
    'instance-states': ['pending', 'running', 'stopping', 'stopped'],
    'exclude-tag': ['packer-sweeper:keep'],
    'max-instances': 50,
    'max-resources': 200,
    'region-timeout': 240,
    'dry-run': false,
    'sns-topic-arn': '',
    'role-to-assume': '',
    'role-session-name': 'packer-sweeper',
    audience: 'sts.amazonaws.com',
    'fail-on-stale': false,
    'estimate-cost': false,
    'delete-inherited-volumes': false,
    ...overrides
  }
}

/** A realistic 17-hex-digit instance ID: i-00000000000000001, i-00000000000000002 … */
export function instanceId(n: number): string {
  return `i-${n.toString(16).padStart(17, '0')}`
}

export function record(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: instanceId(1),
    region: 'us-east-1',
    keyName: 'packer_6745a1b2-0000-0000-0000-000000000000',
    launchTime: '2026-01-01T00:00:00.000Z',
    state: 'running',
    instanceType: 't3.micro',
    ...overrides
  }
}

/** An EC2 error as the SDK throws it for an error code the model does not list. */
export function ec2Error(code: string, message = `${code} (fake)`): EC2ServiceException {
  return new EC2ServiceException({ name: code, $fault: 'client', $metadata: { httpStatusCode: 400 }, message })
}

/**
 * An EC2 client whose every call goes to an aws-sdk-client-mock stub, fresh for each test:
 * `const ec2 = useMockedEc2()`, then `ec2.mock.on(...)` and `ec2.client()`.
 */
export function useMockedEc2(): { mock: AwsClientStub<EC2Client>; client: () => EC2Client } {
  const mock = mockClient(EC2Client)
  let client: EC2Client | undefined
  beforeEach(() => {
    mock.reset()
    client = new EC2Client({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }
    })
  })
  afterEach(() => client?.destroy())
  return {
    mock,
    client: () => {
      if (!client) throw new Error('useMockedEc2: the client exists only inside a test')
      return client
    }
  }
}
