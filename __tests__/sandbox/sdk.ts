/** Real SDK v3 clients pointed at a sandbox, for the sandbox's own tests. */
import { EC2Client } from '@aws-sdk/client-ec2'
import { IAMClient } from '@aws-sdk/client-iam'
import { SNSClient } from '@aws-sdk/client-sns'
import { STSClient } from '@aws-sdk/client-sts'
import type { Sandbox } from '../../sandbox/server.js'

process.env.AWS_EC2_METADATA_DISABLED = 'true'

export const FAKE_CREDENTIALS = { accessKeyId: 'AKIASANDBOXTEST00001', secretAccessKey: 'sandbox-secret' }

export interface ClientOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  maxAttempts?: number
  /** The node HTTP handler's options, e.g. `{ requestTimeout: 300, throwOnRequestTimeout: true }`. */
  requestHandler?: { requestTimeout?: number; connectionTimeout?: number; throwOnRequestTimeout?: boolean }
}

function config(sandbox: Sandbox, region: string, options: ClientOptions) {
  const { credentials = FAKE_CREDENTIALS, maxAttempts = 1, requestHandler } = options
  return { endpoint: sandbox.url, region, credentials, maxAttempts, ...(requestHandler ? { requestHandler } : {}) }
}

export function ec2(sandbox: Sandbox, region = 'us-east-1', options: ClientOptions = {}): EC2Client {
  return new EC2Client(config(sandbox, region, options))
}

export function sns(sandbox: Sandbox, region = 'us-east-1', options: ClientOptions = {}): SNSClient {
  return new SNSClient(config(sandbox, region, options))
}

export function sts(sandbox: Sandbox, region = 'us-east-1', options: ClientOptions = {}): STSClient {
  return new STSClient(config(sandbox, region, options))
}

/** IAM is global; the region only decides what the SigV4 scope says with a custom endpoint. */
export function iam(sandbox: Sandbox, region = 'us-east-1', options: ClientOptions = {}): IAMClient {
  return new IAMClient(config(sandbox, region, options))
}

/** The AWS error code an SDK call rejected with. */
export async function errorOf(promise: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } }
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode }
  }
  throw new Error('expected the call to fail')
}
