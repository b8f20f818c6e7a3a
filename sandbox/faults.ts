/**
 * Per-call fault injection: rules are checked in the order they were added; the first one that
 * matches a call and has calls left applies (and uses one up).
 */
import { AwsFault } from './wire.js'

export interface FaultMatch {
  /** Action name (`DescribeInstances`); undefined = any action. */
  action?: string
  /** Region of the call; undefined = any region. */
  region?: string
  /** Service; undefined = any. */
  service?: 'ec2' | 'sns' | 'sts' | 'pricing' | 'iam'
  /** Form parameters the call must carry with exactly these values (`{ 'Filter.1.Name': 'group-id' }`); undefined = any. */
  params?: Record<string, string>
}

export type FaultEffect =
  | { kind: 'error'; code: string; message: string; status: number }
  /** Destroy the socket: before the call is processed, or after (the change is made, the answer lost). */
  | { kind: 'drop'; afterProcessing: boolean }
  /** Keep the socket open and never answer: before the call is processed, or after (the change is made). */
  | { kind: 'silence'; afterProcessing: boolean }

/** A `slow` rule: the delay it adds to each matching call. */
interface SlowRule {
  match: FaultMatch
  remaining: number
  delayMs: number
}

interface Rule {
  match: FaultMatch
  remaining: number
  /** `deny` and `throttle` take the shape of the service the call is for when they apply. */
  effect: FaultEffect | { kind: 'deny' } | { kind: 'throttle' }
}

export interface FaultCall {
  service: 'ec2' | 'sns' | 'sts' | 'pricing' | 'iam' | 'unknown'
  action: string
  region?: string
  /** What the call acts on, for services whose AccessDenied names it (IAM: an ARN). */
  resource?: string
  /** The form parameters as sent. */
  params?: Record<string, string>
}

/** Which error each service answers when IAM denies a call. */
const DENIED: Record<FaultCall['service'], string> = {
  ec2: 'UnauthorizedOperation',
  sns: 'AuthorizationError',
  sts: 'AccessDenied',
  pricing: 'AccessDeniedException',
  iam: 'AccessDenied',
  unknown: 'AccessDenied'
}
const IAM_PREFIX: Record<FaultCall['service'], string> = {
  ec2: 'ec2',
  sns: 'sns',
  sts: 'sts',
  pricing: 'pricing',
  iam: 'iam',
  unknown: '?'
}

/** How a service says it is throttling (default: EC2's RequestLimitExceeded, HTTP 503). */
const THROTTLED: Partial<Record<FaultCall['service'], Extract<FaultEffect, { kind: 'error' }>>> = {
  iam: { kind: 'error', code: 'Throttling', message: 'Rate exceeded', status: 400 }
}
const REQUEST_LIMIT_EXCEEDED: Extract<FaultEffect, { kind: 'error' }> = {
  kind: 'error',
  code: 'RequestLimitExceeded',
  message: 'Request limit exceeded.',
  status: 503
}

export class Faults {
  private rules: Rule[] = []
  private slowRules: SlowRule[] = []
  private ignoreFilterRules: Array<{ match: FaultMatch; remaining: number }> = []
  /** Regions disabled for the account (opt-in regions not enabled): AuthFailure on every EC2/SNS call. */
  readonly disabledRegions = new Set<string>()

  /** `RequestLimitExceeded` (HTTP 503; IAM: `Throttling`, 400) for the next `count` matching calls. */
  throttle(match: FaultMatch & { count: number }): this {
    return this.add(match, match.count, { kind: 'throttle' })
  }

  /** IAM denies the matching calls (all of an action, or every call into a region) until `clear`. */
  deny(match: FaultMatch & { count?: number }): this {
    return this.add(match, match.count ?? Infinity, { kind: 'deny' })
  }

  /** The region is not enabled for the account: AuthFailure, and DescribeRegions leaves it out. */
  disableRegion(region: string): this {
    this.disabledRegions.add(region)
    return this
  }

  /** Drop the connection for the next `count` matching calls. */
  drop(match: FaultMatch & { count: number; afterProcessing?: boolean }): this {
    return this.add(match, match.count, { kind: 'drop', afterProcessing: match.afterProcessing ?? false })
  }

  /**
   * Never answer the matching calls (all of a region, a service or an action until `clear`, or the
   * next `count`): the request is read, the socket stays open and nothing is written, so only the
   * client's own timeout or abort ends the call. With `afterProcessing` the change is made first.
   * `close()` destroys these sockets.
   */
  silence(match: FaultMatch & { count?: number; afterProcessing?: boolean }): this {
    return this.add(match, match.count ?? Infinity, {
      kind: 'silence',
      afterProcessing: match.afterProcessing ?? false
    })
  }

  /**
   * Delay the matching calls (all until `clear`, or the next `count`) by `delayMs` before they are
   * processed. Independent of the other faults: a slow call can still be throttled, dropped or
   * silenced, and the delays of several matching `slow` rules add up.
   */
  slow(match: FaultMatch & { count?: number; delayMs: number }): this {
    this.slowRules.push({ match: pick(match), remaining: match.count ?? Infinity, delayMs: match.delayMs })
    return this
  }

  /**
   * Answer the matching calls as if they carried no `Filter.N` (an endpoint that ignores filters),
   * all until `clear` or the next `count`. The call records keep the filters as sent.
   */
  ignoreFilters(match: FaultMatch & { count?: number }): this {
    this.ignoreFilterRules.push({ match: pick(match), remaining: match.count ?? Infinity })
    return this
  }

  /**
   * Whether a `deny` rule without `params` applies to this call now, without using it up: for a call
   * that acts on further resources itself (DeregisterImage deleting snapshots needs DeleteSnapshot).
   */
  denies(call: Omit<FaultCall, 'params'>): boolean {
    return this.rules.some(
      (r) => r.effect.kind === 'deny' && r.remaining > 0 && r.match.params === undefined && matches(r.match, call)
    )
  }

  /** Whether this call's filters are to be ignored (and uses one up). */
  ignoresFilters(call: FaultCall): boolean {
    const rule = this.ignoreFilterRules.find((r) => r.remaining > 0 && matches(r.match, call))
    if (rule) rule.remaining--
    return rule !== undefined
  }

  /** The added-up delay of the `slow` rules this call matches (and uses one of each up). */
  delayOf(call: FaultCall): number {
    let delayMs = 0
    for (const rule of this.slowRules) {
      if (rule.remaining <= 0 || !matches(rule.match, call)) continue
      rule.remaining--
      delayMs += rule.delayMs
    }
    return delayMs
  }

  /** Any AWS error for the next `count` matching calls (Infinity = until `clear`). */
  fail(match: FaultMatch & { count?: number; code: string; message: string; status?: number }): this {
    return this.add(match, match.count ?? Infinity, {
      kind: 'error',
      code: match.code,
      message: match.message,
      status: match.status ?? 400
    })
  }

  clear(): void {
    this.rules = []
    this.slowRules = []
    this.ignoreFilterRules = []
    this.disabledRegions.clear()
  }

  /** The fault for this call, if any (and uses one up). Throws AwsFault for error faults. */
  take(call: FaultCall, principal: string): FaultEffect | undefined {
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !matches(rule.match, call)) continue
      rule.remaining--
      const effect = rule.effect
      if (effect.kind === 'throttle') return THROTTLED[call.service] ?? REQUEST_LIMIT_EXCEEDED
      if (effect.kind === 'deny') {
        const permission = `${IAM_PREFIX[call.service]}:${call.action}`
        const because = `because no identity-based policy allows the ${permission} action`
        const message =
          call.resource === undefined
            ? `You are not authorized to perform this operation. User: ${principal} is not authorized to perform: ${permission} ${because}`
            : `User: ${principal} is not authorized to perform: ${permission} on resource: ${call.resource} ${because}`
        return { kind: 'error', code: DENIED[call.service], message, status: 403 }
      }
      return effect
    }
    return undefined
  }

  private add(match: FaultMatch, remaining: number, effect: Rule['effect']): this {
    this.rules.push({ match: pick(match), remaining, effect })
    return this
  }
}

function pick({ action, region, service, params }: FaultMatch): FaultMatch {
  return { action, region, service, params: params && { ...params } }
}

function matches(m: FaultMatch, call: FaultCall): boolean {
  return (
    (m.action === undefined || m.action === call.action) &&
    (m.region === undefined || m.region === call.region) &&
    (m.service === undefined || m.service === call.service) &&
    (m.params === undefined || Object.entries(m.params).every(([name, value]) => call.params?.[name] === value))
  )
}

export function faultError(effect: Extract<FaultEffect, { kind: 'error' }>): AwsFault {
  return new AwsFault(effect.code, effect.message, effect.status)
}
