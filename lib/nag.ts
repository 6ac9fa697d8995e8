import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The resource string cdk-nag names in a finding (`AwsSolutions-IAM5[Resource::<this>]`), so an
 * acknowledgement can name exactly the resource it is for: `value` resolved in its stack, then its
 * CloudFormation intrinsics flattened the way cdk-nag flattens them (Ref and GetAtt in angle brackets,
 * Join joined, Sub's `${...}` as `<...>`, ImportValue unwrapped).
 */
export function nagResource(scope: IConstruct, value: string): string {
  return flatten(Stack.of(scope).resolve(value));
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const intrinsic = node as Record<string, unknown>;
  if (intrinsic['Fn::Join']) {
    const [delimiter, items] = intrinsic['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (intrinsic['Fn::Sub']) return flatten(intrinsic['Fn::Sub']);
  if (intrinsic['Fn::GetAtt']) {
    const [resource, attribute] = intrinsic['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (intrinsic['Fn::ImportValue']) return flatten(intrinsic['Fn::ImportValue']);
  if (intrinsic.Ref) return `<${flatten(intrinsic.Ref)}>`;
  return JSON.stringify(node);
}
