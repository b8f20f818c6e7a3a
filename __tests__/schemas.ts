/**
 * The published JSON Schemas of schema/ (the report, the SNS notification), compiled once by Ajv in
 * strict mode: what the tests validate reports and SNS messages with, so a change to either shape
 * that the schema does not describe fails them.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject, type SchemaObject } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'

export const SCHEMA_DIR = new URL('../schema/', import.meta.url)
/** Where the schemas are published: every `$id` is this and the file's name. */
export const SCHEMA_BASE_URL = 'https://raw.githubusercontent.com/packer-sweeper/packer-sweeper/main/schema/'
export const REPORT_SCHEMA = 'report.v1.schema.json'
export const NOTIFICATION_SCHEMA = 'notification.v2.schema.json'

/** Every schema file of schema/, by file name. */
export function readSchemas(): Map<string, SchemaObject> {
  const files = readdirSync(SCHEMA_DIR).filter((file) => file.endsWith('.schema.json'))
  return new Map(
    files.map((file) => [file, JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as SchemaObject])
  )
}

/** A schema, or any part of one, as plain JSON. */
export type SchemaNode = Record<string, unknown>

/**
 * The part of the schema files a reference names: `#/$defs/x` within `file`, or
 * `other.schema.json#/$defs/x` in another file. Throws when it does not exist.
 */
export function schemaAt(
  schemas: ReadonlyMap<string, SchemaObject>,
  file: string,
  ref: string
): { file: string; node: SchemaNode } {
  const [target = '', fragment = ''] = ref.startsWith('#') ? ['', ref.slice(1)] : ref.split('#')
  const inFile = target || file
  let node = schemas.get(inFile) as unknown
  for (const part of fragment.split('/').filter(Boolean)) node = (node as SchemaNode | undefined)?.[part]
  if (!node || typeof node !== 'object') throw new Error(`${inFile}#${fragment} does not exist`)
  return { file: inFile, node: node as SchemaNode }
}

/**
 * An Ajv holding every schema of schema/, in strict mode (an unknown keyword, a `required` property
 * that is not described, an ambiguous type are errors), with the formats (date-time) checked.
 * Union types (`["number", "null"]`) are allowed: they say exactly what the report holds.
 */
export function schemaAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true })
  formats.default(ajv)
  for (const schema of readSchemas().values()) ajv.addSchema(schema)
  return ajv
}

let shared: Ajv2020 | undefined
const ajv = () => (shared ??= schemaAjv())

/** A schema's `$id`, or that of one of its parts (`schemaId(REPORT_SCHEMA, '/$defs/settings')`). */
export function schemaId(file: string, pointer = ''): string {
  return `${SCHEMA_BASE_URL}${file}${pointer ? `#${pointer}` : ''}`
}

function describeErrors(errors: readonly ErrorObject[]): string {
  return errors
    .map(
      (error) => `  ${error.instancePath || '(root)'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`
    )
    .join('\n')
}

/** Ajv's errors for `value` against a schema (a file name, or `schemaId(...)`), as lines; empty when it is valid. */
export function schemaErrors(schema: string, value: unknown): string {
  const validate = ajv().getSchema(schema.includes('://') ? schema : schemaId(schema))
  if (!validate) throw new Error(`no schema ${schema}`)
  return validate(value) ? '' : describeErrors(validate.errors ?? [])
}

/** Throws with Ajv's errors when `value` does not match the schema; `what` names the value in the message. */
export function expectMatchesSchema(schema: string, value: unknown, what: string): void {
  const errors = schemaErrors(schema, value)
  if (errors) throw new Error(`${what} does not match schema/${schema.replace(/^.*\/schema\//, '')}:\n${errors}`)
}

/**
 * Checks one SNS Message as packer-sweeper publishes it (MessageStructure=json): the envelope, and
 * its JSON document against the notification schema, the very same string for every protocol.
 */
export function expectValidSnsMessage(message: string, what: string): void {
  const envelope = JSON.parse(message) as Record<string, string>
  expectMatchesSchema(schemaId(NOTIFICATION_SCHEMA, '/$defs/envelope'), envelope, `${what} (its envelope)`)
  for (const protocol of ['lambda', 'https'] as const) {
    if (envelope[protocol] !== envelope.sqs) throw new Error(`${what}: the ${protocol} JSON differs from the sqs JSON`)
  }
  expectMatchesSchema(NOTIFICATION_SCHEMA, JSON.parse(envelope.sqs as string), `${what} (its JSON)`)
}
