import { type EC2Client, type Instance, paginateDescribeInstances } from '@aws-sdk/client-ec2'
import { DESCRIBE_PAGE_SIZE } from '../aws/batches.js'
import { PERMISSION } from '../model/permissions.js'
import { describing } from '../aws/describe-error.js'
import type { Candidate } from './leftover-model.js'
import { INSTANCE_STATES } from '../model/types.js'

/** Every state but `terminated`: a stopped builder still holds its key pair. */
export const LIVE_INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped']

/** What an instance uses of a kind's resources (its key's name, its template's ID, its profile's ARN), read from the instance. */
export interface InstanceLink {
  usedValue: (instance: Instance) => string | undefined
}

/** How instances name a regional leftover they use, and what that name is for a candidate. */
export interface InstanceUseQuery<C = Candidate> extends InstanceLink {
  candidateValue: (candidate: C) => string
}

/**
 * One listing of a region's live instances: which instances use what each query asks about, and
 * the state of the instances watched (`terminated` for one no longer listed).
 */
export interface LiveInstances {
  usersOf(link: InstanceLink, value: string): readonly string[]
  /** Whether the listing indexed this link: only then does usersOf answer for it. */
  answers(link: InstanceLink): boolean
  states: ReadonlyMap<string, string>
}

export interface LiveInstanceListing {
  /** What to index: who uses each value. */
  queries: readonly InstanceLink[]
  /** Instances whose state to report. */
  watch?: readonly string[]
  /** Sees every live instance as it is read (the builders are picked out of the same pass). */
  visit?: (instance: Instance) => void
  /**
   * Sees every instance listed, terminated ones included (EC2 lists them for about an hour): with
   * it, the listing asks for every state, and only the live ones answer the other questions.
   */
  everyState?: (instance: Instance) => void
  abortSignal?: AbortSignal
}

/**
 * Every live instance of the region, one page per 1,000, in one pass that serves every question
 * asked of it: who uses each key pair and launch template, whether the instances waited for are
 * gone, and (through `visit`) which of them are builders. Filter values that name a key are not
 * needed, so a key name holding `*` or `?` cannot widen what is matched.
 */
export async function listLiveInstances(client: EC2Client, listing: LiveInstanceListing): Promise<LiveInstances> {
  const index = new Map(listing.queries.map((query) => [query, new Map<string, string[]>()]))
  const watched = new Set(listing.watch ?? [])
  const states = new Map([...watched].map((id) => [id, 'terminated']))
  const wanted = listing.everyState ? [...INSTANCE_STATES] : LIVE_INSTANCE_STATES
  const input = { Filters: [{ Name: 'instance-state-name', Values: wanted }] }
  await describing(PERMISSION.describeInstances, async () => {
    for await (const page of paginateDescribeInstances({ client, pageSize: DESCRIBE_PAGE_SIZE }, input, {
      abortSignal: listing.abortSignal
    })) {
      for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        listing.everyState?.(instance)
        // A terminated instance holds nothing, whatever an endpoint's filtering let through.
        if (instance.State?.Name === 'terminated' || !instance.InstanceId) continue
        listing.visit?.(instance)
        if (watched.has(instance.InstanceId)) states.set(instance.InstanceId, instance.State?.Name ?? 'unknown')
        for (const [query, users] of index) {
          const used = query.usedValue(instance)
          if (used) users.set(used, [...(users.get(used) ?? []), instance.InstanceId])
        }
      }
    }
  })
  return { usersOf: (query, value) => index.get(query)?.get(value) ?? [], answers: (query) => index.has(query), states }
}

/**
 * The act phase's listings of live instances, shared by the scopes of one run: a region that lists
 * its instances anyway (its termination wait) also answers what the account's kinds will ask of it,
 * and the account's removals read that listing instead of listing the region again.
 */
export interface SharedListings {
  /** What the account's kinds ask of a region's listing. */
  readonly links: readonly InstanceLink[]
  put(region: string, live: LiveInstances): void
  /** The region's last listing, when it answers every one of `links`. */
  get(region: string, links: readonly InstanceLink[]): LiveInstances | undefined
}

export function sharedListings(links: readonly InstanceLink[]): SharedListings {
  const last = new Map<string, LiveInstances>()
  return {
    links,
    put: (region, live) => void last.set(region, live),
    get(region, wanted) {
      const live = last.get(region)
      return live && wanted.every((link) => live.answers(link)) ? live : undefined
    }
  }
}
