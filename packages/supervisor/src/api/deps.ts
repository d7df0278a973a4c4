import type { ContainerEngine, ImageService, VolumeService } from '../engine.js';
import type { Lifecycle } from '../lifecycle.js';
import type { NetworkService } from '../networks.js';

/** What the API layer drives. */
export interface ApiDeps {
  lifecycle: Lifecycle;
  images: ImageService;
  volumes: VolumeService;
  /** berth's root directory (shown in /info, used to find log files). */
  root: string;
  /** The launcher, for what reaches into containers' files (archive, changes, export). */
  engine?: ContainerEngine;
  /** `/networks` (absent: those endpoints answer 501). */
  networks?: NetworkService;
}
