/** The runner-log reader: which lines of stdout the GitHub runner would execute as commands. */
import { describe, expect, it } from '@jest/globals'
import { runnerLines, workflowCommands } from './runner-log.js'

const names = (stdout: string) => workflowCommands(stdout).map((c) => c.command)

describe('runnerLines', () => {
  it('ends lines at LF, CR and CRLF (one ending), with no empty line after a final break', () => {
    expect(runnerLines('a\nb\rc\r\nd')).toEqual(['a', 'b', 'c', 'd'])
    expect(runnerLines('a\r\rb\n\n')).toEqual(['a', '', 'b', ''])
    expect(runnerLines('')).toEqual([])
  })
})

describe('workflowCommands', () => {
  it('parses the name, properties and data', () => {
    expect(workflowCommands('::error title=x,file=a%2Cb.ts::msg%0Anext')).toEqual([
      {
        command: 'error',
        raw: '::error title=x,file=a%2Cb.ts::msg%0Anext',
        data: 'msg\nnext',
        properties: { title: 'x', file: 'a,b.ts' },
        line: 0,
        syntax: '::'
      }
    ])
    expect(
      names(
        '::group::Sweep\n::add-mask::x\n::set-output name=x::y\n::warning::w\n::notice::n\n::debug::d\n::endgroup::'
      )
    ).toEqual(['group', 'add-mask', 'set-output', 'warning', 'notice', 'debug', 'endgroup'])
  })

  it('a CR alone, a CRLF or an LF in the middle of a printed value starts a command line', () => {
    expect(names('name: cr\r::error::pwned')).toEqual(['error'])
    expect(names('name: crlf\r\n::warning::pwned')).toEqual(['warning'])
    expect(workflowCommands('x\n::notice::n\ny').map((c) => [c.command, c.line])).toEqual([['notice', 1]])
  })

  it('after leading whitespace only, with a registered name and a closing ::', () => {
    expect(names('  \t::error::indented')).toEqual(['error'])
    expect(names('\u00a0\u2003::error::unicode spaces')).toEqual(['error'])
    expect(names('\ufeff::error::BOM is not whitespace to .NET')).toEqual([])
    expect(names('name ::error::mid-line')).toEqual([])
    expect(names('::error without a closing pair')).toEqual([])
    expect(names('::pwned::not a command')).toEqual([])
    expect(names('%0A::warning::x')).toEqual([])
    expect(names('::ERROR::case does not matter')).toEqual(['error'])
  })

  it('the legacy ##[ syntax counts anywhere in the line', () => {
    expect(workflowCommands('name ##[error]legacy%5D')).toMatchObject([
      { command: 'error', data: 'legacy]', syntax: '##[' }
    ])
    expect(names('##[unknown]x')).toEqual([])
  })

  it('stop-commands pauses until its own token, then commands count again', () => {
    const out = [
      '::stop-commands::abc',
      '::error::ignored',
      '::wrong::',
      '::abd::',
      '::error::still ignored',
      '::abc::',
      '::warning::counts again',
      'text',
      '::error::and again'
    ].join('\n')
    expect(workflowCommands(out).map((c) => [c.command, c.line, c.resumes ?? false])).toEqual([
      ['stop-commands', 0, false],
      ['abc', 5, true],
      ['warning', 6, false],
      ['error', 8, false]
    ])
  })

  it('a wrong token never resumes; the right one resumes as the runner parses it (case, trailing data, spaces)', () => {
    expect(names('::stop-commands::tok\n::tok2::\n::error::x')).toEqual(['stop-commands'])
    expect(names('::stop-commands::tok\n  ::TOK::trailing\n::error::x')).toEqual(['stop-commands', 'tok', 'error'])
    expect(names('::stop-commands::tok\n##[tok]\n::error::x')).toEqual(['stop-commands', 'tok', 'error'])
    // An empty token cannot be resumed.
    expect(names('::stop-commands::\n::::\n::error::x')).toEqual(['stop-commands'])
    // After resuming, the token is no longer a command.
    expect(names('::stop-commands::tok\n::tok::\n::tok::')).toEqual(['stop-commands', 'tok'])
  })

  it('a value that itself says stop-commands pauses the runner', () => {
    expect(names('key: packer_\n::stop-commands::abc\n::error::hidden\n::abc::\n::error::seen')).toEqual([
      'stop-commands',
      'abc',
      'error'
    ])
  })
})
