import type { Principal, Scope } from './principal.ts';
import type { VideoStatus, Visibility } from './video.ts';

/**
 * The one place that decides what a caller may do. Handlers and services ask; they never compare
 * roles or owner ids themselves.
 *
 * Roles: admin may do anything to any video; a creator uploads and manages their own videos; a viewer
 * (and anyone anonymous) reads public and unlisted videos. Scopes narrow a credential further: a token
 * or API key that carries scopes may do only what they name, on top of what its role allows.
 *
 * Seeing comes before acting: a caller who may not see a video gets "not found" for every operation
 * on it, so a private video's existence never leaks; one who may see it but not change it is refused.
 */
export interface VideoFacts {
  ownerId: string;
  visibility: Visibility;
  status: VideoStatus;
  deleted: boolean;
}

export type VideoAction = 'read' | 'update' | 'delete';
export type Capability =
  | 'upload'
  | 'list-own'
  | 'read-audit'
  | 'manage-api-keys'
  | 'read-webhooks'
  | 'manage-webhooks';

const scopeFor: Record<VideoAction | Capability, Scope | null> = {
  read: 'videos:read',
  'list-own': 'videos:read',
  update: 'videos:write',
  delete: 'videos:write',
  upload: 'uploads:write',
  'read-audit': null,
  'manage-api-keys': null,
  'read-webhooks': 'videos:read',
  'manage-webhooks': 'videos:write',
};

export function hasScope(principal: Principal, action: VideoAction | Capability): boolean {
  const needed = scopeFor[action];
  return needed === null || principal.scopes === null || principal.scopes.includes(needed);
}

const isAdmin = (principal: Principal | null) => principal?.roles.includes('admin') ?? false;
const isOwner = (principal: Principal | null, video: VideoFacts) => principal?.userId === video.ownerId;

/**
 * Whether the caller may know this video exists. A deleted video is gone for everyone. Others see a
 * public or unlisted video once it is ready; until then (and always for private ones) only its owner
 * and admins do. A credential without `videos:read` sees only what an anonymous caller would.
 */
export function canSee(principal: Principal | null, video: VideoFacts): boolean {
  if (video.deleted) return false;
  const reader = principal && hasScope(principal, 'read') ? principal : null;
  if (isAdmin(reader) || isOwner(reader, video)) return true;
  return video.visibility !== 'private' && video.status === 'ready';
}

/** Whether the caller may change or delete a video it can see. */
export function canModify(
  principal: Principal | null,
  video: VideoFacts,
  action: 'update' | 'delete',
): boolean {
  if (!principal || !hasScope(principal, action)) return false;
  if (isAdmin(principal)) return true;
  return isOwner(principal, video) && principal.roles.includes('creator');
}

/** Capabilities that are not about one video. */
export function can(principal: Principal | null, capability: Capability): boolean {
  if (!principal || !hasScope(principal, capability)) return false;
  switch (capability) {
    case 'upload':
      return principal.roles.includes('creator') || isAdmin(principal);
    case 'list-own':
      return true;
    case 'read-audit':
      return isAdmin(principal);
    case 'manage-api-keys':
    // Webhook endpoints carry events of the caller's own videos (an admin's: of every video).
    case 'read-webhooks':
    case 'manage-webhooks':
      return principal.roles.includes('creator') || isAdmin(principal);
  }
}
