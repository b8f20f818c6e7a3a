/**
 * The sandbox AWS account: one HTTP endpoint on 127.0.0.1 for EC2 (ec2 query protocol), SNS,
 * STS and IAM (awsQuery). Point the SDK at it with AWS_ENDPOINT_URL; every region shares the endpoint and
 * is read from the SigV4 credential scope.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { EC2_HANDLERS } from './ec2.js'
import { faultError, Faults, type FaultEffect } from './faults.js'
import { Fleet } from './fleet.js'
import { IamAccount } from './iam.js'
import { handlePricingRequest, PRICING_TARGET } from './pricing.js'
import { SnsService, StsService, type StsOptions } from './services.js'
import type { CallRecord, FleetSeed, IamSeed } from './types.js'
import { AwsFault, esc, type Params } from './wire.js'

/** Regions enabled for the sandbox account by default (AllRegions=false answers these). */
export const DEFAULT_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2'
]

/** Opt-in regions the sandbox account has not enabled (listed only with AllRegions=true). */
export const DEFAULT_NOT_OPTED_IN = ['af-south-1', 'ap-east-1', 'me-south-1', 'eu-south-1']

export const DEFAULT_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:packer-sweeper'

export interface SandboxOptions {
  /** The fleet to start with. */
  fleet?: FleetSeed
  /** IAM roles and instance profiles to start with (account-wide). */
  iam?: IamSeed
  /** Enabled regions (default DEFAULT_REGIONS). */
  regions?: string[]
  /** Opt-in regions not enabled (default DEFAULT_NOT_OPTED_IN). */
  notOptedIn?: string[]
  /** SNS topics that exist (default [DEFAULT_TOPIC_ARN]). */
  topics?: string[]
  /** How long stopping/shutting-down last, in ms (default 0: the next read sees stopped/terminated). */
  transitionDelayMs?: number
  /** How long a pending/stopping instance still reads as such after TerminateInstances, in ms (default 0). */
  terminationLagMs?: number
  sts?: StsOptions
  /**
   * Hold every request this long before processing it (default 0), each on its own timer so that
   * concurrent requests are delayed concurrently: a client's sequential round trips are then
   * (wall time with delay D − wall time without) / D.
   */
  requestDelayMs?: number
  /**
   * Holds every call `matches` selects until `count` of them have arrived, then answers them all:
   * a test sees whether a client has that many calls in flight at once, however slow the machine.
   * A client that never sends that many together is answered after `maxHoldMs`, so its test fails
   * on what it sent instead of hanging.
   */
  holdUntilInFlight?: {
    matches(call: Pick<CallRecord, 'seq' | 'service' | 'action'>): boolean
    count: number
    maxHoldMs: number
  }
  /**
   * At most this many items per page of a paginated EC2 answer, whatever MaxResults asks (EC2 may
   * answer fewer with a NextToken); default: as many as MaxResults allows.
   */
  pageSize?: number
  /** Seed for generated IDs (default 1). */
  seed?: number
}

export interface Sandbox {
  /** `http://127.0.0.1:PORT`, for AWS_ENDPOINT_URL. */
  url: string
  port: number
  fleet: Fleet
  /** IAM roles and instance profiles (global: every region's calls see the same). */
  iam: IamAccount
  faults: Faults
  /** Every request received, in order. */
  calls: CallRecord[]
  /** Calls of one action (optionally one region), e.g. for "ceil(n/100) TerminateInstances". */
  callsOf(action: string, region?: string): CallRecord[]
  /** SNS messages published successfully. */
  published: SnsService['published']
  sns: SnsService
  /** Roles assumed through AssumeRoleWithWebIdentity, with the credentials handed out. */
  assumedRoles: StsService['assumed']
  regions: { enabled: string[]; notOptedIn: string[] }
  /** Stops the server: clears pending delays and destroys every connection, silenced ones included. Idempotent. */
  close(): Promise<void>
}

const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/'
const NAMESPACES = {
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/'
}
const VERSIONS: Record<string, CallRecord['service']> = {
  '2016-11-15': 'ec2',
  '2010-03-31': 'sns',
  '2011-06-15': 'sts',
  '2010-05-08': 'iam'
}
/**
 * Services that answer whatever region the call was signed for. IAM is global: against AWS the SDK
 * signs it for the partition's region (`us-east-1` in `aws`); with a custom endpoint the endpoint
 * rules set no signing region, so the scope carries the client's own region.
 */
const GLOBAL_SERVICES = new Set<CallRecord['service']>(['sts', 'iam'])
const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const fleet = new Fleet(options.transitionDelayMs ?? 0, options.seed ?? 1, options.terminationLagMs ?? 0)
  if (options.fleet) fleet.seed(options.fleet)
  const iam = new IamAccount(options.seed ?? 1)
  if (options.iam) iam.seed(options.iam)
  const faults = new Faults()
  const sns = new SnsService(options.topics ?? [DEFAULT_TOPIC_ARN])
  const sts = new StsService(options.sts)
  const calls: CallRecord[] = []
  const configured = {
    enabled: options.regions ?? DEFAULT_REGIONS,
    notOptedIn: options.notOptedIn ?? DEFAULT_NOT_OPTED_IN
  }
  const regions = {
    get enabled() {
      return configured.enabled.filter((r) => !faults.disabledRegions.has(r))
    },
    get notOptedIn() {
      return [...configured.notOptedIn, ...configured.enabled.filter((r) => faults.disabledRegions.has(r))]
    }
  }

  /** Sockets of silenced calls and timers of delayed ones, ended by close(). */
  const silent = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  /** Calls held by holdUntilInFlight, answered together once `count` arrived (or maxHoldMs passed). */
  const gate = options.holdUntilInFlight
  let held: (() => void)[] = []
  let holdTimer: NodeJS.Timeout | undefined
  const releaseHeld = () => {
    if (holdTimer) {
      clearTimeout(holdTimer)
      timers.delete(holdTimer)
      holdTimer = undefined
    }
    const waiting = held
    held = []
    for (const release of waiting) release()
  }

  const handle = (req: IncomingMessage, res: ServerResponse, body: string, receivedAt: number): void => {
    const params: Params = Object.fromEntries(new URLSearchParams(body))
    const scope = SCOPE.exec(req.headers.authorization ?? '')
    if (String(req.headers['x-amz-target'] ?? '').startsWith(PRICING_TARGET)) {
      return handlePricingRequest({
        req,
        res,
        body,
        receivedAt,
        calls,
        faults,
        principal: (id) => sts.principal(id),
        scope: { accessKeyId: scope?.[1], region: scope?.[2] }
      })
    }
    const accessKeyId = scope?.[1]
    const region = scope?.[2]
    const service = VERSIONS[params.Version ?? ''] ?? (scope?.[3] as CallRecord['service'] | undefined) ?? 'unknown'
    const action = params.Action ?? ''
    const call = {
      service,
      action,
      region,
      params,
      resource: service === 'iam' ? iam.resourceOf(action, params) : undefined
    }
    const fault = faults.take(call, sts.principal(accessKeyId))
    const delayMs = (options.requestDelayMs ?? 0) + faults.delayOf(call)
    const record: CallRecord = {
      seq: calls.length + 1,
      service,
      action,
      region,
      accessKeyId,
      params,
      status: 0,
      outcome: 'pending',
      delayMs,
      receivedAt
    }
    calls.push(record)
    if (gate?.matches(record)) {
      held.push(() => guarded(res, () => answer(req, res, record, fault)))
      if (held.length >= gate.count) return releaseHeld()
      if (!holdTimer) timers.add((holdTimer = setTimeout(releaseHeld, gate.maxHoldMs)))
      return
    }
    if (delayMs <= 0) return answer(req, res, record, fault)
    const timer = setTimeout(() => {
      timers.delete(timer)
      guarded(res, () => answer(req, res, record, fault))
    }, delayMs)
    timers.add(timer)
  }

  /** Processes a call (after its delay) and answers it, unless a fault drops or silences it. */
  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    record: CallRecord,
    fault: FaultEffect | undefined
  ): void => {
    const { service, action, region, accessKeyId, params } = record
    const unanswered = (outcome: 'dropped' | 'silenced') => {
      record.outcome = outcome
      if (outcome === 'dropped') return void req.socket.destroy()
      silent.add(req.socket)
      req.socket.once('close', () => {
        record.closedAt = performance.now()
        silent.delete(req.socket)
      })
    }
    const send = (status: number, xml: string, errorCode?: string) => {
      if (req.socket.destroyed) return void (record.outcome = 'client-closed')
      record.status = status
      record.errorCode = errorCode
      record.outcome = 'answered'
      record.answeredAt = performance.now()
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId })
      res.end(xml)
    }
    const requestId = randomUUID()
    try {
      if ((fault?.kind === 'drop' || fault?.kind === 'silence') && !fault.afterProcessing)
        return unanswered(fault.kind === 'drop' ? 'dropped' : 'silenced')
      if (fault?.kind === 'error') throw faultError(fault)
      if (region && !GLOBAL_SERVICES.has(service) && !regions.enabled.includes(region)) {
        throw new AwsFault('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)
      }
      const seen = faults.ignoresFilters({ service, action, region, params }) ? withoutFilters(params) : params
      const xml = dispatch(service, action, seen, region, accessKeyId)
      if (fault?.kind === 'drop' || fault?.kind === 'silence')
        return unanswered(fault.kind === 'drop' ? 'dropped' : 'silenced')
      send(200, wrap(service, action, xml, requestId))
    } catch (error) {
      if (!(error instanceof AwsFault)) throw error
      send(error.status, errorXml(service, error, requestId), error.code)
    }
  }

  const dispatch = (
    service: CallRecord['service'],
    action: string,
    params: Params,
    region: string | undefined,
    accessKeyId: string | undefined
  ): string => {
    const invalid = new AwsFault('InvalidAction', `The action ${action} is not valid for this web service.`)
    if (service === 'ec2') {
      const handler = EC2_HANDLERS[action]
      if (!handler) throw invalid
      if (!region)
        throw new AwsFault('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)
      const denied = (other: string) => faults.denies({ service: 'ec2', action: other, region })
      return handler({ params, region, fleet, regions, pageSize: options.pageSize, denied })
    }
    const ctx = { params, region, accessKeyId }
    if (service === 'sns' && action === 'Publish') return sns.publish(ctx)
    if (service === 'sts' && action === 'AssumeRoleWithWebIdentity') return sts.assumeRoleWithWebIdentity(ctx)
    if (service === 'sts' && action === 'GetCallerIdentity') return sts.getCallerIdentity(ctx)
    const iamXml = service === 'iam' ? iam.handle(action, params) : undefined
    if (iamXml !== undefined) return iamXml
    throw invalid
  }

  const server = createServer((req, res) => {
    const receivedAt = performance.now()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => guarded(res, () => handle(req, res, Buffer.concat(chunks).toString('utf8'), receivedAt)))
  })
  // Keep-alive sockets would hold close() open; the SDK reconnects as needed.
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  let closing: Promise<void> | undefined

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    fleet,
    iam,
    faults,
    calls,
    callsOf: (action, region) =>
      calls.filter((c) => c.action === action && (region === undefined || c.region === region)),
    published: sns.published,
    sns,
    assumedRoles: sts.assumed,
    regions,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer)
        timers.clear()
        // Resolves once every silenced socket has closed too, so their `closedAt` is set.
        const silencedClosed = [...silent].map((socket) => new Promise((closed) => socket.once('close', closed)))
        server.close((error) => (error ? reject(error) : Promise.all(silencedClosed).then(() => resolve())))
        for (const socket of silent) socket.destroy()
        server.closeAllConnections()
      }))
  }
}

/** Runs a step of answering a request; a sandbox bug becomes a plain-text 500 instead of a crash. */
function guarded(res: ServerResponse, step: () => void): void {
  try {
    step()
  } catch (error) {
    if (res.headersSent || res.destroyed) return
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end(`sandbox bug: ${error instanceof Error ? error.stack : String(error)}`)
  }
}

function wrap(service: CallRecord['service'], action: string, inner: string, requestId: string): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n'
  if (service === 'ec2')
    return `${head}<${action}Response xmlns="${EC2_NS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`
  const ns = NAMESPACES[service as keyof typeof NAMESPACES] ?? NAMESPACES.sts
  // Actions without a result (IAM's deletes) answer only the metadata, as AWS does.
  const result = inner === '' ? '' : `<${action}Result>${inner}</${action}Result>`
  return `${head}<${action}Response xmlns="${ns}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
}

function errorXml(service: CallRecord['service'], error: AwsFault, requestId: string): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n'
  const code = `<Code>${esc(error.code)}</Code><Message>${esc(error.message)}</Message>`
  if (service === 'ec2' || service === 'unknown')
    return `${head}<Response><Errors><Error>${code}</Error></Errors><RequestID>${requestId}</RequestID></Response>`
  const ns = NAMESPACES[service as keyof typeof NAMESPACES] ?? NAMESPACES.sts
  const type = error.status >= 500 ? 'Receiver' : 'Sender'
  return `${head}<ErrorResponse xmlns="${ns}"><Error><Type>${type}</Type>${code}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`
}

/** The parameters without any `Filter.N.…` (for `faults.ignoreFilters`). */
function withoutFilters(params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([name]) => !/^Filter\.\d+\./.test(name)))
}
