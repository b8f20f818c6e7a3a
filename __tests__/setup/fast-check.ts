/**
 * Every fast-check property in the suite runs with one fixed seed, so a red run is reproducible and
 * a green one does not depend on luck. Explore other seeds with `FC_SEED=<n> npm test`; a failure
 * prints the seed and path to replay it.
 */
import fc from 'fast-check'

const seed = Number(process.env.FC_SEED ?? 20261126)
if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer, got '${process.env.FC_SEED}'`)

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed })
