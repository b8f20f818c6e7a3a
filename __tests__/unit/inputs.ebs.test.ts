import { describe, expect, it } from '@jest/globals'
import { InputError, getInputs } from '../../src/inputs.js'
import { type Inputs } from '../../src/model/types.js'
import { inputGetter } from '../../__fixtures__/support.js'

const ENV = { AWS_REGION: 'us-east-1' }

/** The two inputs act only on their kinds: selected here unless a test says otherwise. */
const EBS_KINDS = { resources: 'instances,images,volumes' }

const parse = (overrides: Record<string, string> = {}, warnings: string[] = []): Inputs =>
  getInputs(inputGetter({ ...EBS_KINDS, ...overrides }), ENV, (message) => warnings.push(message))

function inputError(overrides: Record<string, string>): InputError {
  try {
    parse(overrides)
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error(`no InputError for ${JSON.stringify(overrides)}`)
}

describe('image-incomplete-tag: one literal Key=Value, unset by default', () => {
  it('is unset by default and when empty or blank', () => {
    expect(parse()['image-incomplete-tag']).toBeUndefined()
    expect(parse({ 'image-incomplete-tag': '' })['image-incomplete-tag']).toBeUndefined()
    expect(parse({ 'image-incomplete-tag': ' \n ' })['image-incomplete-tag']).toBeUndefined()
  })

  it.each<[string, { key: string; value: string }]>([
    ['packer-build=incomplete', { key: 'packer-build', value: 'incomplete' }],
    [' packer-build = incomplete ', { key: 'packer-build', value: 'incomplete' }],
    ['\npacker-build=incomplete\n', { key: 'packer-build', value: 'incomplete' }],
    ['build state=not=done', { key: 'build state', value: 'not=done' }],
    ['Packer-Build=Incomplete', { key: 'Packer-Build', value: 'Incomplete' }],
    [`${'k'.repeat(128)}=${'v'.repeat(256)}`, { key: 'k'.repeat(128), value: 'v'.repeat(256) }]
  ])('%j parses to its key and value, case kept', (raw, tag) => {
    expect(parse({ 'image-incomplete-tag': raw })['image-incomplete-tag']).toEqual(tag)
  })

  it.each<[string, RegExp]>([
    [
      'packer-build',
      /^image-incomplete-tag: "packer-build" is not Key=Value\. Give one Key=Value, .*packer-build=incomplete/
    ],
    ['=incomplete', /^image-incomplete-tag: "=incomplete" is not Key=Value\./],
    ['packer-build=', /^image-incomplete-tag: "packer-build=" is not Key=Value\./],
    ['packer-build= ', /^image-incomplete-tag: "packer-build= " is not Key=Value\./],
    [
      'packer-build=incomplete\nteam=ci',
      /^image-incomplete-tag: "packer-build=incomplete\nteam=ci" is more than one line\. Give one Key=Value/
    ],
    [
      'packer-build=incompl*',
      /^image-incomplete-tag: "packer-build=incompl\*" has a wildcard \(\* or \?\)\. It is matched literally, without wildcards: give the exact Key=Value/
    ],
    ['packer-build=?', /^image-incomplete-tag: "packer-build=\?" has a wildcard/],
    ['packer-*=incomplete', /^image-incomplete-tag: "packer-\*=incomplete" has a wildcard/],
    [
      `${'k'.repeat(129)}=v`,
      /^image-incomplete-tag: "k+=v" is too long\. Tag keys have at most 128 characters, values at most 256\.$/
    ],
    [`k=${'v'.repeat(257)}`, /^image-incomplete-tag: "k=v+" is too long\./],
    [
      'aws:backup=incomplete',
      /^image-incomplete-tag: "aws:backup=incomplete" has a key starting with aws:, which AWS reserves/
    ]
  ])('%j is refused in one message naming the input, the value and what is allowed', (raw, message) => {
    const error = inputError({ 'image-incomplete-tag': raw })
    expect(error.message.replace(/^Invalid input: /, '')).toMatch(message)
  })

  it('a tags line on the same key whose value cannot match it is refused: no builder or image could carry both', () => {
    expect(
      inputError({ 'image-incomplete-tag': 'packer-build=incomplete', tags: 'packer-build=complete' }).message
    ).toBe(
      'Invalid input: image-incomplete-tag: "packer-build=incomplete" can never be found: tags requires packer-build=complete, ' +
        'which an image or builder still carrying packer-build=incomplete does not have. ' +
        'The tag the template sets in run_tags is on the builder and on the interrupted image: give a tags line that matches it ' +
        '(e.g. packer-build=incomplete), or none on that key.'
    )
  })

  it.each(['packer-build=incomplete', 'packer-build=incompl*', 'packer-build=*', 'team=ci', 'Packer-Build=complete'])(
    'a tags line %j that matches it, or is on another key (case-sensitive), is allowed',
    (tags) => {
      expect(parse({ 'image-incomplete-tag': 'packer-build=incomplete', tags })['image-incomplete-tag']).toEqual({
        key: 'packer-build',
        value: 'incomplete'
      })
    }
  )

  it('is not checked against tags that did not parse, and its refusal is listed with the other problems', () => {
    expect(inputError({ 'image-incomplete-tag': 'packer-build=incomplete', tags: 'no-equals' }).message).not.toMatch(
      /image-incomplete-tag/
    )
    const lines = inputError({ 'image-incomplete-tag': 'x', action: 'terminte' })
      .message.split('\n')
      .map((line) => line.replace(/^\d+ invalid inputs: /, '').split(':')[0])
    expect(lines).toEqual(['action', 'image-incomplete-tag'])
  })
})

describe('delete-inherited-volumes: a boolean, false by default', () => {
  it('is false by default, and a boolean like the others', () => {
    expect(parse()['delete-inherited-volumes']).toBe(false)
    expect(parse({ 'delete-inherited-volumes': 'TRUE', action: 'terminate' })['delete-inherited-volumes']).toBe(true)
    expect(inputError({ 'delete-inherited-volumes': 'yes' }).message).toBe(
      'Invalid input: delete-inherited-volumes: "yes" is not a boolean. Use true or false.'
    )
  })

  it.each(['notify', 'stop'])(
    'true with action %s is allowed (a workflow may switch the action) but warned about: only terminate deletes volumes',
    (action) => {
      const warnings: string[] = []
      expect(parse({ 'delete-inherited-volumes': 'true', action }, warnings)['delete-inherited-volumes']).toBe(true)
      expect(warnings).toEqual([
        `delete-inherited-volumes: "true" has no effect with action ${action}: volumes are deleted only once the sweep ` +
          'has terminated their builder, so only with action terminate. They are reported.'
      ])
    }
  )

  it('true with action terminate, or false with any action: no warning', () => {
    const warnings: string[] = []
    parse({ 'delete-inherited-volumes': 'true', action: 'terminate' }, warnings)
    parse({ 'delete-inherited-volumes': 'false', action: 'notify' }, warnings)
    expect(warnings).toEqual([])
  })
})

describe('checks against the selected resources', () => {
  it('image-incomplete-tag set while resources does not select images is refused', () => {
    expect(
      inputError({ resources: 'instances,key-pairs', 'image-incomplete-tag': 'packer-build=incomplete' }).message
    ).toContain(
      'image-incomplete-tag: "packer-build=incomplete" is set but resources does not select images, so it would do nothing. ' +
        'Add images to resources (or use all), or leave image-incomplete-tag empty.'
    )
    expect(
      parse({ resources: 'instances,images', 'image-incomplete-tag': 'packer-build=incomplete' })[
        'image-incomplete-tag'
      ]
    ).toEqual({ key: 'packer-build', value: 'incomplete' })
    expect(parse({ resources: 'all', 'image-incomplete-tag': 'packer-build=incomplete' }).resources).toContain('images')
    expect(parse({ resources: 'instances' })['image-incomplete-tag']).toBeUndefined()
  })

  it('delete-inherited-volumes true while resources does not select volumes is refused', () => {
    expect(
      inputError({ resources: 'instances', 'delete-inherited-volumes': 'true', action: 'terminate' }).message
    ).toContain(
      'delete-inherited-volumes: "true" is set but resources does not select volumes, so it would do nothing. ' +
        'Add volumes to resources (or use all), or leave delete-inherited-volumes false.'
    )
    expect(
      parse({ resources: 'instances,volumes', 'delete-inherited-volumes': 'true', action: 'terminate' })[
        'delete-inherited-volumes'
      ]
    ).toBe(true)
    expect(parse({ resources: 'instances', 'delete-inherited-volumes': 'false' })['delete-inherited-volumes']).toBe(
      false
    )
  })
})

describe('kinds found through another kind', () => {
  it('refuses volumes without instances, naming both and why', () => {
    expect(inputError({ resources: 'volumes' }).message).toBe(
      'Invalid input: resources: "volumes" selects volumes without instances: a builder’s kept volumes are found through the builders the sweep surveys. Add instances.'
    )
    expect(inputError({ resources: 'images, volumes' }).message).toMatch(/selects volumes without instances/)
    expect(parse({ resources: 'instances,volumes' }).resources).toEqual(['instances', 'volumes'])
    expect(parse({ resources: 'images' }).resources).toEqual(['images'])
  })
})
