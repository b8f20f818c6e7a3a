import { DeleteLaunchTemplateCommand, paginateDescribeLaunchTemplates } from '@aws-sdk/client-ec2'
import { PERMISSION } from '../permissions.js'
import { describing } from './describe-error.js'
import { BY_LAUNCH_TEMPLATE, instanceUsageOf } from './instance-usage.js'
import type { OrphanKindSweeper } from './kind.js'
import { tagMap } from '../aws-data.js'
import { tagFilters } from './kind.js'
import type { Candidate } from './model.js'
import { matchesAnyPattern, matchesTags } from './rules.js'

/** The launch template a Packer spot build creates for its CreateFleet call. */
export const LAUNCH_TEMPLATE_NAME_PATTERN = 'packer-fleet-launch-template-*'

/**
 * Spot builds' launch templates. The `tags` input applies to them as to every other kind, so a
 * run scoped to one workflow run's tags only touches templates carrying those tags too.
 * Use is read from the `aws:ec2launchtemplate:id` tag EC2 puts on the fleet's instances: an
 * instant fleet keeps no state of its own once its instances are launched.
 */
export const launchTemplateSweeper: OrphanKindSweeper = {
  kind: 'launch-templates',

  async discover(client, inputs, abortSignal) {
    const filters = [{ Name: 'launch-template-name', Values: [LAUNCH_TEMPLATE_NAME_PATTERN] }, ...tagFilters(inputs)]
    const found: Candidate[] = []
    await describing(PERMISSION.describeLaunchTemplates, async () => {
      for await (const page of paginateDescribeLaunchTemplates({ client }, { Filters: filters, MaxResults: 200 }, { abortSignal })) {
        for (const template of page.LaunchTemplates ?? []) {
          if (!template.LaunchTemplateId || !template.LaunchTemplateName) continue
          const candidate: Candidate = {
            kind: 'launch-templates',
            id: template.LaunchTemplateId,
            name: template.LaunchTemplateName,
            tags: tagMap(template.Tags)
          }
          if (template.CreateTime) candidate.createTime = template.CreateTime
          if (matchesAnyPattern(candidate.name, [LAUNCH_TEMPLATE_NAME_PATTERN]) && matchesTags(candidate.tags, inputs.tags)) {
            found.push(candidate)
          }
        }
      }
    })
    return found
  },

  findUsage: instanceUsageOf(BY_LAUNCH_TEMPLATE),

  recheckBeforeDelete: true,

  async remove(client, candidate, dryRun, abortSignal) {
    await client.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: candidate.id, DryRun: dryRun }), { abortSignal })
  },

  removePermission: PERMISSION.deleteLaunchTemplate,
  alreadyGoneCodes: ['InvalidLaunchTemplateId.NotFound', 'InvalidLaunchTemplateName.NotFoundException']
}
