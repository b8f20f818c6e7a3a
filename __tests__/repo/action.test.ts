/**
 * The top fields of action.yml that the GitHub Marketplace reads: a description short enough to be
 * accepted and shown whole, a real author (the LICENSE's copyright holder), and a branding icon and
 * colour from the sets GitHub allows. A value outside them makes the release page refuse to publish
 * the action, which otherwise shows only when someone tries.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'

import { ROOT } from '../../scripts/readme-tables.js'

interface ActionTop {
  name?: unknown
  description?: unknown
  author?: unknown
  branding?: { icon?: unknown; color?: unknown }
}

const action = parse(readFileSync(resolve(ROOT, 'action.yml'), 'utf8')) as ActionTop
const license = readFileSync(resolve(ROOT, 'LICENSE'), 'utf8')

/** The Marketplace accepts a description under 125 characters. */
const MAX_DESCRIPTION = 124

/** branding.color: GitHub's documented colours (metadata syntax for GitHub Actions, "branding.color"). */
const BRANDING_COLORS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'] as const

/**
 * branding.icon: the Feather icons GitHub's metadata syntax lists (Feather v4.28.0 without the brand
 * icons and a few others), the same list actionlint checks action metadata against.
 */
const BRANDING_ICONS: readonly string[] = `
  activity airplay alert-circle alert-octagon alert-triangle align-center align-justify align-left align-right
  anchor aperture archive arrow-down-circle arrow-down-left arrow-down-right arrow-down arrow-left-circle
  arrow-left arrow-right-circle arrow-right arrow-up-circle arrow-up-left arrow-up-right arrow-up at-sign award
  bar-chart-2 bar-chart battery-charging battery bell-off bell bluetooth bold book-open book bookmark box
  briefcase calendar camera-off camera cast check-circle check-square check chevron-down chevron-left
  chevron-right chevron-up chevrons-down chevrons-left chevrons-right chevrons-up circle clipboard clock
  cloud-drizzle cloud-lightning cloud-off cloud-rain cloud-snow cloud code command compass copy corner-down-left
  corner-down-right corner-left-down corner-left-up corner-right-down corner-right-up corner-up-left
  corner-up-right cpu credit-card crop crosshair database delete disc dollar-sign download-cloud download
  droplet edit-2 edit-3 edit external-link eye-off eye fast-forward feather file-minus file-plus file-text file
  film filter flag folder-minus folder-plus folder gift git-branch git-commit git-merge git-pull-request globe
  grid hard-drive hash headphones heart help-circle home image inbox info italic layers layout life-buoy link-2
  link list loader lock log-in log-out mail map-pin map maximize-2 maximize menu message-circle message-square
  mic-off mic minimize-2 minimize minus-circle minus-square minus monitor moon more-horizontal more-vertical
  move music navigation-2 navigation octagon package paperclip pause-circle pause percent phone-call
  phone-forwarded phone-incoming phone-missed phone-off phone-outgoing phone pie-chart play-circle play
  plus-circle plus-square plus pocket power printer radio refresh-ccw refresh-cw repeat rewind rotate-ccw
  rotate-cw rss save scissors search send server settings share-2 share shield-off shield shopping-bag
  shopping-cart shuffle sidebar skip-back skip-forward slash sliders smartphone speaker square star stop-circle
  sun sunrise sunset tablet tag target terminal thermometer thumbs-down thumbs-up toggle-left toggle-right
  trash-2 trash trending-down trending-up triangle truck tv type umbrella underline unlock upload-cloud upload
  user-check user-minus user-plus user-x user users video-off video voicemail volume-1 volume-2 volume-x volume
  watch wifi-off wifi wind x-circle x-square x zap-off zap zoom-in zoom-out
`
  .trim()
  .split(/\s+/)

describe('action.yml for the GitHub Marketplace', () => {
  it('has a name and a one-line description under 125 characters', () => {
    expect(action.name).toBe('packer-sweeper')
    expect(typeof action.description).toBe('string')
    const description = String(action.description)
    expect(description).not.toMatch(/\n/)
    expect(description.trim()).toBe(description)
    expect(description.length).toBeGreaterThan(20)
    expect(description.length).toBeLessThanOrEqual(MAX_DESCRIPTION)
  })

  it("names the LICENSE's copyright holder as its author", () => {
    const holder = /^Copyright \(c\) \d{4}(?:-\d{4})? (.+)$/m.exec(license)?.[1]?.trim()
    expect(holder).toBeTruthy()
    expect(action.author).toBe(holder)
    // The action's own name is not an author.
    expect(action.author).not.toBe(action.name)
  })

  it('brands itself with an icon and a colour GitHub accepts', () => {
    expect(action.branding).toEqual({ icon: expect.any(String), color: expect.any(String) })
    expect(BRANDING_ICONS).toContain(action.branding?.icon)
    expect(BRANDING_COLORS).toContain(action.branding?.color)
  })

  it('knows the allowed sets well enough to refuse what GitHub refuses', () => {
    // Brand icons were dropped from the set; a colour outside the list is refused.
    for (const refused of ['github', 'slack', 'twitter', 'trash-3']) expect(BRANDING_ICONS).not.toContain(refused)
    for (const refused of ['pink', 'grey-dark', 'gray']) expect(BRANDING_COLORS).not.toContain(refused)
    expect(new Set(BRANDING_ICONS).size).toBe(BRANDING_ICONS.length)
  })
})
