import type { LayerStoreErrorCode } from '../errors.js';
import type { UnpackedLayer } from '../layer-apply.js';

/** What a worker is asked to do with the bytes it is sent. */
export type WorkerTask =
  | { kind: 'layer'; dest: string; what: string; expectDigest?: string; keepBlobAt?: string }
  /** `file`: the worker reads the archive itself (no chunks are sent), telling `progress` when asked. */
  | { kind: 'ingest'; mode: 'archive' | 'rootfs' | 'auto'; layersDir: string; workDir: string; file?: string; progress?: boolean };

/** An archive's files as they cross back from the worker (structured clone: no classes, no Buffers). */
export interface SerializedIngest {
  format: 'archive' | 'rootfs';
  staged?: { tmp: string; layer: UnpackedLayer };
  files?: ({ kind: 'layer'; name: string; staged: { tmp: string; layer: UnpackedLayer } } | { kind: 'data'; name: string; digest: string; size: number; bytes?: Uint8Array; path?: string })[];
  links?: [string, string][];
  made: string[];
}

export type FromWorker =
  | { type: 'ack' }
  /** Bytes of its file a task has read (tasks with `file` and `progress`). */
  | { type: 'progress'; done: number }
  | { type: 'done'; result: UnpackedLayer | SerializedIngest }
  | { type: 'error'; error: { name: string; code?: LayerStoreErrorCode; message: string }; made?: string[] };

export type ToWorker = { type: 'task'; task: WorkerTask } | { type: 'chunk'; chunk: Uint8Array } | { type: 'end' };
