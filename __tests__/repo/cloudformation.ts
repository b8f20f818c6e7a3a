/**
 * Just enough CloudFormation to check deploy/cloudformation.yml offline: the YAML short-form tags
 * (!Ref, !Sub, !If, …) parsed by the `yaml` package into their long form, and an evaluator for the
 * intrinsic functions the template uses, so a test can render the template for given parameters
 * and look at the policy AWS would create. Anything it does not know is an error, never a guess.
 */
import { parse, type Tags } from 'yaml'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Short form → long form: !Ref x → { Ref: x }, !GetAtt a.b → { 'Fn::GetAtt': [a, b] }, !If […] → { 'Fn::If': […] }. */
function cfnTags(): Tags {
  const functions = [
    'And',
    'Base64',
    'Cidr',
    'Equals',
    'FindInMap',
    'GetAZs',
    'If',
    'ImportValue',
    'Join',
    'Not',
    'Or',
    'Select',
    'Split',
    'Sub'
  ]
  const tags: Tags = []
  for (const name of functions) {
    const key = `Fn::${name}`
    tags.push({ tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) })
    tags.push({ tag: `!${name}`, collection: 'seq', resolve: (seq) => ({ [key]: seq.toJSON() }) })
    tags.push({ tag: `!${name}`, collection: 'map', resolve: (map) => ({ [key]: map.toJSON() }) })
  }
  tags.push({ tag: '!Ref', resolve: (value: string) => ({ Ref: value }) })
  tags.push({ tag: '!Condition', resolve: (value: string) => ({ Condition: value }) })
  tags.push({ tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) })
  tags.push({ tag: '!GetAtt', collection: 'seq', resolve: (seq) => ({ 'Fn::GetAtt': seq.toJSON() }) })
  return tags
}

export function parseTemplate(text: string): Template {
  return parse(text, { customTags: cfnTags() }) as Template
}

/** What CloudFormation does with a resource the stack deletes, or an update removes or replaces. */
export type RemovalPolicy = 'Delete' | 'Retain' | 'RetainExceptOnCreate' | 'Snapshot'

export interface TemplateResource {
  Type: string
  Condition?: string
  DeletionPolicy?: RemovalPolicy
  UpdateReplacePolicy?: RemovalPolicy
  Properties?: Record<string, Json>
}

export interface Template {
  Parameters?: Record<string, { Type: string; Default?: string; AllowedValues?: string[]; AllowedPattern?: string }>
  Conditions?: Record<string, Json>
  Resources: Record<string, TemplateResource>
  Outputs?: Record<string, { Condition?: string; Value: Json }>
}

/** What AWS::NoValue evaluates to: removed from the surrounding map or list. */
const NO_VALUE = Symbol('AWS::NoValue')
type Value = Json | typeof NO_VALUE | Value[] | { [key: string]: Value }

export const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::StackName': 'packer-sweeper',
  'AWS::URLSuffix': 'amazonaws.com'
}

/** A template rendered for one set of parameters: the resources that exist, with plain values. */
export interface Rendered {
  conditions: Record<string, boolean>
  resources: Record<
    string,
    {
      Type: string
      Properties: Record<string, Json>
      DeletionPolicy?: RemovalPolicy
      UpdateReplacePolicy?: RemovalPolicy
    }
  >
  outputs: Record<string, Json>
}

export class TemplateError extends Error {}

export function render(template: Template, given: Record<string, string>): Rendered {
  const parameters = template.Parameters ?? {}
  const values: Record<string, string> = {}
  for (const [name, spec] of Object.entries(parameters)) {
    const value = given[name] ?? spec.Default
    if (value === undefined) throw new TemplateError(`parameter ${name} has no value and no default`)
    if (spec.AllowedValues && !spec.AllowedValues.includes(value)) {
      throw new TemplateError(`parameter ${name}: ${value} is not one of ${spec.AllowedValues.join(', ')}`)
    }
    if (spec.AllowedPattern && !new RegExp(spec.AllowedPattern).test(value)) {
      throw new TemplateError(`parameter ${name}: ${value} does not match ${spec.AllowedPattern}`)
    }
    values[name] = value
  }
  for (const name of Object.keys(given)) {
    if (!(name in parameters)) throw new TemplateError(`unknown parameter ${name}`)
  }

  const conditionDefs = template.Conditions ?? {}
  const conditions: Record<string, boolean> = {}
  const evaluating = new Set<string>()
  const condition = (name: string): boolean => {
    if (name in conditions) return conditions[name] as boolean
    if (!(name in conditionDefs)) throw new TemplateError(`unknown condition ${name}`)
    if (evaluating.has(name)) throw new TemplateError(`condition ${name} refers to itself`)
    evaluating.add(name)
    const result = evaluate(conditionDefs[name] as Json)
    if (typeof result !== 'boolean') throw new TemplateError(`condition ${name} is not a boolean`)
    conditions[name] = result
    return result
  }

  const resources = template.Resources
  const exists = (name: string): boolean => {
    const resource = resources[name]
    return resource !== undefined && (resource.Condition === undefined || condition(resource.Condition))
  }
  const ref = (name: string): Value => {
    if (name === 'AWS::NoValue') return NO_VALUE
    if (name in PSEUDO) return PSEUDO[name] as string
    if (name in values) {
      return parameters[name]?.Type === 'CommaDelimitedList'
        ? (values[name] as string).split(',')
        : (values[name] as string)
    }
    if (name in resources) {
      if (!exists(name)) throw new TemplateError(`Ref to ${name}, which this configuration does not create`)
      return resources[name]?.Type === 'AWS::IAM::OIDCProvider' ? oidcProviderArn(name) : `ref:${name}`
    }
    throw new TemplateError(`Ref to unknown ${name}`)
  }
  /** The Ref of an AWS::IAM::OIDCProvider is its ARN, which IAM builds from the account and the provider's URL. */
  const oidcProviderArn = (name: string): string => {
    const url = resources[name]?.Properties?.Url
    if (typeof url !== 'string' || !url.startsWith('https://'))
      throw new TemplateError(`${name}: Url must be a literal https:// URL`)
    return `arn:${PSEUDO['AWS::Partition']}:iam::${PSEUDO['AWS::AccountId']}:oidc-provider/${url.slice('https://'.length)}`
  }
  const getAtt = (name: string, attribute: string): string => {
    if (!(name in resources)) throw new TemplateError(`GetAtt of unknown resource ${name}`)
    if (!exists(name)) throw new TemplateError(`GetAtt of ${name}, which this configuration does not create`)
    return `getatt:${name}.${attribute}`
  }
  const sub = (text: string, locals: Record<string, Value>): string =>
    text.replace(/\$\{(!?)([^}]+)\}/g, (_whole, literal: string, name: string) => {
      if (literal) return `\${${name}}`
      const local = locals[name]
      const value =
        local !== undefined
          ? local
          : name.includes('.')
            ? getAtt(...(name.split('.', 2) as [string, string]))
            : ref(name)
      if (typeof value !== 'string') throw new TemplateError(`\${${name}} in Fn::Sub is not a string`)
      return value
    })

  function evaluate(node: Json): Value {
    if (Array.isArray(node)) return node.map(evaluate).filter((item) => item !== NO_VALUE)
    if (node === null || typeof node !== 'object') return node
    const keys = Object.keys(node)
    const [only] = keys
    if (
      keys.length === 1 &&
      only !== undefined &&
      (only === 'Ref' || only === 'Condition' || only.startsWith('Fn::'))
    ) {
      return intrinsic(only, node[only] as Json)
    }
    const out: Record<string, Value> = {}
    for (const key of keys) {
      const value = evaluate(node[key] as Json)
      if (value !== NO_VALUE) out[key] = value
    }
    return out
  }

  function list(args: Json, fn: string, length?: number): Json[] {
    if (!Array.isArray(args) || (length !== undefined && args.length !== length)) {
      throw new TemplateError(`${fn} takes a list${length === undefined ? '' : ` of ${length}`}`)
    }
    return args
  }

  function intrinsic(fn: string, args: Json): Value {
    switch (fn) {
      case 'Ref':
        return ref(String(args))
      case 'Condition':
        return condition(String(args))
      case 'Fn::GetAtt': {
        const [name, attribute] = list(args, fn, 2)
        return getAtt(String(name), String(attribute))
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = list(args, fn, 3)
        return condition(String(name)) ? evaluate(whenTrue as Json) : evaluate(whenFalse as Json)
      }
      case 'Fn::Equals': {
        const [a, b] = list(args, fn, 2).map(evaluate)
        return JSON.stringify(a) === JSON.stringify(b)
      }
      case 'Fn::Not': {
        const [a] = list(args, fn, 1).map(evaluate)
        if (typeof a !== 'boolean') throw new TemplateError('Fn::Not of a non-boolean')
        return !a
      }
      case 'Fn::And':
      case 'Fn::Or': {
        const operands = list(args, fn).map(evaluate)
        if (operands.length < 2 || operands.some((operand) => typeof operand !== 'boolean')) {
          throw new TemplateError(`${fn} takes 2 to 10 conditions`)
        }
        return fn === 'Fn::And' ? operands.every(Boolean) : operands.some(Boolean)
      }
      case 'Fn::Split': {
        const [separator, source] = list(args, fn, 2)
        const text = evaluate(source as Json)
        if (typeof separator !== 'string' || typeof text !== 'string')
          throw new TemplateError('Fn::Split of a non-string')
        return text.split(separator)
      }
      case 'Fn::Join': {
        const [separator, items] = list(args, fn, 2)
        const parts = evaluate(items as Json)
        if (typeof separator !== 'string' || !Array.isArray(parts)) throw new TemplateError('Fn::Join needs a list')
        return parts.map(String).join(separator)
      }
      case 'Fn::Sub': {
        if (typeof args === 'string') return sub(args, {})
        const [text, locals] = list(args, fn, 2)
        const evaluated = evaluate(locals as Json)
        if (
          typeof text !== 'string' ||
          evaluated === null ||
          typeof evaluated !== 'object' ||
          Array.isArray(evaluated)
        ) {
          throw new TemplateError('Fn::Sub [text, {locals}] malformed')
        }
        return sub(text, evaluated as Record<string, Value>)
      }
      default:
        throw new TemplateError(`intrinsic function ${fn} is not supported by this checker`)
    }
  }

  for (const name of Object.keys(conditionDefs)) condition(name)
  const renderedResources: Rendered['resources'] = {}
  for (const [name, resource] of Object.entries(resources)) {
    if (!exists(name)) continue
    const { Type, DeletionPolicy, UpdateReplacePolicy } = resource
    renderedResources[name] = {
      Type,
      Properties: evaluate(resource.Properties ?? {}) as Record<string, Json>,
      ...(DeletionPolicy === undefined ? {} : { DeletionPolicy }),
      ...(UpdateReplacePolicy === undefined ? {} : { UpdateReplacePolicy })
    }
  }
  const outputs: Record<string, Json> = {}
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !condition(output.Condition)) continue
    outputs[name] = evaluate(output.Value) as Json
  }
  return { conditions, resources: renderedResources, outputs }
}

export interface Statement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
  Principal?: Record<string, string | string[]>
}

export function statements(document: unknown): Statement[] {
  const statement = (document as { Statement?: Statement | Statement[] }).Statement
  if (statement === undefined) throw new Error('policy document without Statement')
  return Array.isArray(statement) ? statement : [statement]
}

export const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

/** Every action the Allow statements grant, sorted and unique. */
export function allowedActions(document: unknown): string[] {
  const actions = statements(document)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => asList(s.Action))
  return [...new Set(actions)].sort()
}
