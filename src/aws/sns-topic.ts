/** SNS topic ARNs: what the input accepts and where a topic is published to. */

const TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:([a-z]+(?:-[a-z]+)+-\d+):\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/

/** `arn:<partition>:sns:<region>:<account>:<name>`, in any partition (aws, aws-cn, aws-us-gov, …). */
export function isTopicArn(value: string): boolean {
  return TOPIC_ARN.test(value)
}

/** The region a topic lives in, where it must be published to. */
export function topicRegion(arn: string): string {
  const region = TOPIC_ARN.exec(arn)?.[1]
  if (!region)
    throw new Error(`sns-topic-arn: "${arn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`)
  return region
}
