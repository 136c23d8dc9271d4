/**
 * The account and builder network the AWS fakes and the IAM checks share. A module of its own so that the IAM
 * helpers (iam-policy.ts, ci-policy.ts) read them without loading fake-aws.ts and with it three AWS SDK clients and
 * aws-sdk-client-mock (about half a second of every suite that only evaluates policies).
 */
export const ACCOUNT = '123456789012';
/** What the fake's builder parameters hold: the security group and subnets of the image-cache-builder stack. */
export const BUILDER_SECURITY_GROUP_ID = 'sg-0123456789abcdef0';
export const BUILDER_SUBNET_IDS = ['subnet-0a', 'subnet-0b'];
