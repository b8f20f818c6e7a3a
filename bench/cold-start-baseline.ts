/**
 * The floor for the action's cold start: what any action built the same way (ncc, minified)
 * pays before its first AWS request — @actions/core plus the EC2, SNS and STS clients,
 * constructed, and one request sent. Nothing else.
 *
 * Not run as TypeScript: bench.ts transpiles this file to .mjs in a scratch folder inside the
 * repository (so node_modules resolves) and bundles it with ncc, as `npm run build` does the
 * action (ncc must be given JavaScript: @actions/core 3 is ESM-only).
 */
import * as core from '@actions/core'
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2'
import { SNSClient } from '@aws-sdk/client-sns'
import { STSClient } from '@aws-sdk/client-sts'

const region = process.env.AWS_REGION ?? 'us-east-1'
const ec2 = new EC2Client({ region })
const sns = new SNSClient({ region })
const sts = new STSClient({ region })
// The same first request the action sends with explicit regions: one page of DescribeInstances.
await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))
core.info('baseline: one request sent')
for (const client of [ec2, sns, sts]) client.destroy()
