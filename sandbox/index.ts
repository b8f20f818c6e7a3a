/** The sandbox AWS account for end-to-end tests, the demo and the benchmark. See README.md. */
export {
  startSandbox,
  DEFAULT_REGIONS,
  DEFAULT_NOT_OPTED_IN,
  DEFAULT_TOPIC_ARN,
  type Sandbox,
  type SandboxOptions
} from './server.js'
export { Fleet, packerName, packerUuid, LAUNCH_TEMPLATE_TAG } from './fleet.js'
export { Faults, type FaultMatch } from './faults.js'
export {
  IamAccount,
  packerIamLeftovers,
  EC2_TRUST_POLICY,
  PACKER_ROLE_DESCRIPTION,
  PACKER_POLICY_DOCUMENT,
  type PackerIamState,
  type PackerIamOptions
} from './iam.js'
export { generateFleet, type GenerateOptions } from './generate.js'
export { ACCOUNT_ID } from './ec2.js'
export { durationSeconds } from './wire.js'
export { wildcard } from './wildcard.js'
export * from './types.js'
export { SANDBOX_LIST_PRICES, SANDBOX_SPOT_PRICES, sandboxSpotPrice } from './pricing.js'
