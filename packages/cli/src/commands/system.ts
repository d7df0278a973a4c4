import { cliVersion } from '../version.js';
import type { Context } from '../context.js';
import { humanSize } from '../format/size.js';
import { formatTable } from '../format/table.js';
import { timeAgo } from '../format/duration.js';
import { psCommand, shortId } from '../format/text.js';
import { splitReference } from '../format/images.js';

interface DiskUsage {
  LayersSize?: number;
  Images?: { Id: string; RepoTags?: string[] | null; Created?: number; Size?: number; SharedSize?: number; Containers?: number }[] | null;
  Containers?: { Id: string; Image?: string; Command?: string; Created?: number; Status?: string; State?: string; Names?: string[]; SizeRw?: number; Mounts?: unknown[] | null }[] | null;
  Volumes?: { Name: string; UsageData?: { Size?: number; RefCount?: number } | null }[] | null;
}

function reclaimable(size: number, total: number): string {
  return total > 0 ? `${humanSize(size, 3)} (${Math.floor((size * 100) / total)}%)` : humanSize(size, 3);
}

/** `GET /system/df`, summarised as docker's TYPE/TOTAL/ACTIVE/SIZE/RECLAIMABLE table. */
export async function systemDf(ctx: Context, opts: { verbose?: boolean }): Promise<number> {
  const client = await ctx.client();
  const df = await client.json<DiskUsage>('GET', '/system/df');
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const imageSize = df.LayersSize ?? images.reduce((s, i) => s + (i.Size ?? 0), 0);
  const activeImages = images.filter((i) => (i.Containers ?? 0) > 0);
  const containerSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const volumeSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const unusedVolumes = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0);
  const unusedVolumeSize = unusedVolumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const unusedImageSize = imageSize - activeImages.reduce((s, i) => s + (i.Size ?? 0), 0);
  if (opts.verbose !== true) {
    ctx.out.write(formatTable(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], [
      ['Images', String(images.length), String(activeImages.length), humanSize(imageSize, 3), reclaimable(Math.max(0, unusedImageSize), imageSize)],
      ['Containers', String(containers.length), String(containers.filter((c) => c.State === 'running').length), humanSize(containerSize, 3), humanSize(0, 3)],
      ['Local Volumes', String(volumes.length), String(volumes.length - unusedVolumes.length), humanSize(volumeSize, 3), reclaimable(unusedVolumeSize, volumeSize)],
      ['Build Cache', '0', '0', '0B', '0B'],
    ]));
    return 0;
  }
  ctx.out.write('Images space usage:\n\n');
  ctx.out.write(formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'], images.flatMap((i) => {
    const tags = (i.RepoTags ?? []).length > 0 ? (i.RepoTags ?? []).map(splitReference) : [['<none>', '<none>'] as [string, string]];
    return tags.map(([repo, tag]) => [repo, tag, shortId(i.Id), timeAgo(i.Created ?? 0), humanSize(i.Size ?? 0, 3), humanSize(i.SharedSize ?? 0, 3), humanSize((i.Size ?? 0) - (i.SharedSize ?? 0), 3), String(i.Containers ?? 0)]);
  })));
  ctx.out.write('\nContainers space usage:\n\n');
  ctx.out.write(formatTable(['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'], containers.map((c) => [
    shortId(c.Id), c.Image ?? '', psCommand(c.Command ?? ''), String((c.Mounts ?? []).length), humanSize(c.SizeRw ?? 0, 3), timeAgo(c.Created ?? 0), c.Status ?? '', (c.Names ?? []).map((n) => n.replace(/^\//, '')).join(','),
  ])));
  ctx.out.write('\nLocal Volumes space usage:\n\n');
  ctx.out.write(formatTable(['VOLUME NAME', 'LINKS', 'SIZE'], volumes.map((v) => [v.Name, String(v.UsageData?.RefCount ?? 0), humanSize(Math.max(0, v.UsageData?.Size ?? 0), 3)])));
  return 0;
}

export async function version(ctx: Context): Promise<number> {
  ctx.out.write(`Client:\n Version:     ${cliVersion()}\n Node:        ${process.version}\n OS/Arch:     ${process.platform}/${process.arch}\n\n`);
  const client = await ctx.client();
  const server = await client.json<Record<string, unknown>>('GET', '/version');
  ctx.out.write(`Server:\n Version:     ${String(server['Version'] ?? '')}\n API version: ${String(server['ApiVersion'] ?? '')} (minimum version ${String(server['MinAPIVersion'] ?? '')})\n OS/Arch:     ${String(server['Os'] ?? '')}/${String(server['Arch'] ?? '')}\n`);
  return 0;
}

export async function info(ctx: Context): Promise<number> {
  const client = await ctx.client();
  const i = await client.json<Record<string, unknown>>('GET', '/info');
  const field = (k: string): string => String(i[k] ?? '');
  ctx.out.write([
    'Server:',
    ` Containers: ${field('Containers')}`,
    `  Running: ${field('ContainersRunning')}`,
    `  Stopped: ${field('ContainersStopped')}`,
    ` Images: ${field('Images')}`,
    ` Server Version: ${field('ServerVersion')}`,
    ` Storage Driver: ${field('Driver')}`,
    ` Cgroup Version: ${field('CgroupVersion')}`,
    ` Kernel Version: ${field('KernelVersion')}`,
    ` Operating System: ${field('OperatingSystem')}`,
    ` CPUs: ${field('NCPU')}`,
    ` Total Memory: ${humanSize(Number(i['MemTotal'] ?? 0), 3)}`,
    ` Name: ${field('Name')}`,
    ` Docker Root Dir: ${field('DockerRootDir')}`,
    ` Berth socket: unix://${ctx.socketPath}`,
    '',
  ].join('\n'));
  return 0;
}
