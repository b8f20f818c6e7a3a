/** The sandbox AWS account for end-to-end tests, the demo and the benchmark. See README.md. */
export { startSandbox, DEFAULT_REGIONS, DEFAULT_NOT_OPTED_IN, DEFAULT_TOPIC_ARN, type Sandbox, type SandboxOptions } from './server.js'
export { Fleet, packerName, packerUuid, LAUNCH_TEMPLATE_TAG } from './fleet.js'
export { Faults, type FaultMatch } from './faults.js'
export { generateFleet, type GenerateOptions } from './generate.js'
export { ACCOUNT_ID } from './ec2.js'
export { wildcard, durationSeconds } from './wire.js'
export * from './types.js'
export { SANDBOX_LIST_PRICES, SANDBOX_SPOT_PRICES, sandboxSpotPrice } from './pricing.js'
