/**
 * Reproducible fleets of any size: `generateFleet({ region, count, staleFraction, seed })`.
 * Ages keep a 10-minute margin from max-age on both sides so "stale" never depends on timing.
 */
import { packerName } from './fleet.js'
import type { FleetSeed, InstanceSeed, InstanceStateName, Tags } from './types.js'
import { durationSeconds, hex, prng, stringSeed } from './wire.js'

export interface GenerateOptions {
  region: string
  count: number
  /** Share of the Packer builders older than maxAge (default 0.5). */
  staleFraction?: number
  /** Default '2h'. */
  maxAge?: string
  /** Share of all instances that are not Packer builders (key `deploy-<n>`, default 0). */
  nonPackerFraction?: number
  /** Share of Packer builders that are stopped rather than running (default 0). */
  stoppedFraction?: number
  /** Share of Packer builders carrying `excludeTag` (default 0). */
  excludedFraction?: number
  excludeTag?: string
  /** Share of Packer builders with termination protection (default 0). */
  protectedFraction?: number
  /** Share of Packer builders that are spot instances (default 0). */
  spotFraction?: number
  /** Tags on every Packer builder (run_tags). */
  tags?: Tags
  /** Availability zones to spread over (default `<region>a`, `<region>b`). */
  zones?: string[]
  seed?: number
}

const MARGIN = 600

export function generateFleet(options: GenerateOptions): FleetSeed {
  const random = prng((options.seed ?? 1) ^ stringSeed(options.region))
  const maxAge = durationSeconds(options.maxAge ?? '2h')
  const zones = options.zones ?? [`${options.region}a`, `${options.region}b`]
  const now = Date.now()
  const pick = (fraction: number | undefined) => random() < (fraction ?? 0)
  const instances: InstanceSeed[] = []
  for (let n = 0; n < options.count; n++) {
    const id = `i-${hex(random, 17)}`
    const availabilityZone = zones[n % zones.length]
    if (pick(options.nonPackerFraction)) {
      instances.push({
        id,
        ref: `other-${n}`,
        keyName: `deploy-${n % 7}`,
        ageSeconds: Math.floor(random() * 30 * 86400),
        availabilityZone,
        tags: { Name: `web-${n}` }
      })
      continue
    }
    const stale = random() < (options.staleFraction ?? 0.5)
    const ageSeconds = stale
      ? maxAge + MARGIN + Math.floor(random() * 3 * 86400)
      : Math.floor(random() * Math.max(0, maxAge - 2 * MARGIN)) + 60
    const state: InstanceStateName = pick(options.stoppedFraction) ? 'stopped' : 'running'
    const tags: Tags = { ...options.tags }
    if (pick(options.excludedFraction)) tags[options.excludeTag ?? 'packer-sweeper:keep'] = 'true'
    instances.push({
      id,
      ref: `${stale ? 'stale' : 'fresh'}-${n}`,
      keyName: packerName(ageSeconds, now, random),
      ageSeconds,
      state,
      availabilityZone,
      tags,
      disableApiTermination: pick(options.protectedFraction),
      lifecycle: pick(options.spotFraction) ? 'spot' : undefined
    })
  }
  return { [options.region]: { instances } }
}
